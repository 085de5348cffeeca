// Agency and clearance in every list, report and view (issue 22): officers
// and leaders see their own agency's records and requests, archive-heads and
// auditors every agency's; nobody sees records, attached objects or access
// requests above their clearance, nor learns that a re-put object is held
// at a level above it. Three real TLS nodes.
#include <grpcpp/grpcpp.h>

#include <set>

#include "common/digest.h"
#include "common/tls.h"
#include "custody/internal/v1/replica.grpc.pb.h"
#include "tests/integration/records_fixture.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

class VisibilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nodes_ =
        StartTlsCluster(dir_,
                        {{"olga", {"--role", "officer", "--agency", "A"}},
                         {"pia", {"--role", "officer", "--agency", "A", "--clearance", "privacy"}},
                         {"hank", {"--role", "archive-head"}},
                         {"lena", {"--role", "leader", "--agency", "A"}},
                         {"lps", {"--role", "leader", "--agency", "A", "--clearance", "privacy"}},
                         {"leo", {"--role", "leader", "--agency", "B"}},
                         {"aud", {"--role", "auditor", "--clearance", "privacy"}}},
                        "aud", 3);
    ASSERT_EQ(nodes_.size(), 3u);
    WaitUntilPeersAreUp(nodes_, dir_ / "aud");
  }
  void TearDown() override { ASSERT_TRUE(CustodyClient::UseTls("").ok()); }

  CliResult As(const std::string& user, std::vector<std::string> args, int n = 0) {
    args.insert(args.begin(), {"--server", nodes_[n]->address(), "--tls", dir_ / user});
    return RunCli(args);
  }
  json Ok(const std::string& user, std::vector<std::string> args, int n = 0) {
    args.push_back("--json");
    CliResult r = As(user, args, n);
    EXPECT_EQ(r.exit_code, 0) << user << " " << args[0] << " " << args[1] << ": " << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  // A file `user` stores with `meta` through node `n`; its id. The bytes
  // depend on `seed`.
  std::string Put(const std::string& user, int seed, const std::vector<std::string>& meta,
                  int n = 0) {
    std::string file = dir_ / ("f" + std::to_string(seed));
    std::string id = WriteRandomFile(file, 64 << 10, seed);
    std::vector<std::string> args = {"put", file};
    for (const std::string& m : meta) args.insert(args.end(), {"--meta", m});
    json out = Ok(user, args, n);
    last_already_stored_ = out.value("already_stored", false);
    return id;
  }
  std::string NewRecord(const std::string& user, const std::string& agency,
                        const std::string& classification) {
    return Ok(user, {"record", "create", "--agency", agency, "--matter", "3", "--target", "shop-17",
                     "--stage", "inspection", "--officer", "o1", "--device", "D1", "--start",
                     At(-absl::Hours(2)), "--classification", classification})["id"];
  }
  static std::set<std::string> Ids(const json& list, const char* key) {
    std::set<std::string> out;
    for (const auto& item : list) out.insert(item[key].get<std::string>());
    return out;
  }

  TempDir dir_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  bool last_already_stored_ = false;
};

TEST_F(VisibilityTest, RecordsKeepToTheCallersAgencyAndClearance) {
  const std::string plain = Put("olga", 1, {"agency=A", "device=D1"});
  const std::string secret = Put("pia", 2, {"agency=A", "device=D1", "classification=privacy"});
  const std::string rec = NewRecord("olga", "A", "internal");
  Ok("olga", {"record", "attach", rec, plain, "--kind", "video"});
  Ok("pia", {"record", "attach", rec, secret, "--kind", "video"});
  const std::string hidden_rec = NewRecord("pia", "A", "privacy");

  // The internal record as each sees it: the privacy object only for those
  // cleared for it, and nowhere in the others' answer.
  CliResult olga_view = As("olga", {"record", "show", rec, "--json"});
  ASSERT_EQ(olga_view.exit_code, 0) << olga_view.err;
  EXPECT_EQ(olga_view.out.find(secret.substr(7)), std::string::npos) << olga_view.out;
  EXPECT_EQ(Ids(json::parse(olga_view.out)["segments"], "object_id"), std::set{plain});
  EXPECT_EQ(Ids(Ok("pia", {"record", "show", rec})["segments"], "object_id"),
            (std::set{plain, secret}));

  // Lists: own agency, within clearance; archive-heads and auditors all
  // agencies, still within clearance.
  EXPECT_EQ(Ids(Ok("lena", {"record", "list"}), "id"), std::set{rec});
  EXPECT_EQ(Ids(Ok("lps", {"record", "list"}), "id"), (std::set{rec, hidden_rec}));
  EXPECT_EQ(Ids(Ok("hank", {"record", "list"}), "id"), std::set{rec});
  EXPECT_EQ(Ids(Ok("aud", {"record", "list"}), "id"), (std::set{rec, hidden_rec}));
  EXPECT_TRUE(Ok("leo", {"record", "list"}).empty());
  for (const std::string& r : {rec, hidden_rec}) {
    CliResult other = As("leo", {"record", "show", r});
    EXPECT_NE(other.exit_code, 0);
    EXPECT_NE(other.err.find("NOT_FOUND"), std::string::npos) << other.err;
  }
  const std::string from = At(-absl::Hours(24)).substr(0, 10);
  const std::string to = At(absl::Hours(48)).substr(0, 10);
  CliResult report_b = As("leo", {"report", "--agency", "A", "--from", from, "--to", to});
  EXPECT_NE(report_b.err.find("PERMISSION_DENIED"), std::string::npos) << report_b.err;
  json report = Ok("lena", {"report", "--agency", "A", "--from", from, "--to", to});
  EXPECT_EQ(report["records"], 1);
  EXPECT_EQ(report["withheld_above_clearance"], 1);
  report = Ok("lps", {"report", "--agency", "A", "--from", from, "--to", to});
  EXPECT_EQ(report["records"], 2);
  EXPECT_EQ(report["withheld_above_clearance"], 0);

  // Each refused view is on record.
  int refused = 0;
  const json events = Ok("aud", {"audit", "log", "record:" + rec})["events"];
  for (const json& e : events) refused += e["action"] == "access.refused";
  EXPECT_GE(refused, 1);
}

TEST_F(VisibilityTest, AccessRequestsAndReputsKeepToTheCallersClearance) {
  const std::string plain = Put("olga", 3, {"agency=A"});
  const std::string secret = Put("pia", 4, {"agency=A", "classification=privacy"});
  auto request = [&](const std::string& user, const std::string& id) {
    return Ok(user, {"access", "request", id, "--reason", "hearing 2026-12-09"})["request"]
        .get<std::string>();
  };
  const std::string mine = request("olga", plain);
  const std::string theirs = request("pia", secret);
  auto listed = [&](const std::string& user) {
    return Ids(Ok(user, {"access", "list"})["grants"], "request");
  };
  EXPECT_EQ(listed("olga"), std::set{mine});
  EXPECT_EQ(listed("pia"), std::set{theirs});
  EXPECT_EQ(listed("lena"), std::set{mine});  // the privacy request is above her
  EXPECT_EQ(listed("lps"), (std::set{mine, theirs}));
  EXPECT_EQ(listed("hank"), std::set{mine});
  EXPECT_TRUE(listed("leo").empty());  // another agency's

  // olga stores the privacy object's bytes again: to her it is simply
  // stored. (A node learns that an object is held when it is one of the
  // object's homes: ask all three.)
  bool pia_learns = false, olga_learns = false;
  for (int n = 0; n < 3; ++n) {
    Put("pia", 4, {"agency=A", "classification=privacy"}, n);
    pia_learns |= last_already_stored_;
    Put("olga", 4, {"agency=A"}, n);
    olga_learns |= last_already_stored_;
  }
  EXPECT_TRUE(pia_learns) << "pia is cleared: she learns it was held";
  EXPECT_FALSE(olga_learns) << "olga must not learn a privacy object is held";
}

TEST_F(VisibilityTest, NodeReadsAreCountedAndOthersAreRefusedOnRecord) {
  const std::string id = Put("olga", 5, {"agency=A"});
  const std::string raw(Digest::Parse(id)->Raw());
  auto get = [&](const std::string& creds, int n, internal::v1::BlobKind kind,
                 const std::string& key, internal::v1::GetBlobResponse* out) {
    absl::StatusOr<TlsFiles> files = TlsFiles::Load(dir_ / creds);
    EXPECT_TRUE(files.ok());
    auto stub = internal::v1::Replica::NewStub(
        grpc::CreateChannel(nodes_[n]->address(), TlsChannelCredentials(*files)));
    internal::v1::GetBlobRequest req;
    req.set_kind(kind);
    req.set_key(key);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.AddMetadata("custody-map-version", "1");
    ctx.AddMetadata("custody-node-id", "n1");
    return stub->GetBlob(&ctx, req, out).error_code();
  };
  // n1's certificate reads the manifest and a chunk from whichever of n2
  // and n3 holds them: each read is on that node's record as n1's.
  int n = 1;
  internal::v1::GetBlobResponse manifest;
  for (; n < 3 && get("tls-n1", n, internal::v1::MANIFEST, raw, &manifest) != grpc::StatusCode::OK;
       ++n) {
  }
  ASSERT_LT(n, 3) << "neither n2 nor n3 holds the manifest";
  auto node_events = [&](const std::string& action, const std::string& actor) {
    int count = 0;
    CliResult log = As("aud", {"audit", "log", "node", "--json"}, n);
    EXPECT_EQ(log.exit_code, 0) << log.err;
    const json events = json::parse(log.out)["events"];
    for (const json& e : events) count += e["action"] == action && e["actor"] == actor;
    return count;
  };
  EXPECT_EQ(node_events("replica.read", "node:n1"), 1);
  // A user's certificate is no node's: refused, and on record.
  internal::v1::GetBlobResponse none;
  EXPECT_EQ(get("olga", n, internal::v1::MANIFEST, raw, &none),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(get("olga", n, internal::v1::MANIFEST, raw, &none),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(node_events("replica.refused", "user:olga"), 1) << "one event for repeats";
}

}  // namespace
}  // namespace custody::testing
