// custody-ingestd against a real custodyd, both real processes on loopback:
// every docked file ingested exactly once, across kill -9 of the daemon and
// an outage of the node; bad files quarantined with their reason.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "common/digest.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Polls `ok` every 100 ms for up to `seconds`.
bool WaitFor(const std::function<bool()>& ok, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return ok();
}

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A recording with a valid sidecar; returns its "sha256:<hex>".
std::string Dock(const fs::path& file, uint64_t size, uint64_t seed) {
  std::string id = WriteRandomFile(file, size, seed);
  WriteText(file.string() + ".json",
            R"({"officers": ["A1023", "A1077"], "matter": 4, "target": "shop-17",)"
            R"( "stage": "inspection", "start": "2026-11-26T09:30:00+08:00"})");
  return id;
}

// Files under `dir` (recursively), not counting sidecars and reasons.
std::set<std::string> Recordings(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (e.is_regular_file() && !n.ends_with(".json") && !n.ends_with(".reason")) {
      out.insert(fs::relative(e.path(), dir).string());
    }
  }
  return out;
}

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<NodeProcess>(dir_ / "data");
    ASSERT_TRUE(node_->Start()) << node_->Log();
    fs::create_directories(watch_);
  }
  void StartDaemon(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        INGESTD_PATH, "--watch", watch_,   "--server", node_->address(), "--state", dir_ / "state",
        "--settle",   "1",       "--poll", "0.2",      "--max-backoff",  "1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    daemon_ = std::make_unique<Subprocess>(argv, dir_ / "ingestd.out", dir_ / "ingestd.log");
  }
  std::string DaemonLog() { return ReadFile(dir_ / "ingestd.log"); }
  std::set<std::string> Done() { return Recordings(fs::path(watch_) / "done"); }
  // The audit events about object `id`, as JSON objects.
  std::vector<json> Events(const std::string& id) {
    CliResult r = RunCli({"--server", node_->address(), "audit", "log", id, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded() || !j.contains("events")) return {};
    return j["events"].get<std::vector<json>>();
  }
  int Count(const std::vector<json>& events, const std::string& action) {
    int n = 0;
    for (const json& e : events) n += e.value("action", "") == action;
    return n;
  }

  TempDir dir_;
  std::string watch_ = dir_ / "station";
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<Subprocess> daemon_;
};

TEST_F(IngestTest, FiftyFilesInThreeDeviceFoldersAreEachIngestedOnce) {
  const uint64_t sizes[] = {1000, 100 << 10, 1 << 20, 5 << 20, 9 << 20};
  std::map<std::string, std::string> want;  // rel path -> id
  for (int i = 0; i < 50; ++i) {
    std::string rel = "CAM-" + std::to_string(i % 3) + "/clip-" + std::to_string(i) + ".mp4";
    fs::create_directories((fs::path(watch_) / rel).parent_path());
    want[rel] = Dock(fs::path(watch_) / rel, sizes[i % 5], 100 + i);
  }
  // One recording is still being copied, slowly, with the file held open.
  std::string slow = fs::path(watch_) / "CAM-1" / "slow.mp4";
  WriteText(slow + ".json", R"({"officer": "A1023", "start": "20261126T093000Z"})");
  std::string slow_bytes;
  std::thread writer([&] {
    // O_CLOEXEC: a daemon spawned while this is open must not hold it open too.
    int fd = open(slow.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    for (int i = 0; i < 12; ++i) {
      std::string part = RandomBytes(200 << 10, 900 + i);
      ASSERT_EQ(write(fd, part.data(), part.size()), static_cast<ssize_t>(part.size()));
      slow_bytes += part;
      // Pauses longer than --settle: only the open file keeps it from being taken.
      std::this_thread::sleep_for(std::chrono::milliseconds(i == 5 ? 2500 : 250));
    }
    close(fd);
  });
  StartDaemon({"--parallel", "2"});
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_EQ(Done().count("CAM-1/slow.mp4"), 0u) << "taken while it was still being written";
  writer.join();
  want["CAM-1/slow.mp4"] = Digest::Of(slow_bytes).ToString();

  ASSERT_TRUE(WaitFor([&] { return Done().size() == 51; }, 120)) << DaemonLog();
  auto listed = CustodyClient::Connect(node_->address())->List();
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::set<std::string> ids;
  for (const auto& o : *listed) ids.insert(o.id());
  EXPECT_EQ(ids.size(), 51u) << "a partial copy of the slow file was stored";
  for (const auto& [rel, id] : want) {
    EXPECT_TRUE(ids.count(id)) << rel;
    EXPECT_EQ(HashFile(fs::path(watch_) / "done" / rel), id) << rel;
    std::vector<json> events = Events(id);
    EXPECT_EQ(Count(events, "object.stored"), 1) << rel;
    EXPECT_EQ(Count(events, "object.stored-again"), 0) << rel;
  }
  EXPECT_TRUE(Recordings(fs::path(watch_) / "CAM-0").empty());
  EXPECT_TRUE(Recordings(fs::path(watch_) / "quarantine").empty());
  CliResult st = RunCli({"--server", node_->address(), "stat", want["CAM-2/clip-2.mp4"], "--json"});
  json meta = json::parse(st.out)["metadata"];
  EXPECT_EQ(meta["device"], "CAM-2");  // from the folder: the sidecar names none
  EXPECT_EQ(meta["officers"], "A1023,A1077");
  EXPECT_EQ(meta["matter"], "4");
  EXPECT_EQ(meta["start"], "2026-11-26T01:30:00+00:00");
}

// Waits until the node holds at least `bytes` of the upload of `file`.
bool UploadReaches(const std::string& address, const std::string& file, uint64_t bytes) {
  std::string upload_id = *CustodyClient::DeriveUploadId(file);
  auto client = CustodyClient::Connect(address);
  return WaitFor(
      [&] {
        auto q = client->QueryUpload(upload_id);
        return q.ok() && q->committed_size() >= bytes;
      },
      60);
}

TEST_F(IngestTest, KilledDaemonResumesItsUploadAndIngestsOnce) {
  fs::create_directories(fs::path(watch_) / "CAM-7");
  std::string file = fs::canonical(watch_).string() + "/CAM-7/hearing.mp4";
  const uint64_t size = 256ull << 20;
  std::string id = Dock(file, size, 7);
  StartDaemon();
  ASSERT_TRUE(UploadReaches(node_->address(), file, 32u << 20)) << DaemonLog();
  daemon_->Kill(SIGKILL);
  ASSERT_EQ(daemon_->Wait(), 128 + SIGKILL);
  ASSERT_TRUE(fs::exists(file)) << "released before the upload finished";
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Done().count("CAM-7/hearing.mp4") == 1; }, 120)) << DaemonLog();
  EXPECT_EQ(HashFile(fs::path(watch_) / "done/CAM-7/hearing.mp4"), id);

  // What the node received, by its own audit log: the broken stream and the
  // one that finished. Together at most the file and one 4 MiB chunk.
  std::vector<json> events = Events(id);
  ASSERT_EQ(Count(events, "object.stored"), 1);
  EXPECT_EQ(Count(events, "object.stored-again"), 0);
  json stored;
  for (const json& e : events) {
    if (e["action"] == "object.stored") stored = e;
  }
  uint64_t resumed = std::stoull(stored["details"]["resumed_from"].get<std::string>());
  uint64_t received = std::stoull(stored["details"]["bytes_received"].get<std::string>());
  EXPECT_GE(resumed, 32u << 20);
  std::string upload = "upload:" + stored["details"]["upload_id"].get<std::string>();
  uint64_t broken = 0;
  std::vector<json> attempts = Events(upload);
  for (const json& e : attempts) {
    if (e["action"] == "upload.broken") {
      broken += std::stoull(e["details"]["bytes_received"].get<std::string>());
    }
  }
  EXPECT_GE(broken, resumed) << json(attempts).dump(1);
  EXPECT_LE(broken + received, size + (4u << 20));
}

TEST_F(IngestTest, NothingIsReleasedWhileTheNodeIsDownThenAllComplete) {
  fs::create_directories(fs::path(watch_) / "CAM-1");
  for (int i = 0; i < 4; ++i) {
    Dock(fs::path(watch_) / "CAM-1" / ("a" + std::to_string(i) + ".mp4"), 2 << 20, i);
  }
  int metrics_port = FreePort();
  StartDaemon({"--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)});
  ASSERT_TRUE(WaitFor([&] { return Done().size() == 4; }, 60)) << DaemonLog();
  node_->Kill(SIGKILL);
  std::map<std::string, std::string> later;
  for (int i = 0; i < 6; ++i) {
    std::string name = "b" + std::to_string(i) + ".mp4";
    later[name] = Dock(fs::path(watch_) / "CAM-1" / name, 3 << 20, 50 + i);
  }
  std::this_thread::sleep_for(std::chrono::seconds(5));  // several retries
  EXPECT_EQ(Done().size(), 4u) << "released while the node was down";
  for (const auto& [name, id] : later) EXPECT_TRUE(fs::exists(fs::path(watch_) / "CAM-1" / name));
  EXPECT_NE(DaemonLog().find("will retry"), std::string::npos);
  Subprocess status({INGESTD_PATH, "status", "--state", dir_ / "state", "--json"},
                    dir_ / "status.out", dir_ / "status.err");
  ASSERT_EQ(status.Wait(), 0);
  json sj = json::parse(ReadFile(dir_ / "status.out"));
  EXPECT_GT(sj["in_flight"].size() + sj["queued"].get<int>(), 0u);
  EXPECT_GT(sj["retries"].get<int>(), 0);
  std::string metrics = HttpGet(metrics_port, "/metrics");
  EXPECT_NE(metrics.find("custody_ingest_files_done_total 4\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("custody_ingest_upload_retries_total "), std::string::npos) << metrics;

  ASSERT_TRUE(node_->Start()) << node_->Log();
  ASSERT_TRUE(WaitFor([&] { return Done().size() == 10; }, 60)) << DaemonLog();
  for (const auto& [name, id] : later) {
    EXPECT_EQ(HashFile(fs::path(watch_) / "done/CAM-1" / name), id);
    EXPECT_TRUE(CustodyClient::Connect(node_->address())->Stat(id).ok()) << name;
  }
}

TEST_F(IngestTest, BadSidecarsAreQuarantinedWithTheirReason) {
  fs::create_directories(fs::path(watch_) / "CAM-2");
  fs::path bad_json = fs::path(watch_) / "CAM-2" / "broken.mp4";
  WriteRandomFile(bad_json, 5000, 1);
  WriteText(bad_json.string() + ".json", "{\"officers\": [\"A1\"], \"start\": ");
  fs::path bad_matter = fs::path(watch_) / "CAM-2" / "matter.mp4";
  WriteRandomFile(bad_matter, 5000, 2);
  WriteText(bad_matter.string() + ".json",
            R"({"officers": ["A1"], "start": "2026-11-26T09:30:00Z", "matter": 99})");
  fs::path none = fs::path(watch_) / "loose.mp4";
  WriteRandomFile(none, 5000, 3);
  StartDaemon();
  fs::path q = fs::path(watch_) / "quarantine";
  ASSERT_TRUE(WaitFor([&] { return Recordings(q).size() == 3; }, 30)) << DaemonLog();
  EXPECT_NE(ReadFile(q / "CAM-2/broken.mp4.reason").find("is not valid JSON"), std::string::npos);
  EXPECT_NE(ReadFile(q / "CAM-2/matter.mp4.reason").find("matter \"99\" is not one of"),
            std::string::npos);
  EXPECT_NE(ReadFile(q / "loose.mp4.reason").find("no sidecar loose.mp4.json"), std::string::npos);
  EXPECT_TRUE(fs::exists(q / "CAM-2/broken.mp4.json"));  // kept with its recording
  EXPECT_TRUE(Done().empty());
  auto listed = CustodyClient::Connect(node_->address())->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(IngestTest, AFileChangedDuringItsUploadIsNotAcknowledged) {
  fs::create_directories(fs::path(watch_) / "CAM-3");
  std::string file = fs::canonical(watch_).string() + "/CAM-3/altered.mp4";
  std::string original = Dock(file, 256ull << 20, 3);
  StartDaemon();
  ASSERT_TRUE(UploadReaches(node_->address(), file, 16u << 20)) << DaemonLog();
  {
    int fd = open(file.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, "forged", 6, 1000), 6);  // bytes already sent
    close(fd);
  }
  fs::path q = fs::path(watch_) / "quarantine/CAM-3";
  ASSERT_TRUE(WaitFor([&] { return fs::exists(q / "altered.mp4.reason"); }, 60)) << DaemonLog();
  EXPECT_NE(ReadFile(q / "altered.mp4.reason").find("changed while it was being uploaded"),
            std::string::npos);
  EXPECT_TRUE(Done().empty());
  EXPECT_TRUE(fs::exists(q / "altered.mp4"));
}

TEST_F(IngestTest, DeleteAfterVerifiedFreesTheStationOnlyOnceStored) {
  fs::create_directories(fs::path(watch_) / "CAM-5");
  fs::path file = fs::path(watch_) / "CAM-5" / "service.mp4";
  std::string id = Dock(file, 6 << 20, 5);
  StartDaemon({"--delete-after-verified"});
  ASSERT_TRUE(WaitFor([&] { return !fs::exists(file); }, 60)) << DaemonLog();
  EXPECT_FALSE(fs::exists(file.string() + ".json"));
  EXPECT_TRUE(Done().empty());  // deleted, not moved
  auto info = CustodyClient::Connect(node_->address())->Stat(id);
  ASSERT_TRUE(info.ok()) << "deleted from the station but not held by the node";
  EXPECT_EQ(info->metadata().at("source_path"), "CAM-5/service.mp4");
}

TEST_F(IngestTest, StationEdgeCasesAreHandledAndReported) {
  fs::path cam = fs::path(watch_) / "CAM-8";
  fs::create_directories(cam / "2026-11-26");
  // The sidecar lands first; the recording two seconds later.
  WriteText((cam / "early.mp4.json").string(),
            R"({"officers": ["A1"], "start": "2026-11-26T09:30:00Z"})");
  std::string empty = (cam / "empty.mp4").string();
  WriteText(empty, "");
  WriteText(empty + ".json", R"({"officers": ["A1"], "start": "2026-11-26T09:30:00Z"})");
  Dock(cam / "2026-11-26" / "nested.mp4", 1000, 1);      // a folder inside a device folder
  std::string latin = (cam / "latin\xE9.mp4").string();  // not UTF-8
  std::string latin_id = Dock(latin, 3000, 2);
  StartDaemon();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::string early_id = WriteRandomFile(cam / "early.mp4", 4000, 3);
  // A second daemon on the same state folder is refused.
  Subprocess second(
      {INGESTD_PATH, "--watch", watch_, "--server", node_->address(), "--state", dir_ / "state"},
      dir_ / "second.out", dir_ / "second.err");
  EXPECT_EQ(second.Wait(), 1);
  EXPECT_NE(ReadFile(dir_ / "second.err").find("already running"), std::string::npos);

  ASSERT_TRUE(WaitFor([&] { return Done().size() == 2; }, 30)) << DaemonLog();
  EXPECT_EQ(HashFile(fs::path(watch_) / "done/CAM-8/early.mp4"), early_id);
  // The sidecar follows its recording into done/ (a second rename).
  EXPECT_TRUE(
      WaitFor([&] { return fs::exists(fs::path(watch_) / "done/CAM-8/early.mp4.json"); }, 10));
  auto info = CustodyClient::Connect(node_->address())->Stat(latin_id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->file_name(), "latin\\xE9.mp4");
  fs::path q = fs::path(watch_) / "quarantine/CAM-8";
  ASSERT_TRUE(WaitFor([&] { return fs::exists(q / "empty.mp4.reason"); }, 10));
  EXPECT_NE(ReadFile(q / "empty.mp4.reason").find("the file is empty"), std::string::npos);
  EXPECT_TRUE(fs::exists(cam / "2026-11-26" / "nested.mp4"));  // left alone, and reported
  json st = json::parse(ReadFile(dir_ / "state/status.json"));
  EXPECT_GE(st["ignored"].get<int>(), 1);
  EXPECT_TRUE(st["running"].get<bool>());
  daemon_->Kill(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0);
  EXPECT_FALSE(json::parse(ReadFile(dir_ / "state/status.json"))["running"].get<bool>());
}

TEST_F(IngestTest, AStalledNodeIsNoticedAndStopDoesNotWaitForIt) {
  fs::create_directories(fs::path(watch_) / "CAM-9");
  std::string file = fs::canonical(watch_).string() + "/CAM-9/long.mp4";
  std::string id = Dock(file, 256ull << 20, 9);
  StartDaemon();
  ASSERT_TRUE(UploadReaches(node_->address(), file, 16u << 20)) << DaemonLog();
  kill(node_->pid(), SIGSTOP);  // hung: the connection stays open, nothing answers
  bool noticed = WaitFor([&] { return DaemonLog().find("will retry") != std::string::npos; }, 60);
  // Stopping the daemon must not wait for the hung node.
  auto t0 = std::chrono::steady_clock::now();
  daemon_->Kill(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  kill(node_->pid(), SIGCONT);
  ASSERT_TRUE(noticed) << "a hung node was not noticed: " << DaemonLog();
  EXPECT_TRUE(Done().empty());
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Done().count("CAM-9/long.mp4") == 1; }, 120)) << DaemonLog();
  EXPECT_EQ(HashFile(fs::path(watch_) / "done/CAM-9/long.mp4"), id);
}

// A cluster that needs R = 2 with one of its two nodes down: the upload
// fails, is retried, and the station's file is not released.
TEST(IngestReplicasTest, AFileIsNotReleasedUntilTheClusterHoldsRCopies) {
  TempDir dir;
  int port = FreePort();
  WriteText(
      dir / "map.json",
      absl::StrCat(R"({"version": 1, "replication_factor": 2, "nodes": [)",
                   R"({"id": "n1", "address": "127.0.0.1:)", port, R"(", "zone": "a"},)",
                   R"({"id": "n2", "address": "127.0.0.1:)", FreePort(), R"(", "zone": "b"}]})"));
  NodeProcess node(dir / "n1", {"--cluster", dir / "map.json", "--node-id", "n1"}, port);
  ASSERT_TRUE(node.Start()) << node.Log();
  fs::path watch = dir / "station";
  fs::create_directories(watch / "CAM-1");
  Dock(watch / "CAM-1" / "a.mp4", 5000, 1);
  Subprocess daemon({INGESTD_PATH, "--watch", watch, "--server", node.address(), "--settle", "0.5",
                     "--poll", "0.2", "--max-backoff", "0.5"},
                    dir / "d.out", dir / "d.log");
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReadFile(dir / "d.log").find("only 1 of the 2 nodes needed") != std::string::npos;
      },
      30))
      << ReadFile(dir / "d.log");
  EXPECT_TRUE(fs::exists(watch / "CAM-1" / "a.mp4"));
  EXPECT_FALSE(fs::exists(watch / "done"));
}

}  // namespace
}  // namespace custody::testing
