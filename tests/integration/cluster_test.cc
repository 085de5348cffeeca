// Nodes started with a cluster map: identity from the map, grpc.health.v1
// and server reflection on every node.
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <unistd.h>
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;

// A map of `n` nodes on free loopback ports, zones a, b, a, ...
std::string WriteMap(const fs::path& path, int n, int version, int r, std::vector<int>* ports) {
  std::string nodes;
  for (int i = 0; i < n; ++i) {
    ports->push_back(FreePort());
    absl::StrAppend(&nodes, i ? "," : "", R"({"id": "n)", i + 1, R"(", "address": "127.0.0.1:)",
                    ports->back(), R"(", "zone": ")", i % 2 ? "b" : "a", "\"}");
  }
  std::ofstream(path) << absl::StrCat(R"({"version": )", version, R"(, "replication_factor": )", r,
                                      R"(, "nodes": [)", nodes, "]}");
  return path.string();
}

// One unary call by method name, with a raw (serialized) request.
grpc::Status RawCall(const std::string& address, const std::string& method,
                     const std::string& request, std::string* response) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Slice slice(request);
  grpc::ByteBuffer req(&slice, 1), resp;
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp, [&](grpc::Status s) {
    std::lock_guard<std::mutex> l(mu);
    status = s;
    done = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return done; });
  std::vector<grpc::Slice> slices;
  resp.Dump(&slices);
  response->clear();
  for (const grpc::Slice& s : slices) response->append(reinterpret_cast<const char*>(s.begin()), s.size());
  return status;
}

// The first response of a bidi-streaming call that gets one request.
std::string RawBidiFirst(const std::string& address, const std::string& method,
                         const std::string& request) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&ctx, method, &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  grpc::Slice slice(request);
  grpc::ByteBuffer req(&slice, 1), resp;
  call->Write(req, reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  call->Read(&resp, reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  std::string out;
  if (ok) {
    std::vector<grpc::Slice> slices;
    resp.Dump(&slices);
    for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  ctx.TryCancel();
  grpc::Status st;
  call->Finish(&st, reinterpret_cast<void*>(4));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(4)) {
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return out;
}

TEST(ClusterNodeTest, NodeTakesItsIdentityFromTheMap) {
  TempDir dir;
  std::vector<int> ports;
  std::string map = WriteMap(dir / "map.json", 3, 7, 2, &ports);
  NodeProcess n2(dir / "n2", {"--cluster", map, "--node-id", "n2"});
  ASSERT_TRUE(n2.Start()) << n2.Log();
  auto st = CustodyClient::Connect(n2.address())->NodeStatus();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->node_id(), "n2");
  EXPECT_EQ(st->map_version(), 7u);
  EXPECT_EQ(st->zone(), "b");
  EXPECT_EQ(st->replication_factor(), 2u);
  n2.Kill(SIGTERM);
  // The folder now belongs to n2: it will not start as n1.
  Subprocess as_n1({CUSTODYD_PATH, "--data", dir / "n2", "--listen", "127.0.0.1:0", "--cluster",
                    map, "--node-id", "n1"},
                   dir / "n1.out", dir / "n1.err");
  EXPECT_EQ(as_n1.Wait(), 1);
  EXPECT_NE(ReadFile(dir / "n1.err").find("belongs to node n2, not n1"), std::string::npos)
      << ReadFile(dir / "n1.err");
  Subprocess stranger({CUSTODYD_PATH, "--data", dir / "n9", "--cluster", map, "--node-id", "n9"},
                      dir / "n9.out", dir / "n9.err");
  EXPECT_EQ(stranger.Wait(), 1);
  EXPECT_NE(ReadFile(dir / "n9.err").find("node id n9 is not in the cluster map"),
            std::string::npos);
}

TEST(ClusterNodeTest, EveryNodeAnswersHealthChecksAndReflection) {
  TempDir dir;
  NodeProcess node(dir / "data");
  ASSERT_TRUE(node.Start()) << node.Log();
  std::string resp;
  // grpc.health.v1.HealthCheckRequest{service: ""} is empty; SERVING is status = 1.
  grpc::Status s = RawCall(node.address(), "/grpc.health.v1.Health/Check", "", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp, std::string("\x08\x01", 2));
  // ServerReflectionRequest{list_services: ""} (field 7).
  std::string listing = RawBidiFirst(
      node.address(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      std::string("\x3a\x00", 2));
  EXPECT_NE(listing.find("custody.v1.Custody"), std::string::npos);
  EXPECT_NE(listing.find("custody.v1.Audit"), std::string::npos);
}

TEST(NodeMetricsTest, MetricsCountBytesStreamsAndCorruptChunks) {
  TempDir dir;
  int port = FreePort();
  NodeProcess node(dir / "data", {"--metrics-listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(node.Start()) << node.Log();
  std::string file = dir / "clip.mp4";
  std::string id = WriteRandomFile(file, 3000000, 4);
  ASSERT_EQ(RunCli({"--server", node.address(), "put", file}).exit_code, 0);
  ASSERT_EQ(RunCli({"--server", node.address(), "get", id, "-o", dir / "back"}).exit_code, 0);
  std::string m = HttpGet(port, "/metrics");
  EXPECT_NE(m.find("custody_ingest_bytes_total 3000000\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_read_bytes_total 3000000\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_uploads_total{result=\"ok\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_upload_seconds_count 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_objects 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_corrupt_chunks_found_total 0\n"), std::string::npos) << m;
  EXPECT_EQ(HttpGet(port, "/other").find("custody_"), std::string::npos);

  // Flip a byte of the first chunk inside the volume: the read is refused and counted.
  std::string volume;
  for (const auto& e : fs::directory_iterator(dir / "data/volumes")) volume = e.path();
  int fd = open(volume.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char b = 0;
  ASSERT_EQ(pread(fd, &b, 1, 4096 + 4096 + 100), 1);
  b ^= 0x40;
  ASSERT_EQ(pwrite(fd, &b, 1, 4096 + 4096 + 100), 1);
  fsync(fd);
  close(fd);
  CliResult bad = RunCli({"--server", node.address(), "get", id, "-o", dir / "again"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("DATA_LOSS"), std::string::npos) << bad.err;
  m = HttpGet(port, "/metrics");
  EXPECT_NE(m.find("custody_corrupt_chunks_found_total 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_downloads_total{result=\"failed\"} 1\n"), std::string::npos) << m;
}

}  // namespace
}  // namespace custody::testing
