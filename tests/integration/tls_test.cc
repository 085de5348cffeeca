// TLS on every connection (issue 5): a cluster CA, node and user
// certificates, mutual TLS between nodes, and refusals of everything else.
#include "common/tls.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/time/clock.h"
#include "client/client.h"
#include "custody/internal/v1/replica.grpc.pb.h"
#include "custody/v1/custody.grpc.pb.h"
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
    ASSERT_EQ(RunCli({"ca", "issue", "--ca", dir_ / "ca", "--user", "alice", "--role", "archivist",
                      "-o", dir_ / "alice"})
                  .exit_code,
              0);
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
  CliResult get =
      RunCli({"--server", node.address(), "--tls", dir_ / "alice", "get", id, "-o", dir_ / "back"});
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
                    dir_ / "mallory"})
                .exit_code,
            0);
  fs::remove(dir_ / "mallory/ca.pem");
  fs::copy_file(dir_ / "ca/ca.pem", dir_ / "mallory/ca.pem");
  CliResult forged = RunCli({"--server", node.address(), "--tls", dir_ / "mallory", "status"});
  EXPECT_NE(forged.exit_code, 0);

  CliResult log = RunCli(
      {"--server", node.address(), "--tls", dir_ / "alice", "audit", "log", "node", "--json"});
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
    nodes.push_back(
        std::make_unique<NodeProcess>(dir_ / id,
                                      std::vector<std::string>{"--cluster", map_file, "--node-id",
                                                               id, "--tls", dir_ / ("tls-" + id)},
                                      ports[i]));
  }
  ASSERT_TRUE(nodes[0]->Start()) << nodes[0]->Log();
  ASSERT_TRUE(nodes[1]->Start()) << nodes[1]->Log();
  // n3 runs, but only a client of its own CA can reach it.
  ASSERT_EQ(RunCli({"ca", "issue", "--ca", dir_ / "other-ca", "--user", "eve", "--role",
                    "archivist", "-o", dir_ / "eve"})
                .exit_code,
            0);
  ASSERT_TRUE(CustodyClient::UseTls(dir_ / "eve").ok());
  ASSERT_TRUE(nodes[2]->Start()) << nodes[2]->Log();
  ASSERT_TRUE(CustodyClient::UseTls(dir_ / "alice").ok());
  // n1 and n2 replicate to each other over mutual TLS.
  std::string file = dir_ / "hearing.wav";
  WriteRandomFile(file, 100 << 10, 9);
  CliResult put =
      RunCli({"--server", nodes[0]->address(), "--tls", dir_ / "alice", "put", file, "--json"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(json::parse(put.out)["durable_replicas"], 2);
  CliResult st = RunCli(
      {"--server", nodes[0]->address(), "--tls", dir_ / "alice", "cluster", "status", "--json"});
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
    auto stub = internal::v1::Replica::NewStub(grpc::CreateChannel(
        nodes[0]->address(), TlsChannelCredentials(*TlsFiles::Load(dir_ / creds))));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    ctx.AddMetadata("custody-map-version", "1");
    ctx.AddMetadata("custody-node-id", claimed);
    internal::v1::FindMissingRequest req;
    req.set_kind(internal::v1::CHUNK);
    internal::v1::FindMissingResponse resp;
    return stub->FindMissing(&ctx, req, &resp).error_code();
  };
  EXPECT_EQ(call("tls-n2", "n2"), grpc::StatusCode::OK);
  EXPECT_EQ(call("tls-n2", "n1"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(call("alice", "n2"), grpc::StatusCode::PERMISSION_DENIED);
}

// The response to GET https://127.0.0.1:PORT/PATH, trusting `creds`' CA and
// presenting its certificate if it has one; "" if the connection fails.
std::string HttpsGet(int port, const std::string& path, const TlsFiles& creds) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  BIO* ca = BIO_new_mem_buf(creds.ca_pem.data(), static_cast<int>(creds.ca_pem.size()));
  X509* cax = PEM_read_bio_X509(ca, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), cax);
  X509_free(cax);
  BIO_free(ca);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (creds.has_certificate()) {
    BIO* c = BIO_new_mem_buf(creds.cert_pem.data(), static_cast<int>(creds.cert_pem.size()));
    X509* x = PEM_read_bio_X509(c, nullptr, nullptr, nullptr);
    BIO* k = BIO_new_mem_buf(creds.key_pem.data(), static_cast<int>(creds.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(k, nullptr, nullptr, nullptr);
    SSL_CTX_use_certificate(ctx.get(), x);
    SSL_CTX_use_PrivateKey(ctx.get(), key);
    X509_free(x);
    EVP_PKEY_free(key);
    BIO_free(c);
    BIO_free(k);
  }
  BIO* conn = BIO_new_ssl_connect(ctx.get());
  BIO_set_conn_hostname(conn, ("127.0.0.1:" + std::to_string(port)).c_str());
  std::string out;
  if (BIO_do_connect(conn) == 1 && BIO_do_handshake(conn) == 1) {
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    BIO_write(conn, req.data(), static_cast<int>(req.size()));
    char buf[4096];
    for (int n; (n = BIO_read(conn, buf, sizeof(buf))) > 0;) out.append(buf, n);
  }
  BIO_free_all(conn);
  return out;
}

TEST_F(TlsTest, MetricsOffLoopbackNeedTlsAndAClientCertificate) {
  // The metrics server hangs up on a refused handshake at once: the test's
  // write after it must fail with EPIPE, not kill the test.
  signal(SIGPIPE, SIG_IGN);
  IssueNode("ca", "n1");
  int port = FreePort();
  NodeProcess node(dir_ / "data", {"--tls", dir_ / "tls-n1", "--metrics-listen",
                                   "0.0.0.0:" + std::to_string(port)});
  ASSERT_TRUE(node.Start()) << node.Log();
  absl::StatusOr<TlsFiles> alice = TlsFiles::Load(dir_ / "alice");
  ASSERT_TRUE(alice.ok());
  EXPECT_NE(HttpsGet(port, "/metrics", *alice).find("custody_auth_throttled_total"),
            std::string::npos);
  EXPECT_EQ(HttpsGet(port, "/metrics", TlsFiles{alice->ca_pem, "", ""}), "");  // no certificate
  EXPECT_EQ(HttpGet(port, "/metrics"), "");                                    // no TLS
  // A node without TLS cannot serve metrics off loopback at all.
  Subprocess plain({CUSTODYD_PATH, "--data", dir_ / "d2", "--listen", "127.0.0.1:0",
                    "--insecure-loopback", "--metrics-listen", "0.0.0.0:0"},
                   dir_ / "out2", dir_ / "err2");
  EXPECT_NE(plain.Wait(), 0);
  EXPECT_NE(ReadFile(dir_ / "err2").find("not a loopback address"), std::string::npos)
      << ReadFile(dir_ / "err2");
  // Nor does the ingest daemon, which has no server certificate.
  Subprocess station({INGESTD_PATH, "--watch", dir_ / "station", "--server", node.address(),
                      "--metrics-listen", "0.0.0.0:0"},
                     dir_ / "out3", dir_ / "err3");
  EXPECT_NE(station.Wait(), 0);
  EXPECT_NE(ReadFile(dir_ / "err3").find("not a loopback address"), std::string::npos)
      << ReadFile(dir_ / "err3");
}

// Latencies of `n` calls of `call`, appended to `took`.
template <typename F>
void Time(int n, F call, std::vector<absl::Duration>* took) {
  for (int i = 0; i < n; ++i) {
    absl::Time start = absl::Now();
    call();
    took->push_back(absl::Now() - start);
  }
}

absl::Duration Median(std::vector<absl::Duration> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST_F(TlsTest, WrongTokensNeitherStarveAuthorizedCallsNorFloodTheAuditTrail) {
  IssueNode("ca", "n1");
  NodeProcess node(dir_ / "data", {"--tls", dir_ / "tls-n1"});
  ASSERT_TRUE(node.Start()) << node.Log();
  std::string file = dir_ / "hearing.mp4";
  std::string id = WriteRandomFile(file, 64 << 10, 7);
  ASSERT_EQ(RunCli({"--server", node.address(), "--tls", dir_ / "alice", "put", file}).exit_code,
            0);
  std::unique_ptr<CustodyClient> alice = CustodyClient::Connect(node.address());
  auto stat = [&] { ASSERT_TRUE(alice->Stat(id).ok()); };
  std::vector<absl::Duration> idle, hammered, warm_up;
  Time(10, stat, &warm_up);

  // 50 clients with the cluster's CA but no certificate, each on its own
  // connection, sending a wrong token every 20 ms (up to 2,500 calls a
  // second). Unpaced, 50 client threads in this process would take both of
  // a small machine's cores from the node and measure the scheduler.
  absl::StatusOr<TlsFiles> tls = TlsFiles::Load(dir_ / "alice");
  ASSERT_TRUE(tls.ok());
  TlsFiles ca_only{tls->ca_pem, "", ""};
  std::atomic<bool> stop{false}, paused{true};
  std::atomic<int> unauthenticated{0}, exhausted{0}, unavailable{0}, other{0};
  std::vector<std::thread> hostile;
  for (int c = 0; c < 50; ++c) {
    hostile.emplace_back([&, c] {
      grpc::ChannelArguments args;
      args.SetInt("custody-test-hostile-client", c);  // a connection of its own
      auto stub = v1::Custody::NewStub(grpc::CreateCustomChannel(
          node.address(),
          grpc::CompositeChannelCredentials(
              TlsChannelCredentials(ca_only),
              grpc::AccessTokenCredentials("cust_" + std::string(64, 'a' + c % 6))),
          args));
      while (!stop) {
        if (paused) {
          absl::SleepFor(absl::Milliseconds(5));
          continue;
        }
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::StatRequest req;
        req.set_id(id);
        v1::ObjectInfo info;
        grpc::StatusCode code = stub->Stat(&ctx, req, &info).error_code();
        if (code == grpc::StatusCode::UNAUTHENTICATED)
          ++unauthenticated;
        else if (code == grpc::StatusCode::RESOURCE_EXHAUSTED)
          ++exhausted;
        else if (code == grpc::StatusCode::UNAVAILABLE)
          ++unavailable;  // a handshake lost on a loaded machine: not served either
        else
          ++other;
        absl::SleepFor(absl::Milliseconds(20));
      }
    });
  }
  // Quiet and hammered rounds alternate, so that other load on the machine
  // weighs on both alike.
  for (int round = 0; round < 4; ++round) {
    paused = true;
    absl::SleepFor(absl::Milliseconds(200));
    Time(15, stat, &idle);
    paused = false;
    absl::SleepFor(absl::Milliseconds(500));
    Time(15, stat, &hammered);
  }
  stop = true;
  for (std::thread& t : hostile) t.join();
  double ratio = absl::FDivDuration(Median(hammered), Median(idle));
  std::cout << "authorized stat: idle " << Median(idle) << ", with 50 wrong-token clients "
            << Median(hammered) << " (x" << ratio << "); wrong-token calls: " << unauthenticated
            << " UNAUTHENTICATED, " << exhausted << " RESOURCE_EXHAUSTED, " << unavailable
            << " UNAVAILABLE, " << other << " other (OK would be a wrong token served)\n";
  // A latency ratio says something about the node only in an optimized
  // build; under ASan the 50 client threads of this process cost several
  // times more and take the cores (issue 22: 3x, a generous bound).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  std::cout << "(sanitizer build: the ratio is printed, not checked)\n";
#else
  EXPECT_LT(ratio, 3.0);
#endif
  EXPECT_EQ(other, 0);
  EXPECT_GT(exhausted, 100);       // refused at once, before any token is looked at
  EXPECT_LE(unauthenticated, 10);  // the budget (5), and one more per block

  // The audit trail has each failure within the budget and one line per
  // block, not a line per call.
  CliResult log = RunCli(
      {"--server", node.address(), "--tls", dir_ / "alice", "audit", "log", "node", "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  const json events = json::parse(log.out)["events"];
  int throttled = 0, refused = 0;
  for (const json& e : events) {
    throttled += e["action"] == "auth.throttled";
    refused += e["action"] == "access.refused";
  }
  EXPECT_GE(throttled, 1);
  EXPECT_EQ(refused, unauthenticated.load());
}

TEST(SecurityFlagsTest, PlaintextOnlyOnLoopbackAndOnlyWhenAskedFor) {
  TempDir dir;
  Subprocess bare({CUSTODYD_PATH, "--data", dir / "d1", "--listen", "127.0.0.1:0"}, dir / "out1",
                  dir / "err1");
  EXPECT_NE(bare.Wait(), 0);
  EXPECT_NE(ReadFile(dir / "err1").find("--tls"), std::string::npos) << ReadFile(dir / "err1");
  Subprocess wide(
      {CUSTODYD_PATH, "--data", dir / "d2", "--listen", "0.0.0.0:0", "--insecure-loopback"},
      dir / "out2", dir / "err2");
  EXPECT_NE(wide.Wait(), 0);
  EXPECT_NE(ReadFile(dir / "err2").find("not a loopback address"), std::string::npos)
      << ReadFile(dir / "err2");
}

}  // namespace
}  // namespace custody::testing
