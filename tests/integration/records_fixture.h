// The fixture of the records tests (issue 6): a TLS cluster of three real
// nodes and users of agency A (olga an officer, arch an archivist, lena a
// leader), hank an archive-head, leo a leader of agency B, aud an auditor,
// and station, a docking station's ingest identity bound to no agency.
#ifndef CUSTODY_TESTS_INTEGRATION_RECORDS_FIXTURE_H_
#define CUSTODY_TESTS_INTEGRATION_RECORDS_FIXTURE_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "tests/integration/cluster_util.h"

namespace custody::testing {

using json = nlohmann::json;

// RFC 3339 for now + `d`.
inline std::string At(absl::Duration d) {
  return absl::FormatTime(absl::RFC3339_sec, absl::Now() + d, absl::UTCTimeZone());
}

class RecordsTest : public ::testing::Test {
 protected:
  // Flags for every node, besides the cluster's.
  virtual std::vector<std::string> NodeFlags() const { return {"--repair-interval", "1s"}; }

  void SetUp() override {
    nodes_ = StartTlsCluster(dir_,
                             {{"olga", {"--role", "officer", "--agency", "A"}},
                              {"arch", {"--role", "archivist", "--agency", "A"}},
                              {"hank", {"--role", "archive-head"}},
                              {"lena", {"--role", "leader", "--agency", "A"}},
                              {"leo", {"--role", "leader", "--agency", "B"}},
                              {"aud", {"--role", "auditor"}},
                              {"station", {"--role", "ingest"}}},
                             "aud", 3, NodeFlags());
    ASSERT_EQ(nodes_.size(), 3u);
    // A record's first change is sent at once to the owner of its archive
    // sequence: under ASan a node's channel to a peer that started a moment
    // later can still be in its connect backoff (issue 26).
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
    EXPECT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  // A record of agency A, matter 3, on device D1.
  std::string NewRecord(const std::string& start, const std::string& end,
                        const std::string& target = "shop-17", int n = 0) {
    std::vector<std::string> args = {
        "record",  "create",     "--agency",  "A",  "--matter", "3",  "--target", target,
        "--stage", "inspection", "--officer", "o1", "--device", "D1", "--start",  start};
    if (!end.empty()) args.insert(args.end(), {"--end", end});
    return Ok("olga", n, args)["id"].get<std::string>();
  }
  // Stores a file with `meta` (KEY=VALUE...) and returns its id; a name
  // ending in `extension` (".mp4": video) sets its media type.
  std::string Stored(const std::vector<std::string>& meta, const std::string& extension = "") {
    std::string file = dir_ / ("f" + std::to_string(files_++) + extension);
    std::string id = WriteRandomFile(file, 64 << 10, 90 + files_);
    std::vector<std::string> args = {"put", file};
    for (const std::string& m : meta) args.insert(args.end(), {"--meta", m});
    CliResult put = As("olga", 0, args);
    EXPECT_EQ(put.exit_code, 0) << put.err;
    return id;
  }
  std::string Segment(const std::string& rec, const std::string& kind, const std::string& start,
                      const std::string& end) {
    std::string id = Stored({"device=D1", "start=" + start, "end=" + end});
    Ok("olga", 1, {"record", "attach", rec, id, "--kind", kind});
    return id;
  }
  // A record as NewRecord, with a video segment over its whole time: a
  // record without footage is archived only with an approved exemption.
  std::string Archivable(const std::string& start, const std::string& end,
                         const std::string& target = "shop-17", int n = 0) {
    std::string rec = NewRecord(start, end, target, n);
    Segment(rec, "video", start, end);
    return rec;
  }
  // How many nodes' volumes hold `bytes`.
  int NodesHolding(const std::string& bytes) {
    int n = 0;
    for (int i = 1; i <= 3; ++i) {
      std::string all;
      for (const auto& e :
           std::filesystem::directory_iterator(dir_ / ("n" + std::to_string(i)) + "/volumes")) {
        all += ReadFile(e.path());
      }
      n += all.find(bytes) != std::string::npos;
    }
    return n;
  }
  static std::set<std::string> Flags(const json& r) {
    std::set<std::string> out;
    for (const auto& f : r["flags"]) out.insert(f.get<std::string>());
    return out;
  }

  TempDir dir_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  int files_ = 0;
};

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_INTEGRATION_RECORDS_FIXTURE_H_
