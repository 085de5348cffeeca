// The control plane on etcd (issue 28) with three real custodyd processes
// and a real 3-member etcd on loopback: the snapshot scheduler is elected
// through a lease and taken over when its node dies; liveness comes from the
// nodes' leases, so a frozen node is shown partitioned (its lease still
// runs, it does not answer) and then down, and up again when it returns.
#include <signal.h>

#include <thread>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "tests/integration/etcd_fixture.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

class EtcdControlTest : public EtcdNodesTest {
 protected:
  static json NodeIn(const json& status, const std::string& id) {
    for (const json& n : status["nodes"]) {
      if (n["id"] == id) return n;
    }
    return json();
  }
  // Polls cluster status through node `via` until `done` holds (10 s at most).
  json WaitFor(int via, const std::function<bool(const json&)>& done) {
    json s;
    for (int i = 0; i < 50; ++i) {
      s = Status(via);
      if (!s.is_null() && done(s)) return s;
      absl::SleepFor(absl::Milliseconds(200));
    }
    ADD_FAILURE() << "not reached; last status: " << s.dump(1);
    return s;
  }
  static int Index(const std::string& id) { return id[1] - '1'; }
  // Every node up by its lease, as node `via` sees them in etcd.
  static bool AllUp(const json& st) {
    for (const json& n : st["nodes"]) {
      if (n.value("liveness", "") != "up" || n.contains("liveness_reason")) return false;
    }
    return true;
  }
};

TEST_F(EtcdControlTest, OneSchedulerIsElectedAndAnotherTakesOverWhenItDies) {
  json s = WaitFor(
      0, [](const json& st) { return AllUp(st) && !st.value("snapshot_scheduler", "").empty(); });
  const std::string first = s["snapshot_scheduler"];
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(Status(n)["snapshot_scheduler"], first) << "every node names the same scheduler";
  }
  int keepers = 0;
  for (const json& n : s["nodes"]) {
    EXPECT_EQ(n["liveness"], "up") << n.dump();
    keepers += n.value("keeps_schedule", false);
  }
  EXPECT_EQ(keepers, 1) << s.dump(1);

  const absl::Time killed = absl::Now();
  nodes_[Index(first)]->Kill(SIGKILL);
  const int via = (Index(first) + 1) % 3;
  s = WaitFor(via, [&](const json& st) {
    const std::string now = st.value("snapshot_scheduler", "");
    return !now.empty() && now != first;
  });
  const std::string second = s["snapshot_scheduler"];
  EXPECT_NE(second, first);
  EXPECT_LT(absl::Now() - killed, absl::Seconds(10)) << "taken over within the lease's time";
  json dead = NodeIn(
      WaitFor(via,
              [&](const json& st) { return NodeIn(st, first).value("liveness", "") == "down"; }),
      first);
  EXPECT_FALSE(dead["liveness_since"].is_null()) << dead.dump();

  ASSERT_TRUE(nodes_[Index(first)]->Start()) << nodes_[Index(first)]->Log();
  s = WaitFor(via, [&](const json& st) { return NodeIn(st, first).value("liveness", "") == "up"; });
  EXPECT_EQ(s["snapshot_scheduler"], second) << "the new scheduler keeps it";
}

TEST_F(EtcdControlTest, AFrozenNodeIsPartitionedWhileItsLeaseRunsThenDownThenUp) {
  WaitFor(0, AllUp);
  ASSERT_EQ(::kill(nodes_[2]->pid(), SIGSTOP), 0);
  json s = Status(0);  // at once: its lease has seconds left, it does not answer
  json n3 = NodeIn(s, "n3");
  EXPECT_EQ(n3["liveness"], "partitioned") << n3.dump();
  EXPECT_NE(n3.value("liveness_reason", "").find("holds its etcd lease but does not answer"),
            std::string::npos)
      << n3.dump();
  WaitFor(0, [](const json& st) { return NodeIn(st, "n3").value("liveness", "") == "down"; });
  ASSERT_EQ(::kill(nodes_[2]->pid(), SIGCONT), 0);
  WaitFor(1, [](const json& st) { return NodeIn(st, "n3").value("liveness", "") == "up"; });
}

// n3's clock runs 10 minutes ahead. A record created through n3 and given
// footage through n1 right after folds the same on every node, with its
// attachment (ordered by the ledger's hybrid logical clock, the attach would
// otherwise sort 10 minutes before its create and be refused), and cluster
// status flags n3's clock.
TEST_F(EtcdControlTest, ASkewedClockIsFlaggedAndTheLedgerStaysInCausalOrder) {
  nodes_[2]->Kill(SIGTERM);
  const int metrics = FreePort();
  nodes_[2]->AddArgs({"--unsafe-testing-clock-offset", "10m", "--metrics-listen",
                      "127.0.0.1:" + std::to_string(metrics)});
  ASSERT_TRUE(nodes_[2]->Start()) << nodes_[2]->Log();
  json s = WaitFor(0, AllUp);
  for (const json& n : s["nodes"]) {
    const bool skewed = n["id"] == "n3";
    EXPECT_EQ(n["clock_skewed"], skewed) << n.dump();
    const double expected = skewed ? 600 : 0;
    EXPECT_NEAR(n["clock_offset_seconds"].get<double>(), expected, 5) << n.dump();
  }
  CliResult text = On(1, {"cluster", "status"});
  EXPECT_NE(text.out.find("CLOCK: n3's clock is"), std::string::npos) << text.out;
  // n3 checks its own clock a few seconds after it starts, then every 30 s.
  std::string scraped;
  for (int i = 0; i < 50 && scraped.find("custody_clock_skewed 1") == std::string::npos; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    scraped = HttpGet(metrics, "/metrics");
  }
  EXPECT_NE(scraped.find("custody_clock_skewed 1"), std::string::npos) << scraped;

  const std::string file = dir_ / "clip";
  WriteRandomFile(file, 4096, 7);
  CliResult put = On(0, {"put", file, "--meta", "device=D1", "--meta", "start=2026-12-01T09:00:00Z",
                         "--meta", "end=2026-12-01T09:10:00Z"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  CliResult made =
      On(2, {"record", "create", "--agency", "A", "--matter", "3", "--target", "shop-9", "--stage",
             "inspection", "--officer", "o1", "--device", "D1", "--start", "2026-12-01T09:00:00Z",
             "--end", "2026-12-01T09:10:00Z", "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string rec = json::parse(made.out)["id"];
  CliResult attached =
      On(0, {"record", "attach", rec, std::string(absl::StripTrailingAsciiWhitespace(put.out)),
             "--kind", "video"});
  ASSERT_EQ(attached.exit_code, 0) << attached.err;
  CliResult archived = On(1, {"record", "archive", rec});
  ASSERT_EQ(archived.exit_code, 0) << archived.err;
  std::string first;
  for (int n = 0; n < 3; ++n) {
    CliResult shown = On(n, {"record", "show", rec, "--json"});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    json r = json::parse(shown.out);
    EXPECT_EQ(r["segments"].size(), 1u) << "n" << n + 1 << ": " << shown.out;
    r.erase("flags");  // evaluated against each node's own clock
    if (n == 0) first = r.dump();
    EXPECT_EQ(r.dump(), first) << "n" << n + 1 << " folds it otherwise";
  }
}

// The map lives in etcd: `cluster map apply` installs the next version
// (the file only bootstrapped the cluster), every running node switches to it
// within seconds, a node that was down starts on it although its file is
// older, a stale version and the loser of two applies at once are refused,
// and the change is audited with who made it.
TEST_F(EtcdControlTest, AMapAppliedReachesEveryNodeAndOneThatWasDownOnStart) {
  CliResult shown = On(0, {"cluster", "map", "show", "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  json m = json::parse(shown.out);
  EXPECT_EQ(m["version"], 1);
  EXPECT_EQ(m["source"], "etcd");
  nodes_[2]->Kill(SIGKILL);
  json next = m["map"];
  next["version"] = 2;
  const std::string v2 = dir_ / "map-v2.json";
  ASSERT_TRUE(WriteNewFile(v2, next.dump(2)).ok());
  CliResult applied = On(0, {"cluster", "map", "apply", v2});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  CliResult again = On(1, {"cluster", "map", "apply", v2});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("the next is 3"), std::string::npos) << again.err;
  // n1 and n2 restart themselves on version 2 (same process, same port).
  auto runs = [&](int n, int version) {
    CliResult st = On(n, {"status", "--json"});
    return st.exit_code == 0 &&
           json::parse(st.out, nullptr, false).value("map_version", 0) == version;
  };
  for (int n = 0; n < 2; ++n) {
    bool switched = false;
    for (int i = 0; i < 75 && !switched; ++i) {
      switched = runs(n, 2);
      if (!switched) absl::SleepFor(absl::Milliseconds(200));
    }
    EXPECT_TRUE(switched) << "n" << n + 1 << ": " << nodes_[n]->Log();
  }
  ASSERT_TRUE(nodes_[2]->Start()) << nodes_[2]->Log();  // its --cluster file says version 1
  EXPECT_TRUE(runs(2, 2)) << nodes_[2]->Log();

  // Two admins apply version 3 at once: one wins.
  next["version"] = 3;
  const std::string v3 = dir_ / "map-v3.json";
  ASSERT_TRUE(WriteNewFile(v3, next.dump(2)).ok());
  CliResult a, b;
  std::thread ta([&] { a = On(0, {"cluster", "map", "apply", v3}); });
  std::thread tb([&] { b = On(2, {"cluster", "map", "apply", v3}); });
  ta.join();
  tb.join();
  EXPECT_NE(a.exit_code == 0, b.exit_code == 0) << a.err << "\n" << b.err;

  CliResult log = On(0, {"audit", "log", "node", "--json"});
  EXPECT_NE(log.out.find("cluster.map-applied"), std::string::npos) << log.out << log.err;
  EXPECT_NE(log.out.find("cluster.map-switched"), std::string::npos) << log.out;
}

}  // namespace
}  // namespace custody::testing
