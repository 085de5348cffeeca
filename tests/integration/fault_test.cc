// Faults a site really has (issue 26): a node that flaps, a node that is
// down among several. Real custodyd processes on 127.0.0.1, killed for real.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

// A put started while its node is down waits for it: a node back within
// the client's retry budget (about 15 s of wall time) takes the upload.
TEST(FaultTest, APutStartedWhileItsNodeIsDownUsesItWhenItIsBack) {
  TempDir dir;
  NodeProcess node(dir / "data");
  ASSERT_TRUE(node.Start()) << node.Log();
  for (int seconds : {5, 7, 9}) {
    std::string file = dir / absl::StrCat("clip-", seconds, ".mp4");
    std::string want = WriteRandomFile(file, 3 << 20, seconds);
    node.Kill(SIGKILL);
    std::string out = dir / absl::StrCat("put-", seconds, ".out");
    std::string err = dir / absl::StrCat("put-", seconds, ".err");
    Subprocess put({CUSTODY_CLI_PATH, "--server", node.address(), "put", file, "--json"}, out, err);
    absl::SleepFor(absl::Seconds(seconds));
    ASSERT_TRUE(put.running()) << "the put gave up after " << seconds
                               << " s while its node was down: " << ReadFile(err);
    ASSERT_TRUE(node.Start()) << node.Log();
    ASSERT_EQ(put.Wait(), 0) << "node back after " << seconds << " s: " << ReadFile(err);
    json r = json::parse(ReadFile(out));
    EXPECT_EQ(r["id"], want);
    EXPECT_GT(r["attempts"].get<int>(), 1);
  }
}

// Given several nodes, a put, a get and a status go to the next node when
// the first is down, at once.
TEST(FaultTest, ANodeDownAmongSeveralHandsTheCallToTheNext) {
  TempDir dir;
  NodeProcess node(dir / "data");
  ASSERT_TRUE(node.Start()) << node.Log();
  std::string down = absl::StrCat("127.0.0.1:", FreePort());
  std::string servers = absl::StrCat(down, ",", node.address());
  std::string file = dir / "interview.wav";
  std::string want = WriteRandomFile(file, 1 << 20, 3);
  CliResult put = RunCli({"--server", servers, "put", file, "--json"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(json::parse(put.out)["id"], want);
  CliResult get = RunCli({"--server", servers, "get", want, "-o", dir / "back"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(HashFile(dir / "back"), want);
  CliResult status = RunCli({"--server", servers, "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  CliResult log = RunCli({"--server", servers, "audit", "log", want});
  EXPECT_EQ(log.exit_code, 0) << log.err;

  // Every node down: the error names each address with its last error.
  node.Kill(SIGKILL);
  CliResult none = RunCli({"--server", servers, "status"});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find(down), std::string::npos) << none.err;
  EXPECT_NE(none.err.find(node.address()), std::string::npos) << none.err;
}

}  // namespace
}  // namespace custody::testing
