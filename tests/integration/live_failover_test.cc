// A live upload on R nodes (issue 32, doc/live.md "On R nodes"): three real
// custodyd processes with R = 2, a camera process writing at 8 Mbit/s, and
// `custody live` given all three nodes. The node that takes the stream is
// killed (SIGKILL) mid-recording: a node that mirrors the upload takes it
// over from exactly what was acknowledged, the client goes on there, and
// the sealed object equals the file. The killed node, restarted, learns
// that it was taken over: it gives its upload up ("moved") instead of
// sealing it as truncated. An upload whose camera and node are lost
// together is sealed by its mirror.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "tests/integration/cluster_util.h"
#include "tests/integration/live_util.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// `custody --server ADDRESS ARGS --json`, parsed; null when it failed.
json Json(const NodeProcess& node, std::vector<std::string> args) {
  args.insert(args.begin(), {"--server", node.address()});
  args.push_back("--json");
  CliResult r = RunCli(args);
  if (r.exit_code != 0) return json();
  json j = json::parse(r.out, nullptr, false);
  return j.is_discarded() ? json() : j;
}

// The nodes that recorded `action` about `subject` (the trail is merged
// from every node that answers).
std::vector<std::string> NodesOf(const NodeProcess& asked, const std::string& subject,
                                 const std::string& action) {
  std::vector<std::string> out;
  const json trail = Json(asked, {"audit", "log", subject});
  if (trail.is_null()) return out;
  for (const json& e : trail["events"]) {
    if (e["action"] == action) out.push_back(e["node"]);
  }
  return out;
}

// Three nodes, R = 2, on `dir`, with --live-timeout `timeout`; empty if one
// did not start.
std::vector<std::unique_ptr<NodeProcess>> StartThree(const TempDir& dir, const char* timeout) {
  std::vector<int> ports;
  const std::string map = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  std::vector<std::unique_ptr<NodeProcess>> nodes =
      StartMappedNodes(dir, map, ports, {"--live-timeout", timeout});
  if (nodes.size() == 3) WaitUntilPeersAreUp(nodes);
  return nodes;
}

TEST(LiveFailoverTest, AMirrorTakesOverFromAKilledOwnerAndTheObjectEqualsTheFile) {
  TempDir dir;
  std::vector<std::unique_ptr<NodeProcess>> nodes = StartThree(dir, "4");
  ASSERT_EQ(nodes.size(), 3u);
  const std::string file = dir / "cam.mp4";
  const std::string id = "live-failover";
  std::unique_ptr<Subprocess> camera = Camera(dir, file, 14);  // 14 MB at 1 MB/s
  std::unique_ptr<Subprocess> live = Background(
      dir, "live",
      {"--server",
       absl::StrCat(nodes[0]->address(), ",", nodes[1]->address(), ",", nodes[2]->address()),
       "live", file, "--device", "CAM-9", "--live-id", id, "--finish-after", "3", "--json"});
  // n1 takes the stream; once it holds a full chunk and more, it dies.
  uint64_t held = 0;
  for (int i = 0; i < 200 && held < (5u << 20); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    json info = Json(*nodes[0], {"live", "show", id});
    if (!info.is_null()) held = info["held"];
  }
  ASSERT_GE(held, 5u << 20) << ReadFile(dir / "live.err");
  ASSERT_EQ(nodes[0]->Kill(SIGKILL), 128 + SIGKILL);
  ASSERT_EQ(camera->Wait(), 0);
  ASSERT_EQ(live->Wait(), 0) << ReadFile(dir / "live.err");
  const json r = json::parse(ReadFile(dir / "live.out"));
  EXPECT_EQ(r["state"], "sealed") << r.dump();
  EXPECT_EQ(r["object_id"], HashFile(file)) << "the object is the file, bit for bit";
  EXPECT_EQ(r["held"], fs::file_size(file));
  EXPECT_EQ(r["durable_replicas"], 2) << r.dump();
  EXPECT_GE(r["reconnects"].get<int>(), 1);
  // One of the two others took it over (the one that held its mirror), and
  // sealed it.
  const std::vector<std::string> takers = NodesOf(*nodes[1], "live:" + id, "live.taken-over");
  ASSERT_EQ(takers.size(), 1u) << Json(*nodes[1], {"audit", "log", "live:" + id}).dump();
  ASSERT_TRUE(takers[0] == "n2" || takers[0] == "n3") << takers[0];
  EXPECT_EQ(NodesOf(*nodes[1], "live:" + id, "live.sealed"), takers);
  const NodeProcess& taker = takers[0] == "n2" ? *nodes[1] : *nodes[2];
  json stat = Json(taker, {"stat", r["object_id"]});
  EXPECT_EQ(stat["size"], fs::file_size(file));
  EXPECT_EQ(stat["metadata"]["live"], "complete");
  // The killed node comes back with its upload still "recording" and long
  // silent: its idle check finds it was taken over, and gives it up.
  ASSERT_TRUE(nodes[0]->Start()) << nodes[0]->Log();
  json mine;
  for (int i = 0; i < 100; ++i) {
    mine = Json(*nodes[0], {"live", "show", id});
    if (!mine.is_null() && mine["state"] != "recording") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(mine["state"], "moved") << mine.dump() << nodes[0]->Log();
  EXPECT_EQ(mine["moved_to"], takers[0]);
  EXPECT_EQ(mine["object_id"], "") << "no truncated object from the stale copy";
  EXPECT_EQ(NodesOf(*nodes[0], "live:" + id, "live.moved"), std::vector<std::string>{"n1"});
  EXPECT_TRUE(NodesOf(*nodes[0], "live:" + id, "live.truncated").empty());
}

// The camera and the node that took its stream are lost together: the
// upload's mirror seals it on its own, once it has been silent for twice
// --live-timeout, as truncated, holding everything that node acknowledged.
TEST(LiveFailoverTest, AnUploadWhoseCameraAndNodeAreLostIsSealedByItsMirror) {
  TempDir dir;
  std::vector<std::unique_ptr<NodeProcess>> nodes = StartThree(dir, "3");
  ASSERT_EQ(nodes.size(), 3u);
  const std::string file = dir / "cam.mp4";
  const std::string id = "live-orphan";
  std::unique_ptr<Subprocess> camera = Camera(dir, file, 10);
  std::unique_ptr<Subprocess> live =
      Background(dir, "live",
                 {"--server", nodes[0]->address(), "live", file, "--device", "CAM-8", "--live-id",
                  id, "--finish-after", "30"});
  json info;
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    info = Json(*nodes[0], {"live", "show", id});
    if (!info.is_null() && info["held"] >= (2u << 20)) break;
  }
  camera->Kill(SIGKILL);
  live->Kill(SIGKILL);
  info = Json(*nodes[0], {"live", "show", id});  // all it acknowledged
  ASSERT_FALSE(info.is_null());
  const uint64_t held = info["held"];
  ASSERT_GE(held, 2u << 20);
  ASSERT_EQ(nodes[0]->Kill(SIGKILL), 128 + SIGKILL);
  json sealed;
  const NodeProcess* by = nullptr;
  for (int i = 0; i < 150 && by == nullptr; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (int n : {1, 2}) {
      json j = Json(*nodes[n], {"live", "show", id});
      if (!j.is_null() && j["state"] == "truncated") sealed = j, by = nodes[n].get();
    }
  }
  ASSERT_NE(by, nullptr) << "no mirror sealed it";
  EXPECT_EQ(sealed["held"], held);
  EXPECT_EQ(sealed["object_id"], Digest::Of(ReadFile(file).substr(0, held)).ToString());
  json stat = Json(*by, {"stat", sealed["object_id"]});
  EXPECT_EQ(stat["metadata"]["live"], "truncated");
  EXPECT_EQ(NodesOf(*by, "live:" + id, "live.truncated").size(), 1u);
}

}  // namespace
}  // namespace custody::testing
