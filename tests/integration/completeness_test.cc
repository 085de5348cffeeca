// Proving nothing is missing (issue 31), with a real custodyd: spot checks
// drawn with a seed nobody could know while the period's records were made.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

class CompletenessTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(node_.Start()) << node_.Log(); }
  CliResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", node_.address()});
    return RunCli(args);
  }
  json Ok(std::vector<std::string> args) {
    args.push_back("--json");
    CliResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err << r.out;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  static std::string At(absl::Duration from_now) {
    return absl::FormatTime(absl::RFC3339_full, absl::Now() + from_now, absl::UTCTimeZone());
  }
  std::string NewRecord(const std::string& agency, const std::string& start) {
    json r = Ok({"record", "create", "--agency", agency, "--matter", "3", "--target", "shop",
                 "--stage", "inspection", "--officer", "o1", "--device", "D1", "--start", start});
    return r.is_null() ? "" : r["id"].get<std::string>();
  }
  TempDir dir_;
  NodeProcess node_{dir_ / "data"};
};

TEST_F(CompletenessTest, ASpotCheckIsDrawnFromACheckpointAfterThePeriodAndReproducible) {
  std::set<std::string> period;
  for (int i = 0; i < 12; ++i) {
    period.insert(NewRecord("A", At(-absl::Hours(3) + absl::Minutes(i))));
  }
  NewRecord("B", At(-absl::Hours(3)));     // another agency
  NewRecord("A", At(-absl::Minutes(30)));  // after the period
  const std::string from = At(-absl::Hours(4)), to = At(-absl::Hours(1));
  json first = Ok({"report", "sample", "--agency", "A", "--from", from, "--to", to, "--n", "5"});
  ASSERT_FALSE(first.is_null());
  ASSERT_EQ(first["sampled"].size(), 5u);
  EXPECT_EQ(std::set<std::string>(first["population"].begin(), first["population"].end()), period);
  std::set<std::string> drawn;
  for (const json& s : first["sampled"]) {
    drawn.insert(s["id"].get<std::string>());
    EXPECT_TRUE(period.count(s["id"].get<std::string>())) << s;
    EXPECT_EQ(s["status"], "incomplete") << s;  // no footage, no exemption
    EXPECT_NE(std::find(s["problems"].begin(), s["problems"].end(), "no-footage"),
              s["problems"].end())
        << s;
  }
  EXPECT_EQ(drawn.size(), 5u);
  // Asked again (more events and checkpoints since): the same checkpoint,
  // the same draw.
  NewRecord("C", At(-absl::Minutes(5)));
  json again = Ok({"report", "sample", "--agency", "A", "--from", from, "--to", to, "--n", "5"});
  EXPECT_EQ(again["checkpoint"], first["checkpoint"]);
  EXPECT_EQ(again["sampled"], first["sampled"]);
  // Anyone reproduces it offline from the saved output.
  const std::string saved = dir_ / "sample.json";
  std::ofstream(saved) << first.dump();
  CliResult verified = RunCli({"report", "sample", "--verify", saved});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_NE(verified.out.find("reproduced: the 5 record(s)"), std::string::npos) << verified.out;
  // A sample steered to another record does not reproduce; nor another seed.
  std::string other;
  for (const std::string& id : period) {
    if (!drawn.count(id)) other = id;
  }
  json steered = first;
  steered["sampled"][0]["id"] = other;
  std::ofstream(dir_ / "steered.json") << steered.dump();
  CliResult bad = RunCli({"report", "sample", "--verify", dir_ / "steered.json"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("not the ones the seed draws"), std::string::npos) << bad.err;
  json reseeded = first;
  reseeded["seed"] = std::string(64, '0');
  std::ofstream(dir_ / "reseeded.json") << reseeded.dump();
  EXPECT_NE(RunCli({"report", "sample", "--verify", dir_ / "reseeded.json"}).exit_code, 0);
  // The table, and the draw on record.
  CliResult table =
      Cli({"report", "sample", "--agency", "A", "--from", from, "--to", to, "--n", "5"});
  EXPECT_NE(table.out.find("5 of 12 drawn"), std::string::npos) << table.out;
  json log = Ok({"audit", "log", "--action", "report.sampled"});
  EXPECT_GE(log["events"].size(), 2u) << log.dump();
  // A period that has not ended cannot be drawn yet.
  CliResult early = Cli({"report", "sample", "--agency", "A", "--from", from, "--to",
                         At(absl::Hours(1)), "--n", "5"});
  EXPECT_NE(early.exit_code, 0);
  EXPECT_NE(early.err.find("has not ended"), std::string::npos) << early.err;
}

}  // namespace
}  // namespace custody::testing
