// custody-ingestd against a real custodyd, both real processes on loopback:
// every docked file ingested exactly once, across kill -9 of the daemon, an
// outage of the node and failover between the nodes of a cluster; bad files
// quarantined with every reason, listed by status, and retried.
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
#include "tests/integration/cluster_util.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A recording with a valid sidecar; returns its "sha256:<hex>".
std::string Dock(const fs::path& file, uint64_t size, uint64_t seed) {
  std::string id = WriteRandomFile(file, size, seed);
  WriteText(file.string() + ".json",
            R"({"agency": "A", "officers": ["A1023", "A1077"], "matter": 4, "target": "shop-17",)"
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
  // Runs `custody-ingestd ARGS...`; returns its exit code, stdout and stderr.
  CliResult Ingestd(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {INGESTD_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out = dir_ / ("cmd" + std::to_string(++commands_));
    Subprocess p(argv, out + ".out", out + ".err");
    int code = p.Wait();
    return {code, ReadFile(out + ".out"), ReadFile(out + ".err")};
  }
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
  int commands_ = 0;
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
  EXPECT_EQ(meta["agency"], "A");
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
  // The new files wait for their dock manifest, which no node took.
  EXPECT_EQ(sj["awaiting_dock_manifest"], 6) << sj.dump();
  EXPECT_NE(sj["dock_manifest_problem"], "") << sj.dump();
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

TEST_F(IngestTest, ASidecarWithThreeErrorsListsAllThreeInOneReason) {
  fs::create_directories(fs::path(watch_) / "CAM-2");
  fs::path clip = fs::path(watch_) / "CAM-2" / "three.mp4";
  WriteRandomFile(clip, 5000, 1);
  WriteText(clip.string() + ".json", R"({"officers": ["A 1"], "matter": 99, "start": "noon"})");
  StartDaemon();
  fs::path reason = fs::path(watch_) / "quarantine/CAM-2/three.mp4.reason";
  ASSERT_TRUE(WaitFor([&] { return fs::exists(reason); }, 30)) << DaemonLog();
  std::string text = ReadFile(reason);
  const char* problems[] = {"sidecar: 3 problems: ", "matter \"99\" is not one of",
                            "officer \"A 1\" is not an id", "\"noon\" is not a time"};
  for (const char* p : problems) EXPECT_NE(text.find(p), std::string::npos) << p << "\n" << text;
  // One log line names all three.
  std::string log = DaemonLog();
  size_t at = log.find("three.mp4: quarantined: sidecar: 3 problems");
  ASSERT_NE(at, std::string::npos) << log;
  std::string line = log.substr(at, log.find('\n', at) - at);
  for (const char* p : problems) EXPECT_NE(line.find(p), std::string::npos) << p << "\n" << line;
}

TEST_F(IngestTest, RetryPutsAQuarantinedFileBackAndNeverOverwrites) {
  fs::path cam = fs::path(watch_) / "CAM-4";
  fs::create_directories(cam);
  std::string id = WriteRandomFile(cam / "clip.mp4", 70000, 4);
  WriteText((cam / "clip.mp4.json").string(), R"({"officers": ["A1"]})");  // no start time
  StartDaemon();
  fs::path q = fs::path(watch_) / "quarantine/CAM-4";
  ASSERT_TRUE(WaitFor([&] { return fs::exists(q / "clip.mp4.reason"); }, 30)) << DaemonLog();
  std::vector<std::string> retry = {"retry", "CAM-4/clip.mp4", "--watch",
                                    watch_,  "--state",        dir_ / "state"};
  // Still no start time: back in quarantine, with a new reason; the first is kept aside.
  CliResult r = Ingestd(retry);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("retried CAM-4/clip.mp4 with its sidecar"), std::string::npos) << r.out;
  ASSERT_TRUE(WaitFor([&] { return fs::exists(q / "clip.mp4.reason"); }, 30)) << DaemonLog();
  EXPECT_EQ(Recordings(q), std::set<std::string>{"clip.mp4"});
  int kept = 0;
  for (const auto& e : fs::directory_iterator(q)) {
    kept += e.path().filename().string().starts_with("clip.mp4.retried-");
  }
  EXPECT_EQ(kept, 1);
  // A sidecar of that name in the watched folder: the retry is refused and moves nothing.
  WriteText((q / "clip.mp4.json").string(), R"({"officers": ["A1"], "start": "20261126T093000Z"})");
  WriteText((cam / "clip.mp4.json").string(), "docked meanwhile");
  r = Ingestd(retry);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("CAM-4/clip.mp4.json already exists"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(cam / "clip.mp4.json"), "docked meanwhile");
  EXPECT_TRUE(fs::exists(q / "clip.mp4"));
  // Out of the way, the fixed sidecar comes back with its recording, which is ingested.
  // This time every quarantined file (--all), answered as JSON.
  fs::rename(cam / "clip.mp4.json", dir_ / "aside.json");
  r = Ingestd({"retry", "--all", "--json", "--watch", watch_, "--state", dir_ / "state"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json all = json::parse(r.out, nullptr, false);
  ASSERT_EQ(all["retried"].size(), 1u) << r.out;
  EXPECT_EQ(all["retried"][0]["file"], "CAM-4/clip.mp4");
  EXPECT_EQ(all["retried"][0]["sidecar"], true);
  EXPECT_TRUE(all["failed"].empty()) << r.out;
  ASSERT_TRUE(WaitFor([&] { return Done().count("CAM-4/clip.mp4") == 1; }, 30)) << DaemonLog();
  EXPECT_EQ(HashFile(fs::path(watch_) / "done/CAM-4/clip.mp4"), id);
  EXPECT_TRUE(Recordings(q).empty());
  std::string log = ReadFile(dir_ / "state/retries.log");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 2) << log;
  EXPECT_NE(log.find("retried CAM-4/clip.mp4 with its sidecar; it was quarantined for: sidecar: "
                     "no start time"),
            std::string::npos)
      << log;
}

TEST_F(IngestTest, StatusListsQuarantinedFilesWithTheirReasonAndDoneFilesWithTheirId) {
  fs::path cam = fs::path(watch_) / "CAM-6";
  fs::create_directories(cam);
  std::string id = Dock(cam / "good.mp4", 9000, 6);
  WriteRandomFile(cam / "bad.mp4", 9000, 7);  // no sidecar
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Done().size() == 1; }, 30)) << DaemonLog();
  ASSERT_TRUE(
      WaitFor([&] { return fs::exists(fs::path(watch_) / "quarantine/CAM-6/bad.mp4.reason"); }, 30))
      << DaemonLog();
  std::string state = dir_ / "state";
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(state + "/status.json").find(id) != std::string::npos; }, 10));
  CliResult r = Ingestd({"status", "--state", state});  // the watched folder from status.json
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("CAM-6/bad.mp4: no sidecar bad.mp4.json and no --name-pattern"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("CAM-6/good.mp4  " + id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(node_->address() + " (in use)"), std::string::npos) << r.out;
  r = Ingestd({"status", "--state", state, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["quarantined_files"].size(), 1u) << r.out;
  EXPECT_EQ(j["quarantined_files"][0]["file"], "CAM-6/bad.mp4");
  ASSERT_EQ(j["recent_done"].size(), 1u) << r.out;
  EXPECT_EQ(j["recent_done"][0]["file"], "CAM-6/good.mp4");
  EXPECT_EQ(j["recent_done"][0]["id"], id);
  EXPECT_EQ(j["server"], node_->address());
  EXPECT_EQ(j["failovers"], 0);
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

// A cluster of three nodes (R = 2) with the first --server down: every file
// goes in through the others.
TEST(IngestClusterTest, UploadsFailOverWhenTheFirstServerIsDown) {
  TempDir dir;
  std::vector<int> ports;
  std::string map = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  std::vector<std::unique_ptr<NodeProcess>> nodes = StartMappedNodes(dir, map, ports);
  ASSERT_EQ(nodes.size(), 3u);
  nodes[0]->Kill(SIGKILL);
  fs::path watch = dir / "station";
  fs::create_directories(watch / "CAM-1");
  std::map<std::string, std::string> ids;
  for (int i = 0; i < 3; ++i) {
    std::string name = "c" + std::to_string(i) + ".mp4";
    ids[name] = Dock(watch / "CAM-1" / name, (1 << 20) + i, 30 + i);
  }
  Subprocess daemon(
      {INGESTD_PATH, "--watch", watch, "--server", nodes[0]->address() + "," + nodes[1]->address(),
       "--server", nodes[2]->address(), "--settle", "0.5", "--poll", "0.2", "--max-backoff", "1"},
      dir / "d.out", dir / "d.log");
  auto done = [&] { return Recordings(watch / "done"); };
  ASSERT_TRUE(WaitFor([&] { return done().size() == 3; }, 60)) << ReadFile(dir / "d.log");
  for (const auto& [name, id] : ids) {
    EXPECT_EQ(HashFile(watch / "done/CAM-1" / name), id);
    EXPECT_TRUE(CustodyClient::Connect(nodes[1]->address())->Stat(id).ok()) << name;
  }
  EXPECT_TRUE(Recordings(watch / "quarantine").empty());
  EXPECT_NE(ReadFile(dir / "d.log").find("failing over from " + nodes[0]->address()),
            std::string::npos);
  ASSERT_TRUE(WaitFor(
      [&] {
        json st = json::parse(ReadFile(watch / ".custody-ingest/status.json"), nullptr, false);
        return st.is_object() && st["recent_done"].size() == 3;
      },
      10));
  json st = json::parse(ReadFile(watch / ".custody-ingest/status.json"));
  EXPECT_EQ(st["server"], nodes[1]->address());
  EXPECT_GE(st["failovers"].get<int>(), 1);
  EXPECT_EQ(st["servers"].size(), 3u);
}

// An upload cut by the kill of the node it goes to is started again on the
// next node, and the file is one object, released once.
TEST(IngestClusterTest, AnUploadCutByANodeKillFinishesThroughTheNextNode) {
  TempDir dir;
  std::vector<int> ports;
  std::string map = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  std::vector<std::unique_ptr<NodeProcess>> nodes = StartMappedNodes(dir, map, ports);
  ASSERT_EQ(nodes.size(), 3u);
  fs::path watch = dir / "station";
  fs::create_directories(watch / "CAM-1");
  std::string file = fs::canonical(watch).string() + "/CAM-1/long.mp4";
  std::string id = Dock(file, 64ull << 20, 8);
  Subprocess daemon(
      {INGESTD_PATH, "--watch", watch, "--server",
       absl::StrCat(nodes[0]->address(), ",", nodes[1]->address(), ",", nodes[2]->address()),
       "--settle", "0.5", "--poll", "0.2", "--max-backoff", "1"},
      dir / "d.out", dir / "d.log");
  ASSERT_TRUE(UploadReaches(nodes[0]->address(), file, 8u << 20)) << ReadFile(dir / "d.log");
  nodes[0]->Kill(SIGKILL);
  ASSERT_TRUE(WaitFor([&] { return Recordings(watch / "done").size() == 1; }, 120))
      << ReadFile(dir / "d.log");
  EXPECT_EQ(HashFile(watch / "done/CAM-1/long.mp4"), id);
  auto info = CustodyClient::Connect(nodes[1]->address())->Stat(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->metadata().at("source_path"), "CAM-1/long.mp4");
  std::string log = ReadFile(dir / "d.log");
  EXPECT_NE(log.find("failing over from " + nodes[0]->address() + " to " + nodes[1]->address()),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("quarantined"), std::string::npos) << log;
}

}  // namespace
}  // namespace custody::testing
