// Every role against every action, generated from the one role table in
// server/security/principals.cc (RolesFor): a user holding only that role runs the
// command that asks for the action on a real TLS node. A role the table
// allows is never refused for its role (the command may still fail for
// other reasons: a made-up request id, a missing grant); a role it does not
// allow is refused with PERMISSION_DENIED naming the action. Agency and
// clearance are tested in visibility_test.cc and trust_test.cc.
#include <map>

#include "absl/strings/str_cat.h"
#include "server/security/principals.h"
#include "tests/integration/records_fixture.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

std::string UserOf(const std::string& role) { return "u-" + role; }

TEST(RolesTest, EveryRoleMayDoExactlyWhatTheTableSaysOnEveryAction) {
  // StartTlsCluster sets this process's client to TLS: back to plaintext
  // for the tests that follow, however this one ends.
  struct PlaintextAfter {
    ~PlaintextAfter() { (void)CustodyClient::UseTls(""); }
  } plaintext_after;
  TempDir dir;
  std::map<std::string, std::vector<std::string>> users;
  for (const char* role : kRoles) users[UserOf(role)] = {"--role", role, "--agency", "A"};
  std::vector<std::unique_ptr<NodeProcess>> nodes =
      StartTlsCluster(dir, users, UserOf("auditor"), 1);
  ASSERT_EQ(nodes.size(), 1u);
  const std::string file = dir / "clip.mp4";
  const std::string id = WriteRandomFile(file, 4096, 5);
  const std::string rec = "rec-000000000000", req = std::string(32, '0');
  const std::string from = At(-absl::Hours(24)).substr(0, 10),
                    to = At(absl::Hours(24)).substr(0, 10);
  // The command that asks for each action. Every action of the table but
  // the offsite peer's own service (no command; offsite_test.cc) is here.
  const std::map<Action, std::vector<std::string>> commands = {
      {Action::kPut, {"put", file}},
      {Action::kReadMetadata, {"stat", id}},
      {Action::kReadFootage, {"get", id, "-o", dir / "out"}},
      {Action::kAuditRead, {"audit", "log", id}},
      {Action::kStatus, {"status"}},
      {Action::kMaintain, {"cluster", "scrub"}},
      {Action::kManageUsers, {"user", "list"}},
      {Action::kRequestAccess, {"access", "request", id, "--reason", "review"}},
      {Action::kDecideAccess, {"access", "deny", req, "--reason", "no"}},
      {Action::kRecordRead, {"record", "list"}},
      {Action::kRecordWrite,
       {"record", "create", "--agency", "A", "--matter", "3", "--target", "t", "--stage", "s",
        "--officer", "o1", "--device", "D1", "--start", At(-absl::Hours(1))}},
      {Action::kArchive, {"record", "archive", rec}},
      {Action::kRetain, {"record", "retain", rec, "--permanent", "--reason", "case"}},
      {Action::kHold, {"hold", "set", rec, "--reason", "court order"}},
      {Action::kApproveExemption, {"record", "approve-exemption", rec}},
      {Action::kDevices, {"device", "list"}},
      {Action::kReport, {"report", "--agency", "A", "--from", from, "--to", to}},
      {Action::kPurge, {"purge", "request", "--reason", "expired"}},
      {Action::kApprovePurge, {"purge", "approve", "pur-000000000000"}},
      {Action::kSnapshot, {"snapshot", "create"}},
      {Action::kSnapshotRead, {"snapshot", "list"}},
      {Action::kRestore, {"restore", "--from-offsite", "127.0.0.1:1"}},
      {Action::kLiveUpload,
       {"live", file, "--device", "D1", "--live-id", "live-roles", "--finish-after", "0"}},
      {Action::kLiveSeal, {"live", "seal", "live-none", "--reason", "lost"}},
  };
  int checked = 0;
  for (Action a : AllActions()) {
    // Node-only services, with no command: WitnessTest and OffsiteTest check
    // that a person's certificate is refused there.
    if (a == Action::kOffsitePeer || a == Action::kWitness) continue;
    auto c = commands.find(a);
    ASSERT_NE(c, commands.end()) << "no command for \"" << ActionName(a) << "\": add one";
    const std::vector<std::string>& may = RolesFor(a);
    for (const char* role : kRoles) {
      std::vector<std::string> args = {"--server", nodes[0]->address(), "--tls",
                                       dir / UserOf(role)};
      args.insert(args.end(), c->second.begin(), c->second.end());
      std::filesystem::remove(dir / "out");
      CliResult r = RunCli(args);
      const bool allowed = std::find(may.begin(), may.end(), role) != may.end();
      // Signed decisions ask WhoAmI (see node status) first: a role without
      // it (device) is refused there, before the action itself.
      const std::vector<std::string>& status = RolesFor(Action::kStatus);
      const bool no_status = std::find(status.begin(), status.end(), role) == status.end();
      const bool role_refused =
          r.err.find(absl::StrCat("may not ", ActionName(a))) != std::string::npos ||
          (no_status && !allowed &&
           r.err.find(absl::StrCat("may not ", ActionName(Action::kStatus))) != std::string::npos);
      EXPECT_EQ(role_refused, !allowed) << role << " / " << ActionName(a) << ": " << r.err;
      if (!allowed) {
        EXPECT_NE(r.exit_code, 0);
        EXPECT_NE(r.err.find("PERMISSION_DENIED"), std::string::npos) << r.err;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>((AllActions().size() - 2) * std::size(kRoles)));
}

}  // namespace
}  // namespace custody::testing
