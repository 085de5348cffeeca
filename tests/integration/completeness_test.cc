// Proving nothing is missing (issue 31), with a real custodyd: spot checks
// drawn with a seed nobody could know while the period's records were made.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "custody/internal/v1/offsite_peer.grpc.pb.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

class CompletenessTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(node_.Start()) << node_.Log(); }
  CliResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", node_.address()});
    return RunCli(args);
  }
  json Ok(std::vector<std::string> args) {
    args.push_back("--json");
    CliResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err << r.out;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  static std::string At(absl::Duration from_now) {
    return absl::FormatTime(absl::RFC3339_full, absl::Now() + from_now, absl::UTCTimeZone());
  }
  std::string NewRecord(const std::string& agency, const std::string& start) {
    json r = Ok({"record", "create", "--agency", agency, "--matter", "3", "--target", "shop",
                 "--stage", "inspection", "--officer", "o1", "--device", "D1", "--start", start});
    return r.is_null() ? "" : r["id"].get<std::string>();
  }
  TempDir dir_;
  NodeProcess node_{dir_ / "data"};
};

TEST_F(CompletenessTest, ASpotCheckIsDrawnFromACheckpointAfterThePeriodAndReproducible) {
  std::set<std::string> period;
  for (int i = 0; i < 12; ++i) {
    period.insert(NewRecord("A", At(-absl::Hours(3) + absl::Minutes(i))));
  }
  NewRecord("B", At(-absl::Hours(3)));     // another agency
  NewRecord("A", At(-absl::Minutes(30)));  // after the period
  const std::string from = At(-absl::Hours(4)), to = At(-absl::Hours(1));
  json first = Ok({"report", "sample", "--agency", "A", "--from", from, "--to", to, "--n", "5"});
  ASSERT_FALSE(first.is_null());
  ASSERT_EQ(first["sampled"].size(), 5u);
  EXPECT_EQ(std::set<std::string>(first["population"].begin(), first["population"].end()), period);
  std::set<std::string> drawn;
  for (const json& s : first["sampled"]) {
    drawn.insert(s["id"].get<std::string>());
    EXPECT_TRUE(period.count(s["id"].get<std::string>())) << s;
    EXPECT_EQ(s["status"], "incomplete") << s;  // no footage, no exemption
    EXPECT_NE(std::find(s["problems"].begin(), s["problems"].end(), "no-footage"),
              s["problems"].end())
        << s;
  }
  EXPECT_EQ(drawn.size(), 5u);
  // Asked again (more events and checkpoints since): the same checkpoint,
  // the same draw.
  NewRecord("C", At(-absl::Minutes(5)));
  json again = Ok({"report", "sample", "--agency", "A", "--from", from, "--to", to, "--n", "5"});
  EXPECT_EQ(again["checkpoint"], first["checkpoint"]);
  EXPECT_EQ(again["sampled"], first["sampled"]);
  // Anyone reproduces it offline from the saved output.
  const std::string saved = dir_ / "sample.json";
  std::ofstream(saved) << first.dump();
  CliResult verified = RunCli({"report", "sample", "--verify", saved});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_NE(verified.out.find("reproduced: the 5 record(s)"), std::string::npos) << verified.out;
  // A sample steered to another record does not reproduce; nor another seed.
  std::string other;
  for (const std::string& id : period) {
    if (!drawn.count(id)) other = id;
  }
  json steered = first;
  steered["sampled"][0]["id"] = other;
  std::ofstream(dir_ / "steered.json") << steered.dump();
  CliResult bad = RunCli({"report", "sample", "--verify", dir_ / "steered.json"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("not the ones the seed draws"), std::string::npos) << bad.err;
  json reseeded = first;
  reseeded["seed"] = std::string(64, '0');
  std::ofstream(dir_ / "reseeded.json") << reseeded.dump();
  EXPECT_NE(RunCli({"report", "sample", "--verify", dir_ / "reseeded.json"}).exit_code, 0);
  // The table, and the draw on record.
  CliResult table =
      Cli({"report", "sample", "--agency", "A", "--from", from, "--to", to, "--n", "5"});
  EXPECT_NE(table.out.find("5 of 12 drawn"), std::string::npos) << table.out;
  json log = Ok({"audit", "log", "--action", "report.sampled"});
  EXPECT_GE(log["events"].size(), 2u) << log.dump();
  // A period that has not ended cannot be drawn yet.
  CliResult early = Cli({"report", "sample", "--agency", "A", "--from", from, "--to",
                         At(absl::Hours(1)), "--n", "5"});
  EXPECT_NE(early.exit_code, 0);
  EXPECT_NE(early.err.find("has not ended"), std::string::npos) << early.err;
}

// Offsite challenges (proofs of retrievability): a node with 200 chunks of
// 64 KiB, all sent to a real offsite peer and verified there.
class ChallengeTest : public CompletenessTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(peer_.Start()) << peer_.Log();
    node_.AddArgs({"--chunk-size", "64KiB", "--metrics-listen",
                   "127.0.0.1:" + std::to_string(metrics_port_)});
    CompletenessTest::SetUp();
    for (int i = 0; i < 4; ++i) {  // 4 files of 50 chunks
      files_.push_back(dir_ / ("f" + std::to_string(i)));
      WriteRandomFile(files_.back(), 50 * kChunk, 900 + i);
      ASSERT_EQ(Cli({"put", files_.back()}).exit_code, 0);
    }
    json sync = Ok({"offsite", "sync", "--peer", peer_.address()});
    ASSERT_FALSE(sync.is_null());
  }
  json Challenge(std::vector<std::string> more, int want_exit) {
    std::vector<std::string> args = {"offsite", "challenge", "--json"};
    args.insert(args.end(), more.begin(), more.end());
    CliResult r = Cli(args);
    EXPECT_EQ(r.exit_code, want_exit) << r.err << r.out;
    return r.out.empty() ? json() : json::parse(r.out);
  }
  // Flips one byte of chunk `k` of file `f` in the peer's volumes.
  bool FlipOnPeer(int f, int k) {
    const std::string chunk = ReadFile(files_[f]).substr(k * kChunk, kChunk);
    bool flipped = false;
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "offsite/volumes")) {
      int64_t at = FindInFile(e.path(), chunk.substr(0, 4096));
      if (at < 0) continue;
      std::fstream out(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      out.seekp(at + 1000);
      char c = chunk[1000] ^ 0x5a;
      out.write(&c, 1);
      flipped = true;
    }
    return flipped;
  }
  // The node's custody_offsite_challenge_misses; -1 if it is not there.
  int64_t Misses() { return MetricValue(metrics_port_, "custody_offsite_challenge_misses"); }
  static constexpr int kChunk = 64 << 10;
  int metrics_port_ = FreePort();
  NodeProcess peer_{dir_ / "offsite", {"--role", "offsite"}};
  std::vector<std::string> files_;
};

TEST_F(ChallengeTest, ACorruptChunkFailsTheChallengeIsRepairedByTheNextSyncThenItPasses) {
  ASSERT_TRUE(FlipOnPeer(2, 17));
  EXPECT_EQ(Misses(), 0);  // no challenge yet
  const std::string victim =
      "sha256:" + Digest::Of(ReadFile(files_[2]).substr(17 * kChunk, kChunk)).Hex();
  json failed = Challenge({"--peer", peer_.address(), "--samples", "200"}, 1);
  EXPECT_EQ(failed["ok"], false);
  EXPECT_EQ(failed["population"], 200);
  EXPECT_EQ(failed["samples"], 200);
  ASSERT_EQ(failed["missed"].size(), 1u) << failed.dump();
  EXPECT_EQ(failed["missed"][0], victim);
  json log = Ok({"audit", "log", "offsite"});
  bool alerted = false;
  for (const json& e : log["events"]) {
    if (e["action"] != "offsite.challenge-failed") continue;
    alerted = true;
    EXPECT_NE(e["details"]["missed"].get<std::string>().find(victim), std::string::npos) << e;
  }
  EXPECT_TRUE(alerted) << log.dump();
  EXPECT_EQ(Misses(), 1);  // the alert's metric
  // The peer marked it bad when it read it: the next sync sends it again.
  json repair = Ok({"offsite", "sync", "--peer", peer_.address()});
  EXPECT_GE(repair["bytes_sent"].get<uint64_t>(), uint64_t{kChunk}) << repair.dump();
  json passed = Challenge({"--peer", peer_.address(), "--samples", "200"}, 0);
  EXPECT_EQ(passed["ok"], true) << passed.dump();
  EXPECT_TRUE(passed["missed"].empty());
  EXPECT_EQ(Misses(), 0);
  EXPECT_NEAR(passed["loss_bound_percent"].get<double>(), 1.487, 0.01);
  EXPECT_NE(passed["seed"], failed["seed"]);  // fresh each time
  json status = Ok({"offsite", "status"});
  EXPECT_EQ(status["last_challenge"]["ok"], true) << status.dump();
  EXPECT_EQ(status["last_challenge"]["seed"], passed["seed"]);
}

// A test double behind the real RPC: it kept every chunk's hash, none of
// the bytes, and answers the best it can.
class HashesOnlyPeer final : public internal::v1::OffsitePeer::CallbackService {
 public:
  grpc::ServerUnaryReactor* Challenge(grpc::CallbackServerContext* ctx,
                                      const internal::v1::ChallengeRequest* req,
                                      internal::v1::ChallengeResponse* resp) override {
    for (const std::string& key : req->keys()) {
      resp->add_answers(std::string(Digest::Of(req->nonce() + key).Raw()));
    }
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

TEST_F(ChallengeTest, APeerWithHashesButNotTheBytesCannotAnswer) {
  HashesOnlyPeer fake;
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&fake);
  std::unique_ptr<grpc::Server> server = b.BuildAndStart();
  ASSERT_NE(port, 0);
  json r = Challenge({"--peer", "127.0.0.1:" + std::to_string(port), "--samples", "50"}, 1);
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["missed"].size(), 50u) << r.dump();
  server->Shutdown();
}

// The node that keeps the schedule challenges its --offsite peer by itself
// when the last challenge is --challenge-every old (none yet: at once).
TEST_F(ChallengeTest, TheScheduleChallengesThePeerByItself) {
  ASSERT_EQ(node_.Kill(SIGTERM), 0);
  node_.AddArgs({"--offsite", peer_.address(), "--challenge-samples", "30"});
  ASSERT_TRUE(node_.Start()) << node_.Log();
  json last;
  for (int i = 0; i < 100 && last.is_null(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    json status = Ok({"offsite", "status"});
    if (status.contains("last_challenge")) last = status["last_challenge"];
  }
  ASSERT_FALSE(last.is_null()) << node_.Log();
  EXPECT_EQ(last["ok"], true) << last.dump();
  EXPECT_EQ(last["samples"], 30);
  json log = Ok({"audit", "log", "offsite"});
  bool scheduled = false;
  for (const json& e : log["events"]) {
    scheduled = scheduled || (e["action"] == "offsite.challenged" && e["actor"] == "custodyd");
  }
  EXPECT_TRUE(scheduled) << log.dump();
}

// Both sides read at the challenge rate: 40 chunks of 64 KiB at 1 MiB/s.
TEST_F(ChallengeTest, TheChallengeReadsAtItsRateOnBothSides) {
  json r = Challenge({"--peer", peer_.address(), "--samples", "40", "--rate", "1MiB/s"}, 0);
  ASSERT_EQ(r["bytes"], 40 * kChunk);
  const double rate = 1 << 20;
  const double peer = r["bytes"].get<double>() / r["peer_seconds"].get<double>();
  const double here = r["bytes"].get<double>() / r["seconds"].get<double>();
  EXPECT_GT(peer, 0.9 * rate) << r.dump();
  EXPECT_LT(peer, 1.1 * rate) << r.dump();
  EXPECT_GT(here, 0.9 * rate) << r.dump();
  EXPECT_LT(here, 1.1 * rate) << r.dump();
}

}  // namespace
}  // namespace custody::testing
