// TLS on every connection (issue 5): a cluster CA, node and user
// certificates, mutual TLS between nodes, and refusals of everything else.
#include <grpcpp/grpcpp.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "client/client.h"
#include "common/tls.h"
#include "custody/v1/replica.grpc.pb.h"
#include "tests/integration/cluster_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunCli({"ca", "init", dir_ / "ca"}).exit_code, 0);
    ASSERT_EQ(RunCli({"ca", "init", dir_ / "other-ca", "--name", "other"}).exit_code, 0);
    ASSERT_EQ(RunCli({"ca", "issue", "--ca", dir_ / "ca", "--user", "alice", "--role",
                      "archivist", "-o", dir_ / "alice"}).exit_code, 0);
    // Client-side channels of this test process (NodeProcess::Start asks
    // NodeStatus) use alice's certificate.
    ASSERT_TRUE(CustodyClient::UseTls(dir_ / "alice").ok());
  }
  void TearDown() override { ASSERT_TRUE(CustodyClient::UseTls("").ok()); }

  void IssueNode(const std::string& ca, const std::string& id) {
    CliResult r = RunCli({"ca", "issue", "--ca", dir_ / ca, "--node", id, "--host", "127.0.0.1",
                          "-o", dir_ / ("tls-" + id)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  TempDir dir_;
};

TEST_F(TlsTest, ClientsNeedACertificateOfTheClusterCa) {
  IssueNode("ca", "n1");
  NodeProcess node(dir_ / "data", {"--tls", dir_ / "tls-n1"});
  ASSERT_TRUE(node.Start()) << node.Log();
  std::string file = dir_ / "interview.mp4";
  std::string id = WriteRandomFile(file, 300 << 10, 5);
  CliResult put = RunCli({"--server", node.address(), "--tls", dir_ / "alice", "put", file});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(put.out.substr(0, id.size()), id);
  // Reading footage needs more than a certificate: a grant (access_test.cc).
  CliResult get = RunCli({"--server", node.address(), "--tls", dir_ / "alice", "get", id, "-o",
                          dir_ / "back"});
  EXPECT_NE(get.exit_code, 0);
  EXPECT_NE(get.err.find("PERMISSION_DENIED"), std::string::npos) << get.err;

  // Plaintext to a TLS port fails.
  CliResult plain = RunCli({"--server", node.address(), "status"});
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_NE(plain.err.find("UNAVAILABLE"), std::string::npos) << plain.err;
  // TLS that trusts the CA but shows no certificate is refused, and audited.
  fs::create_directories(dir_ / "anonymous");
  fs::copy_file(dir_ / "ca/ca.pem", dir_ / "anonymous/ca.pem");
  CliResult anon = RunCli({"--server", node.address(), "--tls", dir_ / "anonymous", "status"});
  EXPECT_NE(anon.exit_code, 0);
  EXPECT_NE(anon.err.find("UNAUTHENTICATED"), std::string::npos) << anon.err;
  // A certificate from another CA does not even connect.
  ASSERT_EQ(RunCli({"ca", "issue", "--ca", dir_ / "other-ca", "--user", "mallory", "-o",
                    dir_ / "mallory"}).exit_code, 0);
  fs::remove(dir_ / "mallory/ca.pem");
  fs::copy_file(dir_ / "ca/ca.pem", dir_ / "mallory/ca.pem");
  CliResult forged = RunCli({"--server", node.address(), "--tls", dir_ / "mallory", "status"});
  EXPECT_NE(forged.exit_code, 0);

  CliResult log = RunCli({"--server", node.address(), "--tls", dir_ / "alice", "audit", "log",
                          "node", "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  json history = json::parse(log.out);
  int refused = 0;
  for (const auto& e : history["events"]) refused += e["action"] == "auth.refused";
  EXPECT_GE(refused, 1) << log.out;
}

TEST_F(TlsTest, NodeOfAnotherCaCannotJoinAndNodesProveWhoTheyAre) {
  for (const char* id : {"n1", "n2"}) IssueNode("ca", id);
  IssueNode("other-ca", "n3");
  std::vector<int> ports;
  std::string map_file = WriteMap(dir_ / "map.json", 3, 1, 2, &ports);
  std::vector<std::unique_ptr<NodeProcess>> nodes;
  for (int i = 0; i < 3; ++i) {
    std::string id = "n" + std::to_string(i + 1);
    nodes.push_back(std::make_unique<NodeProcess>(
        dir_ / id,
        std::vector<std::string>{"--cluster", map_file, "--node-id", id, "--tls", dir_ / ("tls-" + id)},
        ports[i]));
  }
  ASSERT_TRUE(nodes[0]->Start()) << nodes[0]->Log();
  ASSERT_TRUE(nodes[1]->Start()) << nodes[1]->Log();
  // n3 runs, but only a client of its own CA can reach it.
  ASSERT_EQ(RunCli({"ca", "issue", "--ca", dir_ / "other-ca", "--user", "eve", "--role",
                    "archivist", "-o", dir_ / "eve"}).exit_code, 0);
  ASSERT_TRUE(CustodyClient::UseTls(dir_ / "eve").ok());
  ASSERT_TRUE(nodes[2]->Start()) << nodes[2]->Log();
  ASSERT_TRUE(CustodyClient::UseTls(dir_ / "alice").ok());
  // n1 and n2 replicate to each other over mutual TLS.
  std::string file = dir_ / "hearing.wav";
  WriteRandomFile(file, 100 << 10, 9);
  CliResult put = RunCli({"--server", nodes[0]->address(), "--tls", dir_ / "alice", "put", file,
                          "--json"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(json::parse(put.out)["durable_replicas"], 2);
  CliResult st = RunCli({"--server", nodes[0]->address(), "--tls", dir_ / "alice", "cluster",
                         "status", "--json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  json status = json::parse(st.out);
  EXPECT_TRUE(status["nodes"][1]["up"].get<bool>()) << st.out;
  EXPECT_FALSE(status["nodes"][2]["up"].get<bool>()) << st.out;
  // And n3 cannot place anything on n1 or n2: its puts find too few nodes.
  CliResult lonely = RunCli({"--server", nodes[2]->address(), "--tls", dir_ / "eve", "put", file});
  EXPECT_NE(lonely.exit_code, 0);
  EXPECT_NE(lonely.err.find("UNAVAILABLE"), std::string::npos) << lonely.err;

  // A right-CA certificate that names another node, or a user's, is not a peer.
  auto call = [&](const std::string& creds, const std::string& claimed) {
    auto stub = v1::Replica::NewStub(grpc::CreateChannel(
        nodes[0]->address(), TlsChannelCredentials(*TlsFiles::Load(dir_ / creds))));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    ctx.AddMetadata("custody-map-version", "1");
    ctx.AddMetadata("custody-node-id", claimed);
    v1::FindMissingRequest req;
    req.set_kind(v1::CHUNK);
    v1::FindMissingResponse resp;
    return stub->FindMissing(&ctx, req, &resp).error_code();
  };
  EXPECT_EQ(call("tls-n2", "n2"), grpc::StatusCode::OK);
  EXPECT_EQ(call("tls-n2", "n1"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(call("alice", "n2"), grpc::StatusCode::PERMISSION_DENIED);
}

TEST(SecurityFlagsTest, PlaintextOnlyOnLoopbackAndOnlyWhenAskedFor) {
  TempDir dir;
  Subprocess bare({CUSTODYD_PATH, "--data", dir / "d1", "--listen", "127.0.0.1:0"},
                  dir / "out1", dir / "err1");
  EXPECT_NE(bare.Wait(), 0);
  EXPECT_NE(ReadFile(dir / "err1").find("--tls"), std::string::npos) << ReadFile(dir / "err1");
  Subprocess wide({CUSTODYD_PATH, "--data", dir / "d2", "--listen", "0.0.0.0:0",
                   "--insecure-loopback"},
                  dir / "out2", dir / "err2");
  EXPECT_NE(wide.Wait(), 0);
  EXPECT_NE(ReadFile(dir / "err2").find("not a loopback address"), std::string::npos)
      << ReadFile(dir / "err2");
}

}  // namespace
}  // namespace custody::testing
