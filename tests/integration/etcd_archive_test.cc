// Archive numbers from etcd (issue 28) on three real custodyd processes and
// a real 3-member etcd, on loopback: any node archives with the prefix's old
// owner down; concurrent archives through every node stay unique and
// gapless while the etcd leader is killed; a number reserved by a node that
// stopped before writing it is written by the nodes; without etcd, archiving
// fails naming etcd while puts go on.
#include <gtest/gtest.h>

#include <csignal>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "replication/etcd/etcd_client.h"
#include "tests/integration/cluster_util.h"
#include "tests/integration/etcd_fixture.h"
#include "tests/integration/records_fixture.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

class EtcdArchiveTest : public EtcdNodesTest {
 protected:
  // A record of prefix A/shop-9/inspection on 2026-12-01 with one segment.
  std::string NewRecord(int n, int i) {
    const std::string file = dir_ / absl::StrCat("clip-", i);
    WriteRandomFile(file, 4096, 1000 + i);
    CliResult put = On(n, {"put", file, "--meta", "device=D1", "--meta",
                           "start=2026-12-01T09:00:00Z", "--meta", "end=2026-12-01T09:10:00Z"});
    EXPECT_EQ(put.exit_code, 0) << put.err;
    const std::string id(absl::StripTrailingAsciiWhitespace(put.out));
    CliResult made =
        On(n, {"record", "create", "--agency", "A", "--matter", "3", "--target", "shop-9",
               "--stage", "inspection", "--officer", "o1", "--device", "D1", "--start",
               "2026-12-01T09:00:00Z", "--end", "2026-12-01T09:10:00Z", "--json"});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    const std::string rec = json::parse(made.out, nullptr, false).value("id", "");
    CliResult attached = On(n, {"record", "attach", rec, id, "--kind", "video"});
    EXPECT_EQ(attached.exit_code, 0) << attached.err;
    return rec;
  }
  // The sequence of the archive number `number` (its last dash-separated part).
  static uint64_t Sequence(const std::string& number) {
    uint64_t seq = 0;
    EXPECT_TRUE(absl::SimpleAtoi(number.substr(number.rfind('-') + 1), &seq)) << number;
    return seq;
  }
  // Every archived record's number, read from node `n`'s ledger fold.
  std::map<std::string, std::string> Archived(int n) {
    std::map<std::string, std::string> out;
    CliResult listed = On(n, {"record", "list", "--json"});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    for (const auto& r : json::parse(listed.out, nullptr, false)) {
      if (!r.value("archive_number", "").empty()) out[r["id"]] = r["archive_number"];
    }
    return out;
  }
};

// Whichever node owned the prefix's sequence before, each node down in turn
// leaves the other two able to archive; the numbers follow one another.
TEST_F(EtcdArchiveTest, AnyNodeArchivesWhileAnotherIsDown) {
  std::vector<std::string> recs;
  for (int i = 0; i < 3; ++i) recs.push_back(NewRecord(i, i));
  for (int down = 0; down < 3; ++down) {
    nodes_[down]->Kill(SIGKILL);
    const int via = (down + 1) % 3;
    CliResult archived = On(via, {"record", "archive", recs[down], "--json"});
    ASSERT_EQ(archived.exit_code, 0)
        << "n" << down + 1 << " down, via n" << via + 1 << ": " << archived.err;
    EXPECT_EQ(Sequence(json::parse(archived.out)["archive_number"]), down + 1u);
    ASSERT_TRUE(nodes_[down]->Start()) << nodes_[down]->Log();
  }
}

// Twenty archives at once through three nodes, the etcd leader killed in
// the middle: twenty distinct numbers, 1 to 20.
TEST_F(EtcdArchiveTest, ConcurrentArchivesAreUniqueAndGaplessWhileTheEtcdLeaderDies) {
  std::vector<std::string> recs;
  for (int i = 0; i < 20; ++i) recs.push_back(NewRecord(i % 3, i));
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<std::string> failures;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      const absl::Time t0 = absl::Now();
      CliResult r = On(i % 3, {"record", "archive", recs[i]});
      if (r.exit_code != 0) {
        std::lock_guard<std::mutex> l(mu);
        failures.push_back(recs[i] + ": " + r.err + " after " +
                           absl::FormatDuration(absl::Now() - t0));
      }
    });
    if (i == 7) {
      const int leader = etcd_->LeaderIndex();
      ASSERT_GE(leader, 0) << "no etcd member leads";
      etcd_->Kill(leader);
    }
  }
  for (std::thread& t : threads) t.join();
  if (!failures.empty()) {
    const std::string log = nodes_[0]->Log();
    std::cerr << "n1's log:\n" << log.substr(log.size() > 6000 ? log.size() - 6000 : 0) << "\n";
  }
  // An archive that met the election may fail (UNAVAILABLE, naming etcd);
  // it is asked again, as a person would.
  for (const std::string& f : failures) {
    EXPECT_NE(f.find("etcd"), std::string::npos) << f;
    const std::string rec = f.substr(0, f.find(':'));
    CliResult again;
    for (int k = 0; k < 20 && (again = On(0, {"record", "archive", rec})).exit_code != 0; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    EXPECT_EQ(again.exit_code, 0) << again.err;
  }
  std::set<uint64_t> seqs;
  std::map<std::string, std::string> archived;
  for (int k = 0; k < 50 && archived.size() < 20; ++k) {  // the ledger reaches n2
    archived = Archived(1);
    if (archived.size() < 20) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(archived.size(), 20u);
  for (const auto& [rec, number] : archived) seqs.insert(Sequence(number));
  ASSERT_EQ(seqs.size(), 20u) << "distinct";
  EXPECT_EQ(*seqs.begin(), 1u);
  EXPECT_EQ(*seqs.rbegin(), 20u) << "no gaps";
}

// A node that reserved a number in etcd and stopped before its ledger entry
// (left here as it would be): the nodes write that entry.
TEST_F(EtcdArchiveTest, ANumberReservedByAStoppedNodeIsWrittenByTheOthers) {
  const std::string rec = NewRecord(0, 0);
  EtcdOptions o;
  o.endpoints = *EtcdClient::ParseEndpoints(etcd_->Endpoints());
  auto etcd = *EtcdClient::Create(o);
  const std::string prefix = "A-20261201-shop-9-inspection-#";
  etcdserverpb::TxnRequest t;
  *t.add_success() = EtcdClient::PutOp("/custody/archive/seq/" + prefix, "1");
  *t.add_success() = EtcdClient::PutOp("/custody/archive/claim/" + rec, prefix + "\n1");
  *t.add_success() =
      EtcdClient::PutOp("/custody/archive/pending/" + rec, prefix + "\n1\nlocal-operator");
  ASSERT_TRUE(etcd->Txn(t).ok());
  nodes_[1]->Kill(SIGKILL);
  ASSERT_TRUE(nodes_[1]->Start());  // a start completes what is pending
  std::map<std::string, std::string> archived;
  for (int k = 0; k < 100 && archived.empty(); ++k) {
    archived = Archived(2);
    if (archived.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(archived.size(), 1u);
  EXPECT_EQ(archived[rec], "A-20261201-shop-9-inspection-0001");
  EXPECT_FALSE(*etcd->Get("/custody/archive/pending/" + rec)) << "no longer pending";
  // Archiving it again gives the same number, never a second one.
  CliResult again = On(0, {"record", "archive", rec});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_EQ(etcd->Get("/custody/archive/seq/" + prefix)->value().value, "1");
}

// etcd down: puts go on; archiving fails at once, naming etcd, and works
// again once etcd is back.
TEST_F(EtcdArchiveTest, WithoutEtcdTheDataPathGoesOnAndArchivingSaysWhy) {
  const std::string rec = NewRecord(0, 0);
  for (int m = 0; m < 3; ++m) etcd_->Kill(m);
  const std::string file = dir_ / "during";
  WriteRandomFile(file, 10000, 77);
  EXPECT_EQ(On(1, {"put", file}).exit_code, 0) << "the data path needs no etcd";
  CliResult refused = On(2, {"record", "archive", rec});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("UNAVAILABLE"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("etcd"), std::string::npos) << refused.err;
  EXPECT_TRUE(Archived(2).empty()) << "nothing half-done";
  CliResult map = On(1, {"cluster", "map", "apply", map_});
  EXPECT_NE(map.exit_code, 0);
  EXPECT_NE(map.err.find("etcd"), std::string::npos) << "a map change needs etcd: " << map.err;
  // With etcd gone, cluster status shows the probe alone and says why (once
  // the node's next round with etcd failed: a second at most).
  CliResult probed;
  for (int k = 0; k < 20; ++k) {
    probed = On(0, {"cluster", "status", "--json"});
    if (probed.out.find("from its probe alone") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_NE(probed.out.find("from its probe alone"), std::string::npos) << probed.out;
  // Status says so: the node's last call to etcd and its error.
  CliResult st = On(2, {"status", "--json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  json status = json::parse(st.out);
  EXPECT_NE(status.value("etcd", "").find("UNAVAILABLE"), std::string::npos) << st.out;
  EXPECT_FALSE(status["etcd_checked"].is_null()) << st.out;
  for (int m = 0; m < 3; ++m) ASSERT_TRUE(etcd_->Start(m));
  CliResult ok;
  for (int k = 0; k < 40 && (ok = On(2, {"record", "archive", rec})).exit_code != 0; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(json::parse(On(2, {"status", "--json"}).out).value("etcd", ""), "ok");
  CliResult table = On(0, {"cluster", "status"});
  EXPECT_NE(table.out.find("etcd, as n"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace custody::testing
