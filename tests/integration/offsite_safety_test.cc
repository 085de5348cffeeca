// Which snapshot a restore from the offsite peer uses (issue 24), with real
// processes: `custody offsite snapshots --peer` lists what the peer holds; a
// restore names its snapshot first, and refuses an empty snapshot and one
// signed by a key the cluster does not know (another cluster's, or its own
// old one after a wipe) unless told otherwise.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/offsite_fixture.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

class OffsiteSafetyTest : public OffsiteTest {
 protected:
  // A cluster of one (node `id`, a certificate of the same CA) that syncs to
  // the same peer: another cluster.
  std::unique_ptr<NodeProcess> LoneNode(const std::string& id) {
    CliResult cert = RunCli({"ca", "issue", "--ca", dir_ / "ca", "--node", id, "--host",
                             "127.0.0.1", "-o", dir_ / ("tls-" + id)});
    EXPECT_EQ(cert.exit_code, 0) << cert.err;
    auto node = std::make_unique<NodeProcess>(
        dir_ / id,
        std::vector<std::string>{"--tls", dir_ / ("tls-" + id), "--offsite", peer_->address()});
    EXPECT_TRUE(node->Start()) << node->Log();
    return node;
  }
  CliResult On(const NodeProcess& node, const std::string& user, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", node.address(), "--tls", dir_ / user});
    return RunCli(args);
  }
  // The peer's snapshots by id, as node 0 lists them.
  std::map<std::string, json> PeerSnapshots() {
    json list = Ok("aud", 0, {"offsite", "snapshots", "--peer", peer_->address()});
    EXPECT_EQ(list["peer"], peer_->address());
    std::map<std::string, json> out;
    for (const json& s : list["snapshots"]) out[s["id"].get<std::string>()] = s;
    return out;
  }
  std::vector<std::string> Restore(std::vector<std::string> more) {
    std::vector<std::string> args = {"restore", "--from-offsite", peer_->address()};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
};

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The case: a fresh node synced an empty snapshot; a restore of it
// brought back nothing and said it succeeded.
TEST_F(OffsiteSafetyTest, AnEmptySnapshotIsRefusedUnlessAllowedAndTheRestoreNamesIt) {
  std::string empty = Sync()["snapshot"];
  std::map<std::string, json> held = PeerSnapshots();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[empty]["objects"], 0);
  EXPECT_EQ(held[empty]["known_signer"], true) << "signed by a node of this cluster";
  EXPECT_EQ(held[empty]["signer_key"], SignerKey(empty));
  EXPECT_NE(held[empty]["receipt"]["verified"], "-");

  CliResult refused = As("admin", 1, Restore({}));
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_TRUE(Has(refused.err, "FAILED_PRECONDITION")) << refused.err;
  EXPECT_TRUE(Has(refused.err, "snapshot " + empty + " names no object")) << refused.err;
  EXPECT_TRUE(Has(refused.err, "--allow-empty-snapshot")) << refused.err;
  EXPECT_TRUE(Actions("snapshot:" + empty, 1).count("restore.refused"));
  EXPECT_FALSE(Actions("node", 1).count("cluster.restored"));

  CliResult plan = As("admin", 2, Restore({"--allow-empty-snapshot", "--dry-run"}));
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_TRUE(Has(plan.out, "would restore " + empty)) << plan.out;
  EXPECT_TRUE(Has(plan.out, ": 0 object(s)")) << plan.out;
  EXPECT_FALSE(Actions("node", 2).count("cluster.restored")) << "a dry run restores nothing";
  CliResult forced = As("admin", 2, Restore({"--allow-empty-snapshot", "--json"}));
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_TRUE(Has(forced.err, "restoring " + empty)) << "named first: " << forced.err;
  EXPECT_TRUE(Has(forced.err, "EMPTY")) << forced.err;
  json r = json::parse(forced.out);
  EXPECT_EQ(r["snapshot"], empty);
  EXPECT_EQ(r["objects"], 0);
  EXPECT_EQ(r["snapshot_objects"], 0);
  EXPECT_EQ(r["forced"], json::array({"empty-snapshot"}));
  EXPECT_TRUE(Actions("node", 2).count("cluster.restored"));

  // The peer itself lists nothing: it says where to ask.
  CliResult on_peer =
      RunCli({"--server", peer_->address(), "--tls", dir_ / "aud", "snapshot", "list"});
  EXPECT_EQ(on_peer.exit_code, 1);
  EXPECT_TRUE(Has(on_peer.err, "offsite snapshots --peer")) << on_peer.err;
  EXPECT_FALSE(Has(on_peer.err, "UNIMPLEMENTED")) << on_peer.err;
}

TEST_F(OffsiteSafetyTest, AnotherClustersSnapshotIsRefusedAndOursIsTakenByItsKey) {
  std::vector<std::string> ids = {Stored(600 << 10), Stored(200 << 10)};
  std::string ours = Sync()["snapshot"];
  std::string key = SignerKey(ours);
  std::unique_ptr<NodeProcess> other = LoneNode("x1");
  std::string file = dir_ / "other-file";
  std::string other_id = WriteRandomFile(file, 300 << 10, 99);
  ASSERT_EQ(On(*other, "olga", {"put", file}).exit_code, 0);
  CliResult synced = On(*other, "admin", {"offsite", "sync", "--json"});
  ASSERT_EQ(synced.exit_code, 0) << synced.err;
  std::string foreign = json::parse(synced.out)["snapshot"];

  std::map<std::string, json> held = PeerSnapshots();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[ours]["objects"], 2);
  EXPECT_EQ(held[ours]["data_bytes"], data_bytes_);
  EXPECT_EQ(held[ours]["known_signer"], true);
  EXPECT_EQ(held[ours]["signer_key"], key);
  EXPECT_EQ(held[foreign]["objects"], 1);
  EXPECT_NE(held[foreign]["signer_key"], key);
  EXPECT_EQ(held[foreign]["known_signer"], false);
  CliResult table = As("aud", 0, {"offsite", "snapshots", "--peer", peer_->address()});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out.rfind("ID ", 0), 0u) << "a header first: " << table.out;
  EXPECT_TRUE(Has(table.out, ours) && Has(table.out, foreign)) << table.out;
  EXPECT_TRUE(Has(table.out, "UNKNOWN")) << table.out;

  // Refused before anything else is looked at, and audited.
  CliResult refused = As("admin", 1, Restore({"--snapshot", foreign}));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(Has(refused.err, "does not know")) << refused.err;
  EXPECT_TRUE(Has(refused.err, "--allow-foreign-cluster")) << refused.err;
  EXPECT_TRUE(Actions("snapshot:" + foreign, 1).count("restore.refused"));

  Wipe();
  CliResult latest = As("admin", 1, Restore({}));
  EXPECT_EQ(latest.exit_code, 1) << "the latest is the other cluster's: " << latest.out;
  EXPECT_TRUE(Has(latest.err, "snapshot " + foreign + " was signed by node ")) << latest.err;
  CliResult unknown = As("admin", 1, Restore({"--snapshot", ours}));
  EXPECT_EQ(unknown.exit_code, 1) << "a wiped cluster does not know its old key";
  EXPECT_TRUE(Has(unknown.err, "--trust-signer-key " + key)) << unknown.err;
  EXPECT_EQ(As("admin", 1, Restore({"--trust-signer-key", "not-a-key"})).exit_code, 2);

  json restored =
      Ok("admin", 1, Restore({"--snapshot", ours, "--trust-signer-key", key.substr(0, 16)}));
  EXPECT_EQ(restored["snapshot"], ours);
  EXPECT_EQ(restored["objects"], 2);
  EXPECT_EQ(restored["bytes"], data_bytes_);
  EXPECT_EQ(restored["snapshot_objects"], 2);
  EXPECT_EQ(restored["snapshot_data_bytes"], data_bytes_);
  EXPECT_EQ(restored["signer_key"], key);
  EXPECT_EQ(restored["forced"], json::array());
  for (const std::string& id : ids) EXPECT_EQ(As("olga", 2, {"stat", id}).exit_code, 0) << id;
  // Run again, as text: the snapshot is named first, and nothing comes twice.
  CliResult again = As("admin", 0, Restore({"--snapshot", ours, "--trust-signer-key", key}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.rfind("restoring " + ours + " from " + peer_->address() + ": 2 object(s)", 0),
            0u)
      << again.out;
  EXPECT_TRUE(Has(again.out, "restored " + ours + ": 0 object(s)")) << again.out;
  EXPECT_TRUE(Has(again.out, "2 object(s) were in place already")) << again.out;

  // Another cluster's snapshot, into a fresh node, when that is meant.
  std::unique_ptr<NodeProcess> fresh = LoneNode("y1");
  std::vector<std::string> into_fresh = Restore({"--snapshot", foreign, "--json"});
  EXPECT_EQ(On(*fresh, "admin", into_fresh).exit_code, 1);
  into_fresh.push_back("--allow-foreign-cluster");
  CliResult taken = On(*fresh, "admin", into_fresh);
  ASSERT_EQ(taken.exit_code, 0) << taken.err;
  json r = json::parse(taken.out);
  EXPECT_EQ(r["objects"], 1);
  EXPECT_EQ(r["bytes"], 300 << 10);
  EXPECT_EQ(r["forced"], json::array({"foreign-cluster"}));
  EXPECT_EQ(On(*fresh, "olga", {"stat", other_id}).exit_code, 0);
  EXPECT_NE(As("olga", 0, {"stat", other_id}).exit_code, 0) << "not in our cluster";
}

}  // namespace
}  // namespace custody::testing
