// The fixture of the offsite tests (issue 7, issue 24): a TLS cluster of
// three real nodes, an offsite peer (custodyd --role offsite, certificate
// off1), and users admin, olga (officer of agency A), hank (archive-head),
// lena (leader of A) and aud (auditor).
#ifndef CUSTODY_TESTS_INTEGRATION_OFFSITE_FIXTURE_H_
#define CUSTODY_TESTS_INTEGRATION_OFFSITE_FIXTURE_H_

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "common/tls.h"
#include "custody/internal/v1/offsite_peer.grpc.pb.h"
#include "custody/v1/offsite.grpc.pb.h"
#include "tests/integration/cluster_util.h"
#include "tests/integration/process.h"

namespace custody::testing {

class OffsiteTest : public ::testing::Test {
 public:
  using json = nlohmann::json;

 protected:
  void SetUp() override {
    nodes_ = StartTlsCluster(dir_,
                             {{"admin", {"--role", "admin"}},
                              {"olga", {"--role", "officer", "--agency", "A"}},
                              {"hank", {"--role", "archive-head"}},
                              {"lena", {"--role", "leader", "--agency", "A"}},
                              {"aud", {"--role", "auditor"}}},
                             "aud", 3, {"--repair-interval", "1s"});
    ASSERT_EQ(nodes_.size(), 3u);
    CliResult cert = RunCli({"ca", "issue", "--ca", dir_ / "ca", "--node", "off1", "--host",
                             "127.0.0.1", "-o", dir_ / "tls-off1"});
    ASSERT_EQ(cert.exit_code, 0) << cert.err;
    peer_ = std::make_unique<NodeProcess>(
        dir_ / "offsite",
        std::vector<std::string>{"--role", "offsite", "--tls", dir_ / "tls-off1"});
    ASSERT_TRUE(peer_->Start()) << peer_->Log();
    WaitUntilPeersAreUp(nodes_, dir_ / "aud");
  }
  void TearDown() override { ASSERT_TRUE(CustodyClient::UseTls("").ok()); }

  CliResult As(const std::string& user, int n, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", nodes_[n]->address(), "--tls", dir_ / user});
    return RunCli(args);
  }
  json Ok(const std::string& user, int n, std::vector<std::string> args) {
    args.push_back("--json");
    CliResult r = As(user, n, args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err << r.out;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  // Stores a random file of `size` bytes as olga; returns its id.
  std::string Stored(uint64_t size) {
    std::string file = dir_ / ("f" + std::to_string(files_++));
    std::string id = WriteRandomFile(file, size, 700 + files_);
    CliResult put = As("olga", 0, {"put", file, "--meta", "agency=A"});  // grants need one
    EXPECT_EQ(put.exit_code, 0) << put.err;
    paths_[id] = file;
    data_bytes_ += size;
    return id;
  }
  json Sync(std::vector<std::string> more = {}, int n = 1) {
    std::vector<std::string> args = {"offsite", "sync", "--peer", peer_->address()};
    args.insert(args.end(), more.begin(), more.end());
    return Ok("admin", n, args);
  }
  // Syncs snapshot `id` from node 1, paced at 2 MiB/s on 2 streams, and
  // kill -9s `victim` 4 s in; the sync's result.
  CliResult SyncCutByKilling(NodeProcess* victim, const std::string& id) {
    CliResult cut;
    std::thread sync([&] {
      cut = As("admin", 1,
               {"offsite", "sync", "--peer", peer_->address(), "--snapshot", id, "--rate", "2MiB/s",
                "--streams", "2"});
    });
    std::this_thread::sleep_for(std::chrono::seconds(4));
    victim->Kill(SIGKILL);
    sync.join();
    return cut;
  }
  // The peer's counters, asked as node n1 (only cluster nodes may ask).
  internal::v1::PeerStatus PeerCounters() {
    absl::StatusOr<TlsFiles> files = TlsFiles::Load(dir_ / "tls-n1");
    EXPECT_TRUE(files.ok()) << files.status();
    auto stub = internal::v1::OffsitePeer::NewStub(
        grpc::CreateChannel(peer_->address(), TlsChannelCredentials(*files)));
    grpc::ClientContext ctx;
    internal::v1::PeerStatus s;
    grpc::Status st = stub->Status(&ctx, internal::v1::PeerStatusRequest(), &s);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return s;
  }
  // The key that signed snapshot `id` of the cluster, as `snapshot show`
  // prints it: what an operator keeps to restore a wiped cluster.
  std::string SignerKey(const std::string& id) {
    json shown = Ok("aud", 0, {"snapshot", "show", id});
    return shown.is_null() ? "" : shown["signer_key"].get<std::string>();
  }
  // Kills every node, removes their data folders and starts them again:
  // a wiped cluster, with new audit keys.
  void Wipe() {
    for (auto& n : nodes_) n->Kill(SIGKILL);
    for (int i = 1; i <= 3; ++i) std::filesystem::remove_all(dir_ / ("n" + std::to_string(i)));
    for (auto& n : nodes_) ASSERT_TRUE(n->Start()) << n->Log();
    WaitUntilPeersAreUp(nodes_, dir_ / "aud");
  }
  std::set<std::string> Actions(const std::string& subject, int n = 0) {
    json log = Ok("aud", n, {"audit", "log", subject});
    std::set<std::string> out;
    for (const auto& e : log["events"]) out.insert(e["action"].get<std::string>());
    return out;
  }

  TempDir dir_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  std::unique_ptr<NodeProcess> peer_;
  std::map<std::string, std::string> paths_;  // id -> file
  uint64_t data_bytes_ = 0;
  int files_ = 0;
};

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_INTEGRATION_OFFSITE_FIXTURE_H_
