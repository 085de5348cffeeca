// The fixture of the access tests (issue 5): a TLS cluster of three real
// nodes with users of every role (olga an officer of agency A, arch its
// archivist, hank an archive-head, lena A's leader, leo B's, aud an
// auditor, pia an officer cleared for privacy).
#ifndef CUSTODY_TESTS_INTEGRATION_ACCESS_FIXTURE_H_
#define CUSTODY_TESTS_INTEGRATION_ACCESS_FIXTURE_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/integration/cluster_util.h"

namespace custody::testing {

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nodes_ =
        StartTlsCluster(dir_,
                        {{"admin", {"--role", "admin"}},
                         {"arch", {"--role", "archivist", "--agency", "A"}},
                         {"ingest", {"--role", "ingest"}},
                         {"olga", {"--role", "officer", "--agency", "A"}},
                         {"hank", {"--role", "archive-head"}},
                         {"lena", {"--role", "leader", "--agency", "A"}},
                         {"leo", {"--role", "leader", "--agency", "B"}},
                         {"aud", {"--role", "auditor"}},
                         {"pia", {"--role", "officer", "--agency", "A", "--clearance", "privacy"}}},
                        "aud", 3, {"--repair-interval", "1s"});
    ASSERT_EQ(nodes_.size(), 3u);
  }
  void TearDown() override { ASSERT_TRUE(CustodyClient::UseTls("").ok()); }

  // The CLI as `user` through node `n` (0-based).
  CliResult As(const std::string& user, int n, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", nodes_[n]->address(), "--tls", dir_ / user});
    return RunCli(args);
  }
  std::string Stored(const std::string& meta) {
    std::string file = dir_ / ("f" + std::to_string(files_++));
    std::string id = WriteRandomFile(file, 200 << 10, 50 + files_);
    CliResult put = As("arch", 0, {"put", file, "--meta", meta});
    EXPECT_EQ(put.exit_code, 0) << put.err;
    return id;
  }
  std::string Request(const std::string& user, int n, const std::string& id,
                      const std::string& duration = "1h") {
    CliResult r = As(
        user, n,
        {"access", "request", id, "--reason", "hearing 2026-12-03", "--for", duration, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out)["request"].get<std::string>() : "";
  }
  bool CanRead(const std::string& user, int n, const std::string& id) {
    std::filesystem::remove(dir_ / "back");
    return As(user, n, {"get", id, "-o", dir_ / "back"}).exit_code == 0;
  }
  // access.refused events on n1, about the node itself and about `id`.
  int Refusals(const std::string& id) {
    int n = 0;
    for (const std::string& subject : {std::string("node"), id}) {
      CliResult log = As("aud", 0, {"audit", "log", subject, "--json"});
      EXPECT_EQ(log.exit_code, 0) << log.err;
      if (log.exit_code != 0) continue;
      nlohmann::json events = nlohmann::json::parse(log.out)["events"];
      for (const auto& e : events) n += e["action"] == "access.refused";
    }
    return n;
  }

  // Footage of an archived record of agency A: {object id, record id,
  // archive number} (export_test.cc).
  std::vector<std::string> ArchivedFootage();

  TempDir dir_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  int files_ = 0;
};

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_INTEGRATION_ACCESS_FIXTURE_H_
