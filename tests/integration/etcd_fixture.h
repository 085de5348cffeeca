// The fixture of the etcd tests (issue 28): a real 3-member etcd and three
// plaintext custodyd nodes on loopback given its endpoints.
#ifndef CUSTODY_TESTS_INTEGRATION_ETCD_FIXTURE_H_
#define CUSTODY_TESTS_INTEGRATION_ETCD_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/cluster_util.h"
#include "tests/integration/etcd_util.h"

namespace custody::testing {

class EtcdNodesTest : public ::testing::Test {
 protected:
  // Flags for every node, besides the map's and --etcd.
  virtual std::vector<std::string> NodeFlags() const { return {"--repair-interval", "0"}; }

  void SetUp() override {
    if (!HaveEtcd()) GTEST_SKIP() << "Debian's etcd-server is not installed";
    etcd_ = std::make_unique<EtcdProcessCluster>(dir_.path());
    ASSERT_TRUE(etcd_->ok()) << etcd_->Log(0);
    map_ = WriteMap(dir_ / "map.json", 3, 1, 2, &ports_);
    std::vector<std::string> flags = {"--etcd", etcd_->Endpoints()};
    for (const std::string& f : NodeFlags()) flags.push_back(f);
    nodes_ = StartMappedNodes(dir_, map_, ports_, flags);
    ASSERT_EQ(nodes_.size(), 3u);
  }
  CliResult On(int n, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", nodes_[n]->address()});
    return RunCli(args);
  }
  // `custody cluster status --json` through node `n` (null if it failed).
  nlohmann::json Status(int n) {
    CliResult r = On(n, {"cluster", "status", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out, nullptr, false) : nlohmann::json();
  }

  TempDir dir_;
  std::unique_ptr<EtcdProcessCluster> etcd_;
  std::string map_;
  std::vector<int> ports_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
};

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_INTEGRATION_ETCD_FIXTURE_H_
