// Offsite snapshots (issue 7) with real processes on loopback: a TLS cluster
// of three nodes and an offsite peer (custodyd --role offsite) with its own
// certificate. Snapshot, sync and receipt; a second sync that sends only what
// is new; a peer, then the syncing node, killed in the middle of a sync; a
// chunk corrupted on the peer; and a wiped cluster restored from the peer
// (offsite_safety_test.cc: which snapshots a restore refuses).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/offsite_fixture.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

TEST_F(OffsiteTest, SnapshotSyncAndReceiptThenOnlyNewDataTheNextMonth) {
  Stored(1536 << 10);
  Stored(700 << 10);
  Stored(3 << 20);
  Stored(37 << 20);  // 10 chunks, sent on 12 streams at once
  // Only an admin or an archive-head makes snapshots; the peer takes nothing
  // from ordinary clients.
  EXPECT_EQ(As("olga", 0, {"snapshot", "create"}).exit_code, 1);
  CliResult put =
      RunCli({"--server", peer_->address(), "--tls", dir_ / "olga", "put", paths_.begin()->second});
  EXPECT_NE(put.exit_code, 0);
  EXPECT_NE(put.err.find("offsite peer"), std::string::npos) << put.err;

  json snap = Ok("hank", 2, {"snapshot", "create"});
  EXPECT_EQ(snap["objects"], 4);
  EXPECT_EQ(snap["data_bytes"], data_bytes_);
  EXPECT_EQ(snap["audit_logs"], 3) << "every node's audit checkpoint";
  EXPECT_EQ(snap["verified_offsite"], false);
  std::string id = snap["id"];

  json sync = Sync({"--snapshot", id});
  EXPECT_EQ(sync["snapshot"], id);
  internal::v1::PeerStatus after = PeerCounters();
  EXPECT_EQ(after.blobs_already_held(), 0u);
  EXPECT_EQ(after.bytes_received(), sync["bytes_sent"].get<uint64_t>());
  // Bytes sent match the data: every chunk once, plus small metadata.
  EXPECT_GE(after.bytes_received(), data_bytes_);
  EXPECT_LE(after.bytes_received(), data_bytes_ + (256 << 10));
  EXPECT_EQ(after.snapshots_sealed(), 1u);
  // Every object was hashed as its chunks came, in whatever order: the seal
  // read none back.
  EXPECT_EQ(after.objects_read_back(), 0u);

  // The receipt is an audit event in the cluster, and the snapshot shows it.
  EXPECT_TRUE(Actions("snapshot:" + id, 1).count("offsite.receipt"));
  EXPECT_TRUE(Actions("snapshot:" + id, 0).count("snapshot.created"));
  json list = Ok("aud", 0, {"snapshot", "list"});
  ASSERT_EQ(list["snapshots"].size(), 1u);
  EXPECT_EQ(list["snapshots"][0]["verified_offsite"], true);
  json status = Ok("aud", 0, {"offsite", "status"});
  EXPECT_EQ(status["last_verified"]["id"], id);
  EXPECT_EQ(status["objects_behind"], 0);
  EXPECT_EQ(status["overdue"], false);

  // A month later: two new files; the next sync makes a new snapshot and
  // sends only them (and a little metadata).
  uint64_t before_new = data_bytes_;
  Stored(2 << 20);
  Stored(300 << 10);
  uint64_t fresh = data_bytes_ - before_new;
  EXPECT_EQ(Ok("aud", 0, {"offsite", "status"})["objects_behind"], 2);
  json second = Sync();
  EXPECT_NE(second["snapshot"], id);
  internal::v1::PeerStatus later = PeerCounters();
  uint64_t sent = later.bytes_received() - after.bytes_received();
  EXPECT_EQ(sent, second["bytes_sent"].get<uint64_t>());
  EXPECT_GE(sent, fresh);
  EXPECT_LE(sent, fresh + (256 << 10)) << "old chunks are not sent again";
  EXPECT_EQ(later.blobs_already_held(), 0u);
  EXPECT_EQ(later.snapshots_sealed(), 2u);
  EXPECT_EQ(Ok("aud", 0, {"offsite", "verify", "--peer", peer_->address()})["ok"], true);
}

TEST_F(OffsiteTest, APeerKilledInTheMiddleOfASyncResumesWithoutResending) {
  for (int i = 0; i < 24; ++i) Stored(1 << 20);
  std::string id = Ok("admin", 0, {"snapshot", "create"})["id"];
  EXPECT_NE(SyncCutByKilling(peer_.get(), id).exit_code, 0)
      << "the sync cannot finish without its peer";
  ASSERT_TRUE(peer_->Start()) << peer_->Log();

  json resumed = Sync({"--snapshot", id});
  internal::v1::PeerStatus counters = PeerCounters();  // since the restart
  EXPECT_EQ(counters.blobs_already_held(), 0u) << "nothing durable was sent again";
  EXPECT_EQ(counters.bytes_received(), resumed["bytes_sent"].get<uint64_t>());
  EXPECT_LT(resumed["bytes_sent"].get<uint64_t>(), data_bytes_ - (2 << 20))
      << "what the peer held durably before it died was not sent again";
  EXPECT_GT(resumed["bytes_sent"].get<uint64_t>(), 0u);
  json verify = Ok("aud", 2, {"offsite", "verify", "--peer", peer_->address()});
  EXPECT_EQ(verify["ok"], true) << verify.dump();
  EXPECT_EQ(verify["objects"], 24);
  EXPECT_EQ(verify["bytes"], data_bytes_);
}

TEST_F(OffsiteTest, ASyncingNodeKilledInTheMiddleResumesWithoutResending) {
  for (int i = 0; i < 24; ++i) Stored(1 << 20);
  std::string id = Ok("admin", 0, {"snapshot", "create"})["id"];
  EXPECT_NE(SyncCutByKilling(nodes_[1].get(), id).exit_code, 0)
      << "the sync cannot finish without the node that runs it";
  ASSERT_TRUE(nodes_[1]->Start()) << nodes_[1]->Log();
  WaitUntilPeersAreUp(nodes_, dir_ / "aud");
  internal::v1::PeerStatus before = PeerCounters();
  EXPECT_GT(before.bytes_received(), 0u) << "the peer took some chunks before the node died";

  json resumed = Sync({"--snapshot", id});
  internal::v1::PeerStatus after = PeerCounters();
  EXPECT_EQ(after.blobs_already_held(), before.blobs_already_held()) << "nothing sent twice";
  EXPECT_EQ(after.bytes_received() - before.bytes_received(),
            resumed["bytes_sent"].get<uint64_t>());
  EXPECT_LT(resumed["bytes_sent"].get<uint64_t>(), data_bytes_ - (2 << 20))
      << "what the peer held durably before the node died was not sent again";
  EXPECT_GT(resumed["bytes_sent"].get<uint64_t>(), 0u) << "the rest was sent";
  json verify = Ok("aud", 2, {"offsite", "verify", "--peer", peer_->address()});
  EXPECT_EQ(verify["ok"], true) << verify.dump();
  EXPECT_EQ(verify["objects"], 24);
  EXPECT_EQ(verify["bytes"], data_bytes_);
}

// Flips byte 1000 of a stored single-chunk file, found in the peer's volumes
// by its first 4 KiB `content`; whether it was found there.
// Flips one byte of `content`'s first chunk wherever the volumes in
// `volumes` hold it; whether any did.
bool FlipIn(const fs::path& volumes, const std::string& content) {
  bool flipped = false;
  for (const auto& e : fs::directory_iterator(volumes)) {
    int64_t at = FindInFile(e.path(), content.substr(0, 4096));
    if (at < 0) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(at + 1000);
    char c = content[1000] ^ 0x5a;
    f.write(&c, 1);
    flipped = true;
  }
  return flipped;
}

// The syncing node reads its own chunks without hashing them (the peer
// hashes every chunk it takes): a corrupt copy is refused by the peer, read
// again through the verifying store, and sent from the replica that is good.
TEST_F(OffsiteTest, ACorruptChunkOnTheSyncingNodeIsRefusedByThePeerAndSentFromAGoodReplica) {
  std::string victim = Stored(256 << 10);  // one chunk, on 2 of the 3 nodes
  Stored(128 << 10);
  int holder = -1;
  for (int n = 0; n < 3 && holder < 0; ++n) {
    if (FlipIn(dir_ / ("n" + std::to_string(n + 1) + "/volumes"), ReadFile(paths_[victim]))) {
      holder = n;
    }
  }
  ASSERT_GE(holder, 0) << "no node holds the victim";
  json sync = Sync({}, holder);
  EXPECT_GE(sync["bytes_sent"].get<uint64_t>(), data_bytes_);
  EXPECT_NE(nodes_[holder]->Log().find("the offsite peer refused " + victim), std::string::npos)
      << "the peer's check caught the corrupt copy: " << nodes_[holder]->Log();
  EXPECT_EQ(PeerCounters().bad_blobs(), 0u);
  json verify = Ok("aud", 0, {"offsite", "verify", "--peer", peer_->address()});
  EXPECT_EQ(verify["ok"], true) << verify.dump();
}

// A peer with --data-key seals every chunk it takes, the early ones too
// (which it keeps for its object hash while they are written).
TEST_F(OffsiteTest, APeerWithADataKeySealsWhatItTakesAndItVerifies) {
  Subprocess gen({CUSTODYD_PATH, "--generate-data-key", dir_ / "off.key"}, dir_ / "gen.out",
                 dir_ / "gen.err");
  ASSERT_EQ(gen.Wait(), 0) << ReadFile(dir_ / "gen.err");
  peer_->Kill(SIGTERM);
  peer_ = std::make_unique<NodeProcess>(
      dir_ / "offsite-sealed",
      std::vector<std::string>{"--role", "offsite", "--tls", dir_ / "tls-off1", "--data-key",
                               dir_ / "off.key"});
  ASSERT_TRUE(peer_->Start()) << peer_->Log();
  const std::string pattern = "HEARING-RECORD-2026-12-02-";
  std::string text;
  while (text.size() < (17 << 20)) text += pattern + std::to_string(text.size()) + "\n";
  std::string file = dir_ / "hearing.txt";
  std::ofstream(file) << text;  // 5 chunks, on 12 streams at once
  ASSERT_EQ(As("olga", 0, {"put", file}).exit_code, 0);
  Sync();
  EXPECT_EQ(PeerCounters().objects_read_back(), 0u);
  std::string volumes;
  for (const auto& e : fs::directory_iterator(dir_ / "offsite-sealed/volumes")) {
    volumes += ReadFile(e.path());
  }
  EXPECT_GE(volumes.size(), text.size());
  EXPECT_EQ(volumes.find(pattern), std::string::npos) << "plaintext in the peer's volumes";
  json verify = Ok("aud", 0, {"offsite", "verify", "--peer", peer_->address()});
  EXPECT_EQ(verify["ok"], true) << verify.dump();
}

TEST_F(OffsiteTest, ACorruptChunkOnThePeerIsFoundAndTheNextSyncRepairsIt) {
  std::string victim = Stored(256 << 10);  // one chunk: its id is the chunk's
  Stored(128 << 10);
  Sync();
  ASSERT_TRUE(FlipIn(dir_ / "offsite/volumes", ReadFile(paths_[victim])));
  CliResult verify = As("aud", 0, {"offsite", "verify", "--peer", peer_->address(), "--json"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out << verify.err;
  json report = json::parse(verify.out);
  EXPECT_EQ(report["ok"], false);
  ASSERT_EQ(report["corrupt"].size(), 1u) << report.dump();
  EXPECT_EQ(report["corrupt"][0].get<std::string>().rfind(victim, 0), 0u) << report.dump();
  EXPECT_EQ(PeerCounters().bad_blobs(), 1u);

  json repair = Sync();
  EXPECT_GE(repair["bytes_sent"].get<uint64_t>(), uint64_t{256 << 10}) << "the chunk again";
  EXPECT_EQ(PeerCounters().bad_blobs(), 0u);
  json again = Ok("aud", 0, {"offsite", "verify", "--peer", peer_->address()});
  EXPECT_EQ(again["ok"], true) << again.dump();
  EXPECT_TRUE(Actions("offsite", 0).count("offsite.verify-requested"));
}

TEST_F(OffsiteTest, ARestoreFromAPeerWithACorruptChunkStopsAndPlacesNothingOfIt) {
  std::string victim = Stored(256 << 10);  // one chunk each
  Stored(128 << 10);
  std::string key = SignerKey(Sync()["snapshot"]);
  ASSERT_TRUE(FlipIn(dir_ / "offsite/volumes", ReadFile(paths_[victim])));
  Wipe();

  CliResult r =
      As("admin", 1, {"restore", "--from-offsite", peer_->address(), "--trust-signer-key", key});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("DATA_LOSS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(victim.substr(7, 16)), std::string::npos) << "names the blob: " << r.err;
  CliResult stat = As("olga", 0, {"stat", victim});
  EXPECT_NE(stat.exit_code, 0) << "no manifest for an object whose chunk failed: " << stat.out;
  EXPECT_FALSE(Actions("node", 1).count("cluster.restored"));
}

TEST_F(OffsiteTest, AWipedClusterIsRestoredFromThePeerAndVerifies) {
  std::vector<std::string> ids = {Stored(5 << 20), Stored(900 << 10), Stored(64 << 10)};
  std::string rec = Ok(
      "olga", 0,
      {"record", "create", "--agency", "A", "--matter", "3", "--target", "shop-17", "--stage",
       "inspection", "--officer", "o1", "--device", "D1", "--start", "2026-11-20T09:00:00Z"})["id"];
  Ok("olga", 0, {"record", "attach", rec, ids[0], "--kind", "video"});
  for (const std::string& id : ids) {  // olga may view them for a week
    std::string req =
        Ok("olga", 0, {"access", "request", id, "--reason", "hearing", "--for", "168h"})["request"];
    Ok("hank", 1, {"access", "approve", req});
    Ok("lena", 2, {"access", "approve", req});
  }
  size_t stored_events = Ok("aud", 0, {"audit", "log", ids[0]})["events"].size();
  std::vector<std::string> november = {"report",     "--agency", "A",         "--from",
                                       "2026-11-01", "--to",     "2026-12-01"};
  EXPECT_EQ(Ok("hank", 0, november)["objects_not_offsite"], 1);
  std::string key = SignerKey(Sync()["snapshot"]);
  EXPECT_EQ(Ok("hank", 0, november)["objects_not_offsite"], 0) << "confirmed by the receipt";

  Wipe();
  EXPECT_NE(As("olga", 0, {"get", ids[0], "-o", dir_ / "gone"}).exit_code, 0) << "wiped";
  // The wiped cluster knows none of its old keys: it is told which.
  std::vector<std::string> restore = {"restore", "--from-offsite", peer_->address(),
                                      "--trust-signer-key", key};
  EXPECT_EQ(As("olga", 0, restore).exit_code, 1) << "only an admin restores";

  json restored = Ok("admin", 1, restore);
  EXPECT_EQ(restored["objects"], 3);
  EXPECT_EQ(restored["snapshot_objects"], 3);
  EXPECT_EQ(restored["signer_key"], key);
  EXPECT_EQ(restored["bytes"], data_bytes_);
  EXPECT_EQ(restored["audit_logs"], 3);
  for (const std::string& id : ids) {  // bit-exact, with the grants restored too
    std::string back = dir_ / ("back-" + id.substr(7, 8));
    CliResult get = As("olga", 2, {"get", id, "-o", back});
    ASSERT_EQ(get.exit_code, 0) << get.err;
    EXPECT_EQ(HashFile(back), id);
    EXPECT_EQ(ReadFile(back), ReadFile(paths_[id]));
  }
  json record = Ok("olga", 0, {"record", "show", rec});
  EXPECT_EQ(record["segments"].size(), 1u) << record.dump();
  // The object's history from before the wipe is there, then its restore.
  json history = Ok("aud", 1, {"audit", "log", ids[0]});
  std::set<std::string> actions;
  for (const auto& e : history["events"]) actions.insert(e["action"].get<std::string>());
  EXPECT_GT(history["events"].size(), stored_events);
  EXPECT_TRUE(actions.count("object.stored")) << history.dump();
  EXPECT_TRUE(actions.count("object.restored")) << history.dump();
  for (int n = 0; n < 3; ++n) {
    json v = Ok("aud", n, {"audit", "verify-node"});
    EXPECT_EQ(v["ok"], true) << v.dump();
  }
  json coordinator = Ok("aud", 1, {"audit", "verify-node"});
  EXPECT_EQ(coordinator["restored_logs"].size(), 3u) << coordinator.dump();
  EXPECT_TRUE(Actions("node", 1).count("cluster.restored"));
  // Run again (as after a restore that stopped half way): nothing is placed twice.
  json again = Ok("admin", 0, restore);
  EXPECT_EQ(again["objects"], 0);
  EXPECT_EQ(again["objects_present"], 3);
  // A cluster holding something the snapshot does not name is not restored into.
  Stored(10 << 10);
  CliResult other = As("admin", 1, restore);
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("empty cluster"), std::string::npos) << other.err;
}

// A node with --offsite and a short --snapshot-every makes and sends snapshots
// by itself; with the peer gone, status warns that the offsite copy is older
// than the schedule allows.
TEST(OffsiteScheduleTest, SnapshotsAreMadeAndSentOnScheduleAndStatusWarnsWhenLate) {
  TempDir dir;
  NodeProcess peer(dir / "peer", {"--role", "offsite", "--node-id", "off1"});
  ASSERT_TRUE(peer.Start()) << peer.Log();
  NodeProcess node(dir / "node", {"--offsite", peer.address(), "--snapshot-every", "3s"});
  ASSERT_TRUE(node.Start()) << node.Log();
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", node.address()});
    args.push_back("--json");
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  };
  std::string file = dir / "interview.mp4";
  WriteRandomFile(file, 300 << 10, 9);
  ASSERT_EQ(RunCli({"--server", node.address(), "put", file}).exit_code, 0);
  json verified;
  for (int i = 0; i < 100 && verified.is_null(); ++i) {
    json list = cli({"snapshot", "list"});  // kept: a loop over a temporary's member dangles
    for (const auto& s : list["snapshots"]) {
      if (s["reason"] == "schedule" && s["verified_offsite"] == true && s["objects"] == 1) {
        verified = s;
      }
    }
    if (verified.is_null()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_FALSE(verified.is_null()) << cli({"snapshot", "list"}).dump();
  EXPECT_EQ(verified["receipt"]["peer"], peer.address());
  json status = cli({"offsite", "status"});
  EXPECT_EQ(status["peer"], peer.address());

  peer.Kill(SIGKILL);
  std::this_thread::sleep_for(std::chrono::seconds(7));
  status = cli({"offsite", "status"});
  EXPECT_EQ(status["overdue"], true) << status.dump();
  EXPECT_NE(status["warning"].get<std::string>().find("older than the schedule"), std::string::npos)
      << status.dump();
  json log = cli({"audit", "log", "offsite"});
  bool failed = false;
  for (const auto& e : log["events"]) failed = failed || e["action"] == "snapshot.schedule-failed";
  EXPECT_TRUE(failed) << log.dump();
}

}  // namespace
}  // namespace custody::testing
