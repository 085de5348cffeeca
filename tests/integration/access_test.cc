// Roles, tokens and access grants (issue 5) on a TLS cluster of three real
// nodes: who may do what, the two-person approval before anyone views
// footage (made on one node, seen on the others), expiry and revocation,
// and every refusal on record.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "client/client.h"
#include "tests/integration/access_fixture.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

TEST_F(AccessTest, TwoPeopleApproveBeforeAnyoneViewsAndGrantsEndOrAreRevoked) {
  std::string id = Stored("agency=A");
  EXPECT_FALSE(CanRead("olga", 1, id));
  std::string req = Request("olga", 1, id);  // asked on n2
  ASSERT_FALSE(req.empty());
  ASSERT_EQ(As("hank", 2, {"access", "approve", req}).exit_code, 0);  // approved on n3
  EXPECT_FALSE(CanRead("olga", 0, id)) << "one approval is not enough";
  CliResult twice = As("hank", 0, {"access", "approve", req});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.err.find("another person"), std::string::npos) << twice.err;
  CliResult other_agency = As("leo", 0, {"access", "approve", req});
  EXPECT_NE(other_agency.err.find("agency \"A\""), std::string::npos) << other_agency.err;
  CliResult own = As("olga", 0, {"access", "approve", req});
  EXPECT_NE(own.err.find("PERMISSION_DENIED"), std::string::npos) << own.err;
  ASSERT_EQ(As("lena", 0, {"access", "approve", req}).exit_code, 0);
  // Granted on n1; the grant reaches every node (sent at once, or by anti-entropy).
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!CanRead("olga", 2, id) && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(CanRead("olga", 2, id));
  EXPECT_TRUE(CanRead("olga", 1, id));
  CliResult log = As("aud", 2, {"audit", "log", id, "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  bool registered = false;
  json history = json::parse(log.out);
  for (const auto& e : history["events"]) {
    registered =
        registered || (e["action"] == "object.read" && e["details"]["viewer"] == "user:olga" &&
                       e["details"]["reason"] == "hearing 2026-12-03");
  }
  EXPECT_TRUE(registered) << log.out;

  // A short grant ends by itself.
  std::string brief = Request("olga", 0, id, "3s");
  ASSERT_EQ(As("hank", 0, {"access", "approve", brief}).exit_code, 0);
  ASSERT_EQ(As("lena", 0, {"access", "approve", brief}).exit_code, 0);
  // Revoking the long grant leaves only the brief one, which then expires.
  ASSERT_EQ(As("hank", 1, {"access", "revoke", req, "--reason", "hearing moved"}).exit_code, 0);
  EXPECT_TRUE(CanRead("olga", 0, id));
  absl::SleepFor(absl::Seconds(4));
  EXPECT_FALSE(CanRead("olga", 0, id)) << "expired and revoked grants give nothing";
  CliResult list = As("hank", 0, {"access", "list", "--object", id, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::map<std::string, std::string> states;
  json grants = json::parse(list.out)["grants"];
  for (const auto& g : grants) states[g["request"]] = g["state"];
  EXPECT_EQ(states[req], "revoked");
  EXPECT_EQ(states[brief], "expired");
}

TEST_F(AccessTest, EachRoleMayDoOnlyItsPartAndEveryRefusalIsOnRecord) {
  std::string id = Stored("agency=A");
  std::string file = dir_ / "more";
  WriteRandomFile(file, 1000, 99);
  struct Try {
    std::string what;
    std::vector<std::string> args;
  };
  const std::vector<Try> tries = {
      {"put", {"put", file}},          {"ls", {"ls"}},
      {"stat", {"stat", id}},          {"get", {"get", id, "-o", dir_ / "nope"}},
      {"audit", {"audit", "log", id}}, {"repair", {"cluster", "repair", "--node", "n1"}},
      {"users", {"user", "list"}},     {"request", {"access", "request", id, "--reason", "review"}},
  };
  // Allowed per role; get is refused to everyone here: nobody holds a grant.
  const std::map<std::string, std::set<std::string>> allowed = {
      {"admin", {"repair", "users"}},
      {"arch", {"put", "ls", "stat", "audit", "request"}},
      {"ingest", {"put"}},
      {"olga", {"put", "ls", "stat", "request"}},
      {"hank", {"ls", "stat", "audit", "request"}},
      {"aud", {"ls", "stat", "audit"}}};
  int refused = 0;
  for (const auto& [user, may] : allowed) {
    for (const Try& t : tries) {
      std::filesystem::remove(dir_ / "nope");
      CliResult r = As(user, 0, t.args);
      bool ok = r.exit_code == 0;
      EXPECT_EQ(ok, may.count(t.what) > 0) << user << " " << t.what << ": " << r.err;
      if (!ok) {
        EXPECT_NE(r.err.find("PERMISSION_DENIED"), std::string::npos) << user << " " << t.what;
        ++refused;
      }
    }
  }
  EXPECT_EQ(Refusals(id), refused);
}

TEST_F(AccessTest, TokensWorkOnEveryNodeUntilTheUserIsDisabled) {
  nodes_[2]->Kill(SIGKILL);  // n3 misses the change; anti-entropy brings it later
  CliResult add =
      As("admin", 0, {"user", "add", "tina", "--role", "officer", "--agency", "A", "--json"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  ASSERT_TRUE(nodes_[2]->Start()) << nodes_[2]->Log();
  std::string token = json::parse(add.out)["token"];
  CliResult refused = As("olga", 0, {"user", "add", "mallory", "--role", "admin"});
  EXPECT_NE(refused.err.find("PERMISSION_DENIED"), std::string::npos) << refused.err;
  // Only the CA certificate, no client certificate: the token names her.
  std::filesystem::create_directories(dir_ / "token-only");
  std::filesystem::copy_file(dir_ / "ca/ca.pem", dir_ / "token-only/ca.pem");
  int tokens = 0;
  auto whoami = [&](int n, const std::string& t) {
    std::string file = dir_ / ("token-" + std::to_string(tokens++));
    return RunCli({"--server", nodes_[n]->address(), "--tls", dir_ / "token-only", "--token-file",
                   WriteTokenFile(file, t), "whoami", "--json"});
  };
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  CliResult me = whoami(2, token);
  while (me.exit_code != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(300));
    me = whoami(2, token);
  }
  ASSERT_EQ(me.exit_code, 0) << me.err;
  EXPECT_EQ(json::parse(me.out)["name"], "user:tina");
  CliResult in_argv = RunCli(
      {"--server", nodes_[2]->address(), "--tls", dir_ / "token-only", "--token", token, "whoami"});
  EXPECT_NE(in_argv.exit_code, 0);
  EXPECT_NE(in_argv.err.find("process list"), std::string::npos) << in_argv.err;
  CliResult wrong = whoami(1, token + "x");
  EXPECT_NE(wrong.err.find("UNAUTHENTICATED"), std::string::npos) << wrong.err;
  ASSERT_EQ(As("admin", 1, {"user", "disable", "tina", "--reason", "left the unit"}).exit_code, 0);
  deadline = absl::Now() + absl::Seconds(20);
  while (whoami(0, token).exit_code == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(300));
  }
  CliResult gone = whoami(0, token);
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("disabled"), std::string::npos) << gone.err;
}

TEST_F(AccessTest, ObjectsAboveAClearanceAreNotThereForThatCaller) {
  std::string secret = Stored("classification=privacy");
  std::string plain = Stored("classification=internal");
  std::string nowhere = "sha256:" + std::string(64, 'a');
  auto listed = [&](const std::string& user) {  // ls lists a node's own objects: ask all
    std::set<std::string> ids;
    for (int n = 0; n < 3; ++n) {
      CliResult ls = As(user, n, {"ls", "--json"});
      EXPECT_EQ(ls.exit_code, 0) << ls.err;
      json objects = json::parse(ls.out)["objects"];
      for (const auto& o : objects) ids.insert(o["id"].get<std::string>());
    }
    return ids;
  };
  EXPECT_EQ(listed("olga").count(secret), 0u);
  EXPECT_EQ(listed("olga").count(plain), 1u);
  EXPECT_EQ(listed("pia").count(secret), 1u);
  // Hidden and missing read the same, word for word (ids aside).
  auto error_of = [&](const std::string& user, const std::vector<std::string>& args,
                      const std::string& id) {
    CliResult r = As(user, 1, args);
    EXPECT_NE(r.exit_code, 0);
    std::string err = r.err;
    for (size_t at; (at = err.find(id)) != std::string::npos;) err.replace(at, id.size(), "ID");
    return err;
  };
  EXPECT_EQ(error_of("olga", {"stat", secret}, secret),
            error_of("olga", {"stat", nowhere}, nowhere));
  EXPECT_EQ(error_of("olga", {"access", "request", secret, "--reason", "look"}, secret),
            error_of("olga", {"access", "request", nowhere, "--reason", "look"}, nowhere));
  EXPECT_NE(error_of("olga", {"stat", secret}, secret).find("NOT_FOUND"), std::string::npos);
  EXPECT_EQ(As("pia", 1, {"stat", secret}).exit_code, 0);
  EXPECT_EQ(error_of("aud", {"audit", "log", secret}, secret),
            error_of("aud", {"audit", "log", nowhere}, nowhere));
  // A level that does not exist is refused at the door.
  std::string file = dir_ / "odd";
  WriteRandomFile(file, 100, 7);
  CliResult odd = As("arch", 0, {"put", file, "--meta", "classification=top-secret"});
  EXPECT_NE(odd.err.find("INVALID_ARGUMENT"), std::string::npos) << odd.err;
}

}  // namespace
}  // namespace custody::testing
