// A cluster that heals itself (issue 4): three real nodes, R = 2. Objects of
// mixed sizes land on exactly their two home nodes in different zones; a node
// killed during concurrent puts, or wiped, is filled again by anti-entropy
// without an operator; a flipped byte in a volume is read around, found by
// the scrubber, repaired from the other replica, and audited.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "replication/cluster/buckets.h"
#include "replication/cluster/cluster_map.h"
#include "tests/integration/cluster_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Small chunks, so that objects of a few hundred KiB have several.
const std::vector<std::string> kFastNodes = {"--chunk-size", "64KiB", "--repair-interval", "1s"};

json ClusterStatus(const NodeProcess& via) {
  CliResult r = RunCli({"--server", via.address(), "cluster", "status", "--json"});
  if (r.exit_code != 0) return json();
  return json::parse(r.out);
}

// Waits (up to `limit`) until every node is up and none counts a copy
// missing; returns the last status seen.
json WaitForFullReplication(const NodeProcess& via, absl::Duration limit) {
  absl::Time deadline = absl::Now() + limit;
  json st;
  while (absl::Now() < deadline) {
    st = ClusterStatus(via);
    bool all_up = st.is_object();
    if (all_up) {
      for (const auto& n : st["nodes"]) {
        all_up = all_up && n["up"].get<bool>() && n["last_repair"].is_object();
      }
    }
    if (all_up && st["under_replicated"] == 0) return st;
    absl::SleepFor(absl::Milliseconds(300));
  }
  return st;
}

std::string Get(const NodeProcess& via, const std::string& id, const std::string& out) {
  fs::remove(out);
  CliResult get = RunCli({"--server", via.address(), "get", id, "-o", out});
  if (get.exit_code != 0) return "get failed: " + get.err;
  return HashFile(out);
}

std::vector<std::string> Homes(const ClusterMap& map, const Digest& key) {
  std::vector<std::string> out;
  for (const NodeInfo* n : HomesOf(map, key)) out.push_back(n->id);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(HealTest, TwoHundredObjectsOfMixedSizesLiveOnExactlyTheirTwoHomes) {
  TempDir dir;
  std::vector<int> ports;
  std::string map_file = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  ClusterMap map = *ClusterMap::Load(map_file);
  auto nodes = StartMappedNodes(dir, map_file, ports, kFastNodes);
  ASSERT_EQ(nodes.size(), 3u);
  const uint64_t sizes[] = {1, 1000, 64 << 10, (200 << 10) + 17, (1 << 20) + 5};
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    std::string path = dir / ("obj-" + std::to_string(i));
    ids.push_back(WriteRandomFile(path, sizes[i % 5], 1000 + i));
    auto put = CustodyClient::Connect(nodes[i % 3]->address())->Put(path, {});
    ASSERT_TRUE(put.ok()) << put.status();
    EXPECT_EQ(put->durable_replicas, 2u);
    fs::remove(path);
  }
  for (const std::string& id : ids) {
    Digest d = *Digest::Parse(id);
    std::vector<std::string> holders = Holders(nodes, internal::v1::MANIFEST, d);
    ASSERT_EQ(holders, Homes(map, d)) << id;
    EXPECT_NE(map.Find(holders[0])->zone, map.Find(holders[1])->zone) << id;
  }
  // Every chunk too: objects of one chunk are their own chunk.
  for (size_t i = 1; i < ids.size(); i += 5) {
    Digest d = *Digest::Parse(ids[i]);
    EXPECT_EQ(Holders(nodes, internal::v1::CHUNK, d), Homes(map, d)) << ids[i];
  }
  json st = WaitForFullReplication(*nodes[0], absl::Seconds(30));
  EXPECT_EQ(st["under_replicated"], 0) << st.dump();
}

// kill -9 one node while four clients put through the other two: every
// acknowledged object reads back bit-exact through each remaining node;
// after a restart the cluster converges to full replication by itself.
TEST(HealTest, KilledNodeConvergesAfterConcurrentPuts) {
  TempDir dir;
  std::vector<int> ports;
  std::string map_file = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  ClusterMap map = *ClusterMap::Load(map_file);
  auto nodes = StartMappedNodes(dir, map_file, ports, kFastNodes);
  ASSERT_EQ(nodes.size(), 3u);
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<int> started{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      auto client = CustodyClient::Connect(nodes[c % 2 == 0 ? 0 : 2]->address());
      for (int i = 0; i < 15; ++i) {
        std::string path = dir / absl::StrCat("c", c, "-", i);
        std::string id = WriteRandomFile(path, (i % 3 + 1) * (150 << 10) + c, c * 100 + i);
        ++started;
        auto put = client->Put(path, {});
        if (put.ok() && put->durable_replicas >= 2) {
          std::lock_guard<std::mutex> l(mu);
          acknowledged.push_back(id);
        }
      }
    });
  }
  while (started < 12) absl::SleepFor(absl::Milliseconds(5));
  nodes[1]->Kill(SIGKILL);  // n2, mid-puts
  for (std::thread& t : clients) t.join();
  ASSERT_GE(acknowledged.size(), 50u);  // a put in flight may fail; most cannot
  for (const std::string& id : acknowledged) {
    for (int via : {0, 2}) {
      EXPECT_EQ(Get(*nodes[via], id, dir / "back"), id) << "through n" << via + 1;
    }
  }
  json down = ClusterStatus(*nodes[0]);
  ASSERT_TRUE(nodes[1]->Start()) << nodes[1]->Log();
  json st = WaitForFullReplication(*nodes[0], absl::Seconds(60));
  ASSERT_EQ(st["under_replicated"], 0) << st.dump();
  for (const std::string& id : acknowledged) {
    Digest d = *Digest::Parse(id);
    std::vector<std::string> holders = Holders(nodes, internal::v1::MANIFEST, d);
    for (const std::string& home : Homes(map, d)) {
      EXPECT_NE(std::find(holders.begin(), holders.end(), home), holders.end())
          << id << " is not on its home " << home;
    }
  }
}

// A node whose data folder is wiped comes back empty and is filled again:
// it then serves its objects alone, with both other nodes killed.
TEST(HealTest, WipedNodeIsRestoredByTheOthers) {
  TempDir dir;
  std::vector<int> ports;
  std::string map_file = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  ClusterMap map = *ClusterMap::Load(map_file);
  auto nodes = StartMappedNodes(dir, map_file, ports, kFastNodes);
  ASSERT_EQ(nodes.size(), 3u);
  std::vector<std::string> on_n2;
  for (int i = 0; i < 30; ++i) {
    std::string path = dir / ("obj-" + std::to_string(i));
    std::string id = WriteRandomFile(path, (i % 4) * (100 << 10) + 333, 7000 + i);
    ASSERT_TRUE(CustodyClient::Connect(nodes[i % 3]->address())->Put(path, {}).ok());
    std::vector<std::string> homes = Homes(map, *Digest::Parse(id));
    if (std::find(homes.begin(), homes.end(), "n2") != homes.end()) on_n2.push_back(id);
  }
  ASSERT_GE(on_n2.size(), 5u);
  nodes[1]->Kill(SIGKILL);
  fs::remove_all(dir / "n2");
  ASSERT_TRUE(nodes[1]->Start()) << nodes[1]->Log();
  CliResult repair = RunCli({"--server", nodes[0]->address(), "cluster", "repair", "--json"});
  json st = WaitForFullReplication(*nodes[1], absl::Seconds(60));
  ASSERT_EQ(st["under_replicated"], 0) << st.dump() << repair.out << repair.err;
  for (const std::string& id : on_n2) {  // both homes; a handoff copy may stay as a third
    std::vector<std::string> holders = Holders(nodes, internal::v1::MANIFEST, *Digest::Parse(id));
    for (const std::string& home : Homes(map, *Digest::Parse(id))) {
      EXPECT_NE(std::find(holders.begin(), holders.end(), home), holders.end())
          << id << " " << home;
    }
  }
  CliResult log = RunCli({"--server", nodes[1]->address(), "audit", "log", on_n2[0], "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  bool repaired = false;
  json history = json::parse(log.out);
  for (const auto& e : history["events"]) {
    repaired = repaired || (e["node"] == "n2" && e["action"] == "object.repaired");
  }
  EXPECT_TRUE(repaired) << log.out;
  nodes[0]->Kill(SIGKILL);
  nodes[2]->Kill(SIGKILL);
  for (const std::string& id : on_n2) {
    EXPECT_EQ(Get(*nodes[1], id, dir / "back"), id) << "n2 alone";
  }
}

// Status is honest between repair rounds (issue 26): a node that is down,
// or back but wiped, makes the cluster's under-replicated count non-zero at
// once (down) or within an estimate (wiped), though no round has run.
TEST(HealTest, StatusCountsWhatADownOrWipedNodeLacksBeforeAnyRepairRound) {
  TempDir dir;
  std::vector<int> ports;
  std::string map_file = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  auto nodes =
      StartMappedNodes(dir, map_file, ports, {"--chunk-size", "64KiB", "--repair-interval", "1h"});
  ASSERT_EQ(nodes.size(), 3u);
  for (int i = 0; i < 12; ++i) {
    std::string path = dir / absl::StrCat("clip-", i);
    WriteRandomFile(path, 100 << 10, 900 + i);
    ASSERT_TRUE(CustodyClient::Connect(nodes[i % 3]->address())->Put(path, {}).ok());
  }
  // Every node has made an estimate (the first comes 1 s after start), and
  // they add up to 0.
  auto settled = [](const json& st) {
    if (!st.is_object() || st["under_replicated"] != 0) return false;
    for (const auto& n : st["nodes"]) {
      if (!n["up"].get<bool>() || n["under_replicated_measured"].is_null()) return false;
    }
    return true;
  };
  // Estimates come every 5 s: wait for one made after the puts.
  absl::SleepFor(absl::Seconds(6));
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!settled(ClusterStatus(*nodes[0])) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(300));
  }
  ASSERT_TRUE(settled(ClusterStatus(*nodes[0]))) << ClusterStatus(*nodes[0]).dump();

  nodes[2]->Kill(SIGKILL);
  json down = ClusterStatus(*nodes[0]);
  EXPECT_GT(down["under_replicated"].get<uint64_t>(), 0u) << down.dump();
  EXPECT_TRUE(down["under_replicated_measured"].is_string()) << down.dump();

  std::filesystem::remove_all(dir / "n3");
  ASSERT_TRUE(nodes[2]->Start()) << nodes[2]->Log();
  // Each node re-estimates every 5 s: within a few, n3's bucket digests show
  // what it lacks.
  auto names_n3 = [](const json& st) {
    if (!st.is_object()) return false;
    for (const auto& why : st["under_replicated_reasons"]) {
      if (why.get<std::string>().find("n3 lacks") != std::string::npos) return true;
    }
    return false;
  };
  json wiped;
  deadline = absl::Now() + absl::Seconds(30);
  do {
    absl::SleepFor(absl::Milliseconds(300));
    wiped = ClusterStatus(*nodes[0]);
  } while (!names_n3(wiped) && absl::Now() < deadline);
  ASSERT_TRUE(names_n3(wiped)) << wiped.dump();
  EXPECT_GT(wiped["under_replicated"].get<uint64_t>(), 0u) << wiped.dump();
  for (const auto& n : wiped["nodes"]) {
    EXPECT_TRUE(!n.contains("last_repair") || n["last_repair"].is_null())
        << "a repair round ran: " << wiped.dump();
  }
}

// Flips one byte of `piece` (found by its first 4 KiB) in the node's volume.
bool FlipByteOf(const std::string& node_dir, const std::string& piece) {
  for (const auto& e : fs::directory_iterator(node_dir + "/volumes")) {
    int64_t at = FindInFile(e.path(), piece.substr(0, 4096));
    if (at < 0) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(at + 1000);
    char c = piece[1000] ^ 0x5a;
    f.write(&c, 1);
    return true;
  }
  return false;
}

// A chunk's homes need not hold its object's manifest: the scrubber asks
// every node which objects use a bad chunk and files its findings under
// each, so they show in the object's history (issue 26).
TEST(HealTest, AScrubRepairShowsInTheHistoryOfAnObjectWhoseManifestLivesElsewhere) {
  TempDir dir;
  std::vector<int> ports;
  std::string map_file = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  ClusterMap map = *ClusterMap::Load(map_file);
  auto nodes = StartMappedNodes(dir, map_file, ports, kFastNodes);
  ASSERT_EQ(nodes.size(), 3u);
  std::string path = dir / "interview.mp4";
  std::string id = WriteRandomFile(path, 16 * (64 << 10), 77);  // 16 chunks of 64 KiB
  ASSERT_TRUE(CustodyClient::Connect(nodes[0]->address())->Put(path, {}).ok());
  std::vector<std::string> object_homes = Homes(map, *Digest::Parse(id));
  std::string content = ReadFile(path);
  std::string chunk, piece, victim;
  for (size_t at = 0; at < content.size() && victim.empty(); at += 64 << 10) {
    piece = content.substr(at, 64 << 10);
    Digest d = Digest::Of(piece);
    for (const std::string& h : Homes(map, d)) {
      if (std::find(object_homes.begin(), object_homes.end(), h) == object_homes.end()) {
        victim = h;
        chunk = d.ToString();
      }
    }
  }
  ASSERT_FALSE(victim.empty()) << "no chunk lives on a node without the manifest";
  ASSERT_TRUE(FlipByteOf(dir / victim, piece));
  const NodeProcess& any = *nodes[0];
  CliResult scrub =
      RunCli({"--server", any.address(), "cluster", "scrub", "--node", victim, "--json"});
  ASSERT_EQ(scrub.exit_code, 0) << scrub.out << scrub.err;
  EXPECT_EQ(json::parse(scrub.out)["reports"][0]["repaired"], 1) << scrub.out;
  CliResult log = RunCli({"--server", any.address(), "audit", "log", id, "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  json history = json::parse(log.out);
  std::map<std::string, json> seen;
  for (const auto& e : history["events"]) {
    if (e["node"] == victim) seen[e["action"].get<std::string>()] = e;
  }
  ASSERT_TRUE(seen.count("chunk.corrupt")) << log.out;
  ASSERT_TRUE(seen.count("chunk.repaired")) << log.out;
  EXPECT_EQ(seen["chunk.corrupt"]["details"]["chunk"], chunk);
  EXPECT_EQ(seen["chunk.repaired"]["details"]["chunk"], chunk);
  EXPECT_EQ(seen["chunk.repaired"]["subject"], id);
}

TEST(HealTest, ScrubberRepairsAFlippedByteAndSaysSo) {
  TempDir dir;
  std::vector<int> ports;
  std::string map_file = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  ClusterMap map = *ClusterMap::Load(map_file);
  auto nodes = StartMappedNodes(dir, map_file, ports, kFastNodes);
  ASSERT_EQ(nodes.size(), 3u);
  std::string path = dir / "hearing.mp4";
  std::string id = WriteRandomFile(path, 40 << 10, 4242);  // one chunk: its id is the chunk's
  ASSERT_TRUE(CustodyClient::Connect(nodes[0]->address())->Put(path, {}).ok());
  std::vector<std::string> homes = Homes(map, *Digest::Parse(id));
  const int victim = homes[0][1] - '1', other = homes[1][1] - '1';
  // Flip one byte of the chunk's bytes in the victim's volume.
  ASSERT_TRUE(FlipByteOf(dir / homes[0], ReadFile(path)));
  EXPECT_EQ(Get(*nodes[victim], id, dir / "back"), id) << "read around the bad copy";
  CliResult scrub = RunCli(
      {"--server", nodes[other]->address(), "cluster", "scrub", "--node", homes[0], "--json"});
  ASSERT_EQ(scrub.exit_code, 0) << scrub.out << scrub.err;
  json report = json::parse(scrub.out)["reports"][0];
  EXPECT_EQ(report["node"], homes[0]);
  EXPECT_EQ(report["corrupt"], 1) << scrub.out;
  EXPECT_EQ(report["repaired"], 1) << scrub.out;
  CliResult log = RunCli({"--server", nodes[victim]->address(), "audit", "log", id, "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::map<std::string, json> seen;
  json history = json::parse(log.out);
  for (const auto& e : history["events"]) {
    if (e["node"] == homes[0]) seen[e["action"].get<std::string>()] = e;
  }
  ASSERT_TRUE(seen.count("chunk.corrupt")) << log.out;
  ASSERT_TRUE(seen.count("chunk.repaired")) << log.out;
  EXPECT_EQ(seen["chunk.repaired"]["details"]["from_node"], homes[1]);
  EXPECT_EQ(seen["chunk.repaired"]["actor"], "custodyd") << "the node's own doing";
  EXPECT_EQ(seen["chunk.corrupt"]["details"]["quarantined"], "yes");
  bool kept = false;
  for (const auto& e : fs::directory_iterator(dir / homes[0] + "/quarantine")) {
    kept = kept || e.path().filename().string().rfind("chunk-", 0) == 0;
  }
  EXPECT_TRUE(kept) << "the bad bytes are set aside, not dropped";
  // A second pass finds nothing; the repaired copy serves alone.
  CliResult again = RunCli(
      {"--server", nodes[victim]->address(), "cluster", "scrub", "--node", homes[0], "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["reports"][0]["corrupt"], 0);
  nodes[other]->Kill(SIGKILL);
  EXPECT_EQ(Get(*nodes[victim], id, dir / "back"), id);
  json st = ClusterStatus(*nodes[victim]);
  EXPECT_EQ(st["nodes"][victim]["last_scrub"]["corrupt"], 0) << st.dump();
}

// A node removed from the map (n3, gone for good): with the new map version
// its objects' new homes get copies from the nodes that still hold them.
TEST(HealTest, RemovingANodeFromTheMapReReplicatesItsData) {
  TempDir dir;
  std::vector<int> ports;
  std::string map_file = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  auto nodes = StartMappedNodes(dir, map_file, ports, kFastNodes);
  ASSERT_EQ(nodes.size(), 3u);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    std::string path = dir / ("obj-" + std::to_string(i));
    ids.push_back(WriteRandomFile(path, (i % 3) * (70 << 10) + 10, 300 + i));
    ASSERT_TRUE(CustodyClient::Connect(nodes[i % 3]->address())->Put(path, {}).ok());
  }
  for (auto& n : nodes) n->Kill(SIGTERM);
  // Version 2: n1 and n2 only (the map keeps their ports).
  std::ofstream(map_file) << absl::StrCat(
      R"({"version": 2, "replication_factor": 2, "nodes": [)",
      R"({"id": "n1", "address": "127.0.0.1:)", ports[0], R"(", "zone": "a"},)",
      R"({"id": "n2", "address": "127.0.0.1:)", ports[1], R"(", "zone": "b"}]})");
  nodes.pop_back();
  for (auto& n : nodes) ASSERT_TRUE(n->Start()) << n->Log();
  json st = WaitForFullReplication(*nodes[0], absl::Seconds(60));
  ASSERT_EQ(st["under_replicated"], 0) << st.dump();
  for (const std::string& id : ids) {
    EXPECT_EQ(Holders(nodes, internal::v1::MANIFEST, *Digest::Parse(id), 2).size(), 2u) << id;
  }
  nodes[1]->Kill(SIGKILL);
  for (size_t i = 0; i < ids.size(); i += 3)
    EXPECT_EQ(Get(*nodes[0], ids[i], dir / "back"), ids[i]);
}

}  // namespace
}  // namespace custody::testing
