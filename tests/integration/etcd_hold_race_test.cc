// Holds against purges through etcd (issue 28) on a TLS cluster of three
// real nodes that talk TLS, with the cluster CA, to a real 3-member etcd on
// loopback. Round after round a leader sets a legal hold on a record through
// one node while an archivist executes the approved purge of that record
// through another, at the same moment: exactly one of the two goes through,
// and no byte of a held record leaves any volume. With etcd stopped, holds
// and purges fail naming etcd, and nothing is left half-done.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/etcd_util.h"
#include "tests/integration/records_fixture.h"

namespace custody::testing {
namespace {

class EtcdHoldRaceTest : public RecordsTest {
 protected:
  std::vector<std::string> NodeFlags() const override {
    return {"--repair-interval", "1s", "--unsafe-testing-retention", "2s", "--etcd", endpoints_};
  }
  void SetUp() override {
    if (!HaveEtcd()) GTEST_SKIP() << "Debian's etcd-server is not installed";
    // etcd serves with a certificate of the cluster's CA and requires the
    // nodes' certificates: the nodes reach it as they reach each other.
    ASSERT_EQ(RunCli({"ca", "init", dir_ / "ca"}).exit_code, 0);
    CliResult issued = RunCli({"ca", "issue", "--ca", dir_ / "ca", "--node", "etcd", "--host",
                               "127.0.0.1", "-o", dir_ / "tls-etcd"});
    ASSERT_EQ(issued.exit_code, 0) << issued.err;
    etcd_ = std::make_unique<EtcdProcessCluster>(dir_.path(), 3, dir_ / "tls-etcd");
    ASSERT_TRUE(etcd_->ok()) << etcd_->Log(0);
    endpoints_ = etcd_->Endpoints();
    RecordsTest::SetUp();
  }
  // An archived record with footage of its own; *marker is a piece of it.
  std::string ArchivedRecord(std::string* marker) {
    std::string rec = Archivable(At(-absl::Hours(2)), At(-absl::Hours(1)));
    *marker = ReadFile(dir_ / ("f" + std::to_string(files_ - 1))).substr(4096, 64);
    Ok("arch", files_ % 3, {"record", "archive", rec});
    return rec;
  }
  // Every record as node `n` folds it, by id.
  std::map<std::string, json> Records(int n) {
    std::map<std::string, json> out;
    for (const json& r : Ok("aud", n, {"record", "list"})) out[r["id"]] = r;
    return out;
  }
  static int Rounds() {
    int n = 200;
    const char* env = std::getenv("CUSTODY_HOLD_RACE_ROUNDS");
    if (env != nullptr) (void)absl::SimpleAtoi(env, &n);
    return n;
  }

  std::unique_ptr<EtcdProcessCluster> etcd_;
  std::string endpoints_;
};

TEST_F(EtcdHoldRaceTest, AHoldAndAPurgeAtOnceNeverBothSucceed) {
  const int rounds = Rounds();
  std::vector<std::string> recs(rounds), markers(rounds);
  for (int i = 0; i < rounds; ++i) recs[i] = ArchivedRecord(&markers[i]);
  absl::SleepFor(absl::Seconds(3));  // every retention has ended
  std::map<std::string, bool> held;  // record -> the hold won
  for (int i = 0; i < rounds; ++i) {
    const int purger = i % 3, holder = (i + 1 + i / 3 % 2) % 3;
    const std::string req =
        Ok("arch", purger,
           {"purge", "request", "--reason", "retention ended", "--record", recs[i]})["request"];
    Ok("hank", purger, {"purge", "approve", req});
    CliResult hold, purge;
    // One side starts a little later, by a different amount each round, so
    // that each is sometimes first.
    const absl::Duration late = absl::Milliseconds(5 * (i % 6));
    std::thread h([&] {
      if (i % 2 == 1) absl::SleepFor(late);
      hold =
          As("lena", holder,
             {"hold", "set", recs[i], "--reason", "court order", "--hold", absl::StrCat("r", i)});
    });
    std::thread p([&] {
      if (i % 2 == 0) absl::SleepFor(late);
      purge = As("arch", purger, {"purge", "--expired", "--confirm", req});
    });
    h.join();
    p.join();
    ASSERT_NE(hold.exit_code == 0, purge.exit_code == 0)
        << "round " << i << ": hold: " << hold.err << "\npurge: " << purge.err;
    held[recs[i]] = hold.exit_code == 0;
    const CliResult& lost = hold.exit_code != 0 ? hold : purge;
    EXPECT_NE(lost.err.find(hold.exit_code != 0 ? "purge" : "hold"), std::string::npos) << lost.err;
  }
  int holds_won = 0;
  for (const auto& [rec, won] : held) holds_won += won;
  std::cout << "[ race ] " << rounds << " rounds: the hold went first in " << holds_won
            << ", the purge in " << rounds - holds_won << "\n";
  // Every node folds the same outcome, and a held record keeps its bytes on
  // both replicas while a purged one loses them everywhere.
  absl::SleepFor(absl::Seconds(2));
  for (int n = 0; n < 3; ++n) {
    std::map<std::string, json> all = Records(n);
    for (const auto& [rec, won] : held) {
      const json& t = all[rec]["retention"];
      EXPECT_EQ(t["purged"].get<bool>(), !won) << rec << " on n" << n + 1;
      EXPECT_EQ(t["legal_holds"].size(), won ? 1u : 0u) << rec << " on n" << n + 1;
    }
  }
  for (int i = 0; i < rounds; ++i) {
    EXPECT_EQ(NodesHolding(markers[i]), held[recs[i]] ? 2 : 0) << recs[i];
  }
}

TEST_F(EtcdHoldRaceTest, WithEtcdDownHoldsAndPurgesFailNamingIt) {
  std::string marker;
  const std::string rec = ArchivedRecord(&marker);
  absl::SleepFor(absl::Seconds(3));
  const std::string req = Ok(
      "arch", 0, {"purge", "request", "--reason", "retention ended", "--record", rec})["request"];
  Ok("hank", 0, {"purge", "approve", req});
  for (int i = 0; i < 3; ++i) etcd_->Kill(i);
  CliResult hold = As("lena", 1, {"hold", "set", rec, "--reason", "court order"});
  EXPECT_NE(hold.exit_code, 0);
  EXPECT_NE(hold.err.find("etcd"), std::string::npos) << hold.err;
  CliResult purge = As("arch", 0, {"purge", "--expired", "--confirm", req});
  EXPECT_NE(purge.exit_code, 0);
  EXPECT_NE(purge.err.find("etcd"), std::string::npos) << purge.err;
  // Nothing half-done: neither is in the ledger, the bytes are all there.
  json shown = Ok("aud", 2, {"record", "show", rec});
  EXPECT_EQ(shown["retention"]["legal_holds"].size(), 0u);
  EXPECT_FALSE(shown["retention"]["purged"].get<bool>());
  EXPECT_EQ(NodesHolding(marker), 2);
  // The data path goes on meanwhile.
  Stored({"device=D1"});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(etcd_->Start(i)) << etcd_->Log(i);
  for (int attempt = 0; attempt < 100; ++attempt) {
    hold = As("lena", 1, {"hold", "set", rec, "--reason", "court order", "--hold", "court"});
    if (hold.exit_code == 0) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(hold.exit_code, 0) << hold.err;
  purge = As("arch", 0, {"purge", "--expired", "--confirm", req});
  EXPECT_NE(purge.exit_code, 0) << "the hold came first";
}

}  // namespace
}  // namespace custody::testing
