#include "replication/offsite/offsite_client.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace custody {
namespace {

// A loopback port that was free a moment ago and has no listener now.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(OffsiteClientTest, ConnectToAPeerThatIsNotThereIsUnavailableAfterItsTimeout) {
  std::string addr = "127.0.0.1:" + std::to_string(ClosedPort());
  OffsiteClient c(addr, grpc::InsecureChannelCredentials(), 3);
  absl::Time start = absl::Now();
  absl::Status s = c.Connect(absl::Seconds(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find(addr), std::string::npos) << s;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(900));  // it waited, then gave up
}

// Every channel is up once Connect returns OK: the peer here is a bare gRPC
// server on loopback (a generic service that answers nothing: a connection
// needs no method).
TEST(OffsiteClientTest, ConnectBringsEveryChannelUp) {
  grpc::CallbackGenericService none;
  grpc::ServerBuilder b;
  b.RegisterCallbackGenericService(&none);
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  std::unique_ptr<grpc::Server> server = b.BuildAndStart();
  ASSERT_NE(server, nullptr);
  OffsiteClient c("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), 4);
  absl::Status s = c.Connect(absl::Seconds(20));
  EXPECT_TRUE(s.ok()) << s;
  server->Shutdown();
}

}  // namespace
}  // namespace custody
