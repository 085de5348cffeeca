// Purging expired records (issue 6, article 19) on a TLS cluster of three
// real nodes whose retention is cut to seconds for the test: refused before
// expiry, under a hold, without approval or by the requester's own approval;
// then the data of the records' unshared objects leaves every volume, while
// shared objects, metadata and audit trails stay.
#include <filesystem>
#include <thread>

#include "tests/integration/records_fixture.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;

class PurgeTest : public RecordsTest {
 protected:
  std::vector<std::string> NodeFlags() const override {
    return {"--repair-interval", "1s", "--unsafe-testing-retention", "4s"};
  }
  // Stores a file of footage and returns its id; *marker is a piece of it.
  std::string Footage(std::string* marker) {
    std::string file = dir_ / ("footage" + std::to_string(files_++));
    std::string id = WriteRandomFile(file, 96 << 10, 700 + files_);
    *marker = ReadFile(file).substr(1000, 64);
    CliResult put =
        As("olga", 0,
           {"put", file, "--meta", "device=D1", "--meta", "start=" + At(-absl::Minutes(50)),
            "--meta", "end=" + At(-absl::Minutes(40))});
    EXPECT_EQ(put.exit_code, 0) << put.err;
    return id;
  }
};

TEST_F(PurgeTest, ExpiredRecordsLoseTheirUnsharedDataOnlyAfterApproval) {
  std::string only_marker, shared_marker;
  const std::string only = Footage(&only_marker), shared = Footage(&shared_marker);
  std::string expiring = NewRecord(At(-absl::Hours(1)), At(-absl::Minutes(30)), "old");
  std::string kept = NewRecord(At(-absl::Hours(1)), At(-absl::Minutes(30)), "kept");
  Ok("olga", 0, {"record", "attach", expiring, only, "--kind", "video"});
  Ok("olga", 0, {"record", "attach", expiring, shared, "--kind", "video"});
  Ok("olga", 1, {"record", "attach", kept, shared, "--kind", "video"});
  Ok("arch", 0, {"record", "archive", expiring});
  Ok("arch", 1, {"record", "archive", kept});
  Ok("hank", 2, {"record", "retain", kept, "--permanent", "--reason", "penalty evidence"});
  EXPECT_EQ(NodesHolding(only_marker), 2);

  CliResult early = As("arch", 0, {"purge", "request", "--reason", "retention ended"});
  EXPECT_NE(early.exit_code, 0) << "nothing has expired yet";
  std::this_thread::sleep_for(std::chrono::seconds(5));
  json dry = Ok("aud", 1, {"purge", "--expired"});
  ASSERT_EQ(dry["records"].size(), 1u);
  EXPECT_EQ(dry["records"][0]["id"], expiring);
  ASSERT_EQ(dry["objects"].size(), 1u);
  EXPECT_EQ(dry["objects"][0], only) << "an object a kept record shares stays";
  EXPECT_EQ(NodesHolding(only_marker), 2) << "a dry run removes nothing";

  std::string req = Ok("arch", 0, {"purge", "request", "--reason", "retention ended"})["request"];
  EXPECT_NE(As("arch", 1, {"purge", "--expired", "--confirm", req}).exit_code, 0)
      << "not approved yet";
  EXPECT_NE(As("arch", 1, {"purge", "approve", req}).exit_code, 0) << "an archivist approves none";
  Ok("hank", 2, {"purge", "approve", req});
  Ok("lena", 0, {"hold", "set", expiring, "--reason", "appeal filed"});
  CliResult held = As("arch", 1, {"purge", "--expired", "--confirm", req});
  EXPECT_NE(held.exit_code, 0);
  EXPECT_NE(held.err.find("legal hold"), std::string::npos) << held.err;
  EXPECT_EQ(NodesHolding(only_marker), 2);
  Ok("lena", 0, {"hold", "release", expiring, "--reason", "appeal withdrawn"});

  json done = Ok("arch", 1, {"purge", "--expired", "--confirm", req});
  ASSERT_EQ(done["records"].size(), 1u);
  EXPECT_EQ(done["objects"][0], only);
  EXPECT_EQ(NodesHolding(only_marker), 0) << "the purged bytes are gone from every volume";
  EXPECT_EQ(NodesHolding(shared_marker), 2) << "the shared object is untouched";
  json rec = Ok("aud", 2, {"record", "show", expiring});
  EXPECT_TRUE(rec["retention"]["purged"].get<bool>());
  EXPECT_EQ(rec["segments"].size(), 2u) << "the record's metadata stays";
  CliResult stat = As("aud", 0, {"stat", only});
  EXPECT_EQ(stat.exit_code, 0) << "the object's metadata stays: " << stat.err;
  CliResult log = As("aud", 0, {"audit", "log", only, "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  const json events = json::parse(log.out)["events"];
  int purged = 0;
  for (const auto& e : events) purged += e["action"] == "object.purged";
  EXPECT_EQ(purged, 1);
  EXPECT_NE(As("arch", 1, {"purge", "--expired", "--confirm", req}).exit_code, 0)
      << "a request is carried out once";
  CliResult again = As("olga", 2, {"put", dir_ / "footage0"});
  EXPECT_NE(again.exit_code, 0) << "purged footage is not taken as already stored";
  EXPECT_NE(again.err.find("was purged"), std::string::npos) << again.err;
  // A node whose index is rebuilt from its volumes after the purge skips the
  // purged entries (not taken for a torn tail) and still finds the rest.
  for (int i = 0; i < 3; ++i) {
    nodes_[i]->Kill(SIGKILL);
    nodes_[i]->AddArgs({"--rebuild-index"});
    ASSERT_TRUE(nodes_[i]->Start()) << nodes_[i]->Log();
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(As("aud", i, {"stat", shared}).exit_code, 0) << "node " << i;
    EXPECT_EQ(As("aud", i, {"stat", only}).exit_code, 0) << "node " << i;
  }
  EXPECT_EQ(NodesHolding(only_marker), 0);
  EXPECT_EQ(NodesHolding(shared_marker), 2);
}

}  // namespace
}  // namespace custody::testing
