// Live upload (issue 32, doc/live.md), with real processes: a camera is a
// process that writes a growing file at 8 Mbit/s, streamed by `custody live`
// to a real custodyd. Killed at a random point, everything the node
// acknowledged is in custody bit-exact and a truncated seal records the
// loss; with the node stopped for 20 s the client resumes and the final
// object equals the file; a device's certificate appends only to its own
// uploads, and cannot read or seal.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "common/digest.h"
#include "custody/v1/live.grpc.pb.h"
#include "tests/integration/cluster_util.h"
#include "tests/integration/live_util.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Prefix(const std::string& path, uint64_t n) { return ReadFile(path).substr(0, n); }

class LiveTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(node_.Start()) << node_.Log(); }
  json Ok(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", node_.address()});
    args.push_back("--json");
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    json j = json::parse(r.out, nullptr, false);
    return j.is_discarded() ? json() : j;
  }
  TempDir dir_;
  NodeProcess node_{dir_ / "data", {"--chunk-size", "1MiB"}};
  std::string file_ = dir_ / "cam.mp4";
};

TEST_F(LiveTest, ACameraKilledAtRandomLeavesEverythingAcknowledgedAndATruncatedSeal) {
  std::unique_ptr<Subprocess> camera = Camera(dir_, file_, 8);
  std::unique_ptr<Subprocess> live =
      Background(dir_, "live",
                 {"--server", node_.address(), "live", file_, "--device", "CAM-1", "--live-id",
                  "live-cam1", "--finish-after", "30"});
  std::mt19937 rng(std::random_device{}());
  const int ms = std::uniform_int_distribution<int>(3000, 5500)(rng);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  camera->Kill(SIGKILL);  // the camera is destroyed mid-recording
  live->Kill(SIGKILL);
  camera->Wait();
  live->Wait();

  json shown = Ok({"live", "show", "live-cam1"});
  ASSERT_EQ(shown["state"], "recording") << shown.dump();
  const uint64_t held = shown["held"].get<uint64_t>();
  ASSERT_GE(held, 1u << 20) << "killed after " << ms << " ms: " << shown.dump();
  ASSERT_LE(held, fs::file_size(file_));
  CliResult text = RunCli({"--server", node_.address(), "live", "list"});
  EXPECT_NE(text.out.find("recording"), std::string::npos) << text.out;

  // The killed stream lets go of the upload as soon as the node sees it gone.
  CliResult seal;
  ASSERT_TRUE(WaitFor(
      [&] {
        seal = RunCli({"--server", node_.address(), "live", "seal", "live-cam1", "--reason",
                       "camera destroyed during the arrest", "--json"});
        return seal.exit_code == 0;
      },
      10))
      << seal.err;
  json sealed = json::parse(seal.out);
  EXPECT_EQ(sealed["state"], "truncated");
  const std::string prefix = Prefix(file_, held);
  EXPECT_EQ(sealed["object_id"], Digest::Of(prefix).ToString()) << "killed after " << ms << " ms";
  CliResult get =
      RunCli({"--server", node_.address(), "get", sealed["object_id"], "-o", dir_ / "back"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_TRUE(ReadFile(dir_ / "back") == prefix) << "not bit-exact";
  json stat = Ok({"stat", sealed["object_id"]});
  EXPECT_EQ(stat["metadata"]["live"], "truncated");
  EXPECT_EQ(stat["metadata"]["live_truncated_reason"], "camera destroyed during the arrest");
  json trail = Ok({"audit", "log", "live:live-cam1"});
  std::vector<std::string> actions;
  for (const json& e : trail["events"]) actions.push_back(e["action"]);
  EXPECT_EQ(actions.front(), "live.opened");
  EXPECT_EQ(actions.back(), "live.truncated");
  // Sealed once: nothing more is appended, nor sealed again.
  CliResult again =
      RunCli({"--server", node_.address(), "live", "seal", "live-cam1", "--reason", "again"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already"), std::string::npos) << again.err;
}

TEST_F(LiveTest, TheClientResumesAfterTheNodeIsDownForTwentySecondsAndTheObjectEqualsTheFile) {
  std::unique_ptr<Subprocess> camera = Camera(dir_, file_, 30, 31250);  // 2 Mbit/s, 30 s
  std::unique_ptr<Subprocess> live =
      Background(dir_, "live",
                 {"--server", node_.address(), "live", file_, "--device", "CAM-2", "--finish-after",
                  "3", "--json"});
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_EQ(node_.Kill(SIGTERM), 0) << node_.Log();  // the link is cut
  std::this_thread::sleep_for(std::chrono::seconds(20));
  ASSERT_TRUE(node_.Start()) << node_.Log();
  EXPECT_EQ(camera->Wait(), 0);
  ASSERT_EQ(live->Wait(), 0) << ReadFile(dir_ / "live.err");
  json r = json::parse(ReadFile(dir_ / "live.out"));
  EXPECT_EQ(r["state"], "sealed") << r.dump();
  EXPECT_EQ(r["object_id"], HashFile(file_));
  EXPECT_EQ(r["held"], fs::file_size(file_));
  EXPECT_GE(r["reconnects"].get<int>(), 1);
  json stat = Ok({"stat", r["object_id"]});
  EXPECT_EQ(stat["size"], fs::file_size(file_));
  EXPECT_EQ(stat["metadata"]["live"], "complete");
  json trail = Ok({"audit", "log", "live:" + r["live_id"].get<std::string>()});
  int resumed = 0;
  for (const json& e : trail["events"]) resumed += e["action"] == "live.resumed";
  EXPECT_GE(resumed, 1) << trail.dump();
}

TEST(LiveDeviceTest, ADeviceAppendsOnlyToItsOwnUploadsAndCannotReadOrSeal) {
  struct PlaintextAfter {
    ~PlaintextAfter() { (void)CustodyClient::UseTls(""); }
  } plaintext_after;
  TempDir dir;
  std::vector<std::unique_ptr<NodeProcess>> nodes =
      StartTlsCluster(dir,
                      {{"CAM-1", {"--role", "device", "--agency", "A"}},
                       {"CAM-2", {"--role", "device", "--agency", "A"}},
                       {"arch", {"--role", "archivist", "--agency", "A"}},
                       {"aud", {"--role", "auditor"}}},
                      "aud", 1);
  ASSERT_EQ(nodes.size(), 1u);
  auto as = [&](const std::string& user, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", nodes[0]->address(), "--tls", dir / user});
    return RunCli(args);
  };
  const std::string file = dir / "clip.mp4";
  const std::string id = WriteRandomFile(file, 300 << 10, 7);
  // Its own device's upload: streamed and sealed.
  CliResult own = as("CAM-1", {"live", file, "--device", "CAM-1", "--live-id", "live-c1",
                               "--finish-after", "0", "--json"});
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(json::parse(own.out)["object_id"], id);
  // Never a read: not the bytes, not the metadata.
  CliResult get = as("CAM-1", {"get", id, "-o", dir / "back"});
  EXPECT_NE(get.err.find("PERMISSION_DENIED"), std::string::npos) << get.err;
  CliResult stat = as("CAM-1", {"stat", id});
  EXPECT_NE(stat.err.find("PERMISSION_DENIED"), std::string::npos) << stat.err;
  // Another device's footage, or another device's upload.
  CliResult other = as(
      "CAM-2", {"live", file, "--device", "CAM-1", "--live-id", "live-c2", "--finish-after", "0"});
  EXPECT_NE(other.err.find("PERMISSION_DENIED"), std::string::npos) << other.err;
  const std::string growing = dir / "growing.mp4";
  WriteRandomFile(growing, 100 << 10, 8);
  std::unique_ptr<Subprocess> open =
      Background(dir, "open",
                 {"--server", nodes[0]->address(), "--tls", dir / "CAM-1", "live", growing,
                  "--device", "CAM-1", "--live-id", "live-open", "--finish-after", "600"});
  ASSERT_TRUE(WaitFor(
      [&] {
        json j =
            json::parse(as("arch", {"live", "show", "live-open", "--json"}).out, nullptr, false);
        return !j.is_discarded() && j["held"] == 100 << 10;
      },
      20));
  open->Kill(SIGINT);
  open->Wait();
  CliResult append = as("CAM-2", {"live", growing, "--device", "CAM-2", "--live-id", "live-open",
                                  "--finish-after", "0"});
  EXPECT_NE(append.err.find("PERMISSION_DENIED"), std::string::npos) << append.err;
  EXPECT_NE(append.err.find("belongs to user:CAM-1"), std::string::npos) << append.err;
  CliResult seal = as("CAM-2", {"live", "seal", "live-open", "--reason", "mine now"});
  EXPECT_NE(seal.err.find("PERMISSION_DENIED"), std::string::npos) << seal.err;
  // An archivist's seal is their signed decision: unsigned, it is refused.
  {
    ASSERT_TRUE(CustodyClient::UseTls(dir / "arch").ok());
    auto stub = v1::Live::NewStub(CustodyClient::NewChannel(nodes[0]->address()));
    grpc::ClientContext ctx;
    v1::LiveSealRequest req;
    req.set_live_id("live-open");
    req.set_reason("unsigned");
    v1::LiveInfo out;
    grpc::Status unsigned_seal = stub->Seal(&ctx, req, &out);
    EXPECT_EQ(unsigned_seal.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << unsigned_seal.error_message();
  }
  // An archivist may seal it, as truncated, signed.
  CliResult archived;
  EXPECT_TRUE(WaitFor(
      [&] {
        archived = as("arch", {"live", "seal", "live-open", "--reason", "camera lost"});
        return archived.exit_code == 0;
      },
      10))
      << archived.err;
  // Each refusal is on record.
  CliResult trail = as("aud", {"audit", "log", "live:live-open", "--json"});
  int refused = 0, ordered = 0;
  const json events = json::parse(trail.out)["events"];  // not a range over a temporary
  for (const json& e : events) {
    refused += e["action"] == "access.refused";
    ordered += e["action"] == "live.seal-ordered" && e["actor"] == "user:arch";
  }
  EXPECT_GE(refused, 3) << trail.out;
  EXPECT_EQ(ordered, 1) << trail.out;
}

}  // namespace
}  // namespace custody::testing
