// A camera that streamed live is docked later (issue 32; doc/live.md,
// "Docking"), with real processes on a TLS node: a camera identity streams
// with `custody live`, then a real custody-ingestd docks the camera's file.
// Identical to the sealed upload: nothing is sent again. Extending an
// upload cut short: only the rest is sent (the node's live byte counter
// says so), the file is sealed whole, and the record's loss is closed.
// Differing in its first MiB: uploaded whole, flagged "altered after
// upload", and both versions kept. The record shows an upload still
// recording as "recording (live)".
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "common/digest.h"
#include "tests/integration/cluster_util.h"
#include "tests/integration/live_util.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class LiveDockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nodes_ = StartTlsCluster(
        dir_,
        {{"CAM-1", {"--role", "device", "--agency", "A"}},
         {"station", {"--role", "ingest", "--agency", "A"}},
         {"arch", {"--role", "archivist", "--agency", "A"}},
         {"aud", {"--role", "auditor"}}},
        "aud", 1,
        {"--chunk-size", "1MiB", "--metrics-listen", absl::StrCat("127.0.0.1:", metrics_port_)});
    ASSERT_EQ(nodes_.size(), 1u);
    fs::create_directories(camera_);
    fs::create_directories(fs::path(watch_) / "CAM-1");
  }
  void TearDown() override {
    daemon_.reset();  // stops it
    ASSERT_TRUE(CustodyClient::UseTls("").ok());
  }
  CliResult As(const std::string& user, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", nodes_[0]->address(), "--tls", dir_ / user});
    return RunCli(args);
  }
  json Json(const std::string& user, std::vector<std::string> args) {
    args.push_back("--json");
    CliResult r = As(user, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out, nullptr, false);
    return j.is_discarded() ? json() : j;
  }
  // Streams the finished file `path` as CAM-1: the sealed upload.
  json StreamWhole(const std::string& path, const std::string& live_id) {
    return Json("CAM-1", {"live", path, "--device", "CAM-1", "--live-id", live_id, "--meta",
                          "matter=4", "--finish-after", "0"});
  }
  // Docks `path` as CAM-1's file `name` (with its sidecar) and waits until
  // the station released it.
  void Dock(const std::string& path, const std::string& name) {
    const fs::path to = fs::path(watch_) / "CAM-1" / name;
    fs::copy_file(path, to);
    std::ofstream(to.string() + ".json")
        << R"({"officer": "A1023", "matter": 4, "target": "shop-17", "stage": "inspection",)"
        << R"( "start": ")" << start_ << "\"}";
    daemon_ = std::make_unique<Subprocess>(
        std::vector<std::string>{INGESTD_PATH, "--watch", watch_, "--server", nodes_[0]->address(),
                                 "--tls", dir_ / "station", "--station", "dock-7", "--settle", "1",
                                 "--poll", "0.2", "--max-backoff", "1", "--report-interval", "0"},
        dir_ / "ingestd.out", dir_ / "ingestd.log");
    ASSERT_TRUE(WaitFor([&] { return fs::exists(fs::path(watch_) / "done" / "CAM-1" / name); }, 60))
        << ReadFile(dir_ / "ingestd.log");
    daemon_.reset();
  }
  // CAM-1's one record.
  json Record() {
    json list = Json("aud", {"record", "list", "--device", "CAM-1"});
    EXPECT_EQ(list.size(), 1u) << list.dump();
    if (!list.is_array() || list.size() != 1) return json();
    return Json("aud", {"record", "show", list[0]["id"].get<std::string>()});
  }
  static bool Flagged(const json& r, const std::string& flag) {
    for (const json& f : r["flags"]) {
      if (f == flag) return true;
    }
    return false;
  }
  int64_t Metric(const std::string& name) { return MetricValue(metrics_port_, name); }

  TempDir dir_;
  // When the camera began: before the test wrote any of its files.
  const std::string start_ =
      absl::FormatTime(absl::RFC3339_sec, absl::Now() - absl::Seconds(1), absl::UTCTimeZone());
  int metrics_port_ = FreePort();
  std::string camera_ = dir_ / "camera";
  std::string watch_ = dir_ / "station-folder";
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  std::unique_ptr<Subprocess> daemon_;
};

TEST_F(LiveDockTest, ADockedFileIdenticalToItsLiveUploadIsNotSentAgain) {
  const std::string file = fs::path(camera_) / "rec-1.mp4";
  const std::string id = WriteRandomFile(file, (5 << 20) / 2, 1);
  json live = StreamWhole(file, "live-rec1");
  ASSERT_EQ(live["object_id"], id) << live.dump();
  const int64_t live_bytes = Metric("custody_live_bytes_total");
  const int64_t upload_bytes = Metric("custody_ingest_bytes_total");
  ASSERT_EQ(live_bytes, 5 << 19);

  Dock(file, "rec-1.mp4");
  EXPECT_EQ(Metric("custody_live_bytes_total"), live_bytes);
  EXPECT_EQ(Metric("custody_ingest_bytes_total"), upload_bytes) << "the file was sent again";
  EXPECT_NE(ReadFile(dir_ / "ingestd.log").find("nothing sent"), std::string::npos);
  json r = Record();
  ASSERT_EQ(r["segments"].size(), 1u) << r.dump();
  EXPECT_EQ(r["segments"][0]["object_id"], id);
  EXPECT_EQ(r["segments"][0]["live"], "complete");
  EXPECT_FALSE(Flagged(r, "altered-after-upload")) << r.dump();
}

TEST_F(LiveDockTest, ADockedFileExtendingACutShortUploadSendsOnlyTheRestAndClosesTheLoss) {
  const std::string file = fs::path(camera_) / "rec-2.mp4";
  std::unique_ptr<Subprocess> camera = Camera(dir_, file, 5);  // 5 MB at 8 Mbit/s
  std::unique_ptr<Subprocess> streaming = Background(
      dir_, "live",
      {"--server", nodes_[0]->address(), "--tls", dir_ / "CAM-1", "live", file, "--device", "CAM-1",
       "--live-id", "live-rec2", "--meta", "matter=4", "--finish-after", "60"});
  // While it records, its record shows it.
  json r;
  ASSERT_TRUE(WaitFor(
      [&] {
        json list = Json("aud", {"record", "list", "--device", "CAM-1"});
        if (!list.is_array() || list.size() != 1) return false;
        r = Json("aud", {"record", "show", list[0]["id"].get<std::string>()});
        return r["live"].size() == 1 && r["live"][0]["held"].get<uint64_t>() >= 1u << 20;
      },
      20))
      << r.dump() << ReadFile(dir_ / "live.err");
  EXPECT_EQ(r["live"][0]["live_id"], "live-rec2");
  EXPECT_FALSE(r["live"][0]["last_segment"].is_null());
  CliResult text = As("aud", {"record", "show", r["id"]});
  EXPECT_NE(text.out.find("recording (live)"), std::string::npos) << text.out;
  streaming->Kill(SIGKILL);  // the link is lost for good; the camera records on
  streaming->Wait();
  ASSERT_EQ(camera->Wait(), 0);

  CliResult seal;
  ASSERT_TRUE(WaitFor(
      [&] {
        seal = As("arch", {"live", "seal", "live-rec2", "--reason", "camera seized", "--json"});
        return seal.exit_code == 0;
      },
      10))
      << seal.err;
  const json truncated = json::parse(seal.out);
  const uint64_t held = truncated["held"];
  const uint64_t size = fs::file_size(file);
  ASSERT_LT(held, size);
  r = Record();
  ASSERT_EQ(r["missing"].size(), 1u) << r.dump();
  EXPECT_EQ(r["missing"][0]["reason"], "truncated");
  EXPECT_EQ(r["missing"][0]["object_id"], truncated["object_id"]);
  EXPECT_EQ(r["missing"][0]["truncated_reason"], "camera seized");
  EXPECT_TRUE(Flagged(r, "missing-footage")) << r.dump();
  EXPECT_TRUE(r["live"].empty());

  const int64_t live_bytes = Metric("custody_live_bytes_total");
  const int64_t upload_bytes = Metric("custody_ingest_bytes_total");
  Dock(file, "rec-2.mp4");
  EXPECT_EQ(Metric("custody_live_bytes_total") - live_bytes, static_cast<int64_t>(size - held))
      << "not only the rest was sent";
  EXPECT_EQ(Metric("custody_ingest_bytes_total"), upload_bytes);
  const std::string whole = HashFile(file);
  json stat = Json("aud", {"stat", whole});
  EXPECT_EQ(stat["size"], size);
  EXPECT_EQ(stat["metadata"]["live_extends"], truncated["object_id"]);
  EXPECT_EQ(stat["metadata"]["live"], "complete");
  EXPECT_EQ(Json("aud", {"stat", truncated["object_id"]})["size"], held);  // kept as it was
  r = Record();
  EXPECT_EQ(r["segments"].size(), 2u) << r.dump() << As("aud", {"audit", "log", whole}).out;
  EXPECT_TRUE(r["missing"].empty()) << r.dump();
  EXPECT_FALSE(Flagged(r, "missing-footage")) << r.dump();
}

TEST_F(LiveDockTest, ADockedFileThatDiffersInItsFirstMiBIsFlaggedAndBothAreKept) {
  const std::string file = fs::path(camera_) / "rec-3.mp4";
  const std::string streamed = WriteRandomFile(file, 3 << 20, 3);
  ASSERT_EQ(StreamWhole(file, "live-rec3")["object_id"], streamed);
  // Someone edits the camera's copy before it is docked.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100000);
    f.put('\x5a' ^ ReadFile(file)[100000]);
  }
  const std::string altered = HashFile(file);
  ASSERT_NE(altered, streamed);
  Dock(file, "rec-3.mp4");
  json stat = Json("aud", {"stat", altered});
  EXPECT_EQ(stat["metadata"]["live_altered"], "live-rec3") << stat.dump();
  EXPECT_EQ(Json("aud", {"stat", streamed})["size"], 3 << 20);  // both kept
  json r = Record();
  EXPECT_EQ(r["segments"].size(), 2u) << r.dump();
  EXPECT_TRUE(Flagged(r, "altered-after-upload")) << r.dump();
  CliResult text = As("aud", {"record", "show", r["id"]});
  EXPECT_NE(text.out.find("ALTERED AFTER UPLOAD"), std::string::npos) << text.out;
  const json trail = Json("aud", {"audit", "log", "live:live-rec3"})["events"];
  bool noted = false;
  for (const json& e : trail) noted |= e["action"] == "live.altered-after-upload";
  EXPECT_TRUE(noted) << trail.dump();
}

}  // namespace
}  // namespace custody::testing
