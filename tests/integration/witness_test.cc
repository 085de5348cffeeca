// Evidence a third party can check (issue 30), with real processes: a
// witness (custodyd --role witness) cosigns a node's checkpoints and refuses
// a node whose log was rolled back and rewritten; a time-stamping authority
// on loopback (tests/local_tsa.h) timestamps them, and is retried when down.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/checkpoint.h"
#include "common/cosignature.h"
#include "common/sm3.h"
#include "common/tls.h"
#include "custody/v1/audit.pb.h"
#include "custody/v1/witness.grpc.pb.h"
#include "tests/integration/cluster_util.h"
#include "tests/integration/process.h"
#include "tests/local_tsa.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

class WitnessTest : public ::testing::Test {
 protected:
  CliResult Cli(const std::string& server, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", server});
    return RunCli(args);
  }
  json Ok(const std::string& server, std::vector<std::string> args) {
    args.push_back("--json");
    CliResult r = Cli(server, args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err << r.out;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  // Puts `n` new random files on `node`.
  void Put(NodeProcess& node, int n) {
    for (int i = 0; i < n; ++i) {
      std::string f = dir_ / ("f" + std::to_string(files_));
      WriteRandomFile(f, 64 << 10, 100 + files_++);
      ASSERT_EQ(Cli(node.address(), {"put", f}).exit_code, 0);
    }
  }
  std::string Export(NodeProcess& node, const std::string& id) {
    std::string bundle = dir_ / ("b" + std::to_string(files_++) + ".bundle");
    CliResult r = Cli(node.address(), {"audit", "export", id, "-o", bundle});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return bundle;
  }
  TempDir dir_;
  int files_ = 0;
};

TEST_F(WitnessTest, AForkedLogIsRefusedOnRecordAndItsBundleFailsWithTheWitnessKey) {
  NodeProcess witness(dir_ / "witness", {"--role", "witness"});
  ASSERT_TRUE(witness.Start()) << witness.Log();
  NodeProcess node(dir_ / "n1", {"--witness", witness.address(), "--witness-every", "1s"});
  ASSERT_TRUE(node.Start()) << node.Log();
  const std::string witness_key = dir_ / "witness/witness.key.pub";
  std::string f = dir_ / "clip.mp4";
  const std::string id = WriteRandomFile(f, 256 << 10, 1);
  ASSERT_EQ(Cli(node.address(), {"put", f}).exit_code, 0);
  json cp = Ok(node.address(), {"audit", "checkpoint", "--fresh"});
  EXPECT_EQ(cp["cosignatures"], 1) << cp.dump();
  EXPECT_EQ(cp["witness_state"], "");
  CliResult good = RunCli({"audit", "verify", Export(node, id), "--witness-key", witness_key});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("witnessed: cosigned by custody-witness-"), std::string::npos)
      << good.out;

  // A copy of the node's RocksDB, then more history the witness cosigns.
  ASSERT_EQ(node.Kill(SIGTERM), 0);
  fs::copy(dir_ / "n1/index", dir_ / "index-old", fs::copy_options::recursive);
  ASSERT_TRUE(node.Start()) << node.Log();
  Put(node, 3);
  json cosigned = Ok(node.address(), {"audit", "checkpoint", "--fresh"});
  ASSERT_EQ(cosigned["cosignatures"], 1) << cosigned.dump();
  const std::string node_id = Ok(node.address(), {"status"})["node_id"];

  // Its RocksDB rolled back to the copy while it is stopped, then a different
  // history, longer than before.
  ASSERT_EQ(node.Kill(SIGTERM), 0);
  fs::remove_all(dir_ / "n1/index");
  fs::rename(dir_ / "index-old", dir_ / "n1/index");
  ASSERT_TRUE(node.Start()) << node.Log();
  Put(node, 8);
  json forked = Ok(node.address(), {"audit", "checkpoint", "--fresh"});
  EXPECT_EQ(forked["cosignatures"], 0) << forked.dump();
  EXPECT_NE(forked["witness_state"].get<std::string>().find("fork"), std::string::npos)
      << forked.dump();
  ASSERT_GT(forked["size"].get<uint64_t>(), cosigned["size"].get<uint64_t>());

  // The witness's refusal holds both checkpoints.
  json log = Ok(witness.address(), {"audit", "log", "witness:custody-node-" + node_id});
  json refusal;
  for (const json& e : log["events"]) {
    if (e["action"] == "witness.refused") refusal = e;
  }
  ASSERT_FALSE(refusal.is_null()) << log.dump();
  const std::string held = refusal["details"]["cosigned_checkpoint"];
  const std::string offered = refusal["details"]["offered_checkpoint"];
  EXPECT_EQ(held, cosigned["note"].get<std::string>().substr(0, held.size()));
  EXPECT_EQ(*NoteBody(offered), *NoteBody(forked["note"].get<std::string>()));
  // The node shows it in its status and in the cluster's.
  json status = Ok(node.address(), {"status"});
  EXPECT_NE(status["attestation"]["witness_refused"].get<std::string>().find("fork"),
            std::string::npos)
      << status.dump();
  CliResult cluster = Cli(node.address(), {"cluster", "status"});
  EXPECT_NE(cluster.out.find("WITNESS REFUSED"), std::string::npos) << cluster.out;
  json node_log = Ok(node.address(), {"audit", "log", "node"});
  bool noted = false;
  for (const json& e : node_log["events"]) noted = noted || e["action"] == "witness.refused";
  EXPECT_TRUE(noted) << node_log.dump();

  // A bundle of the forked node verifies on its own key, not with the witness's.
  const std::string bundle = Export(node, id);
  EXPECT_EQ(RunCli({"audit", "verify", bundle}).exit_code, 0);
  CliResult bad = RunCli({"audit", "verify", bundle, "--witness-key", witness_key});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("no cosignature by the witness key given"), std::string::npos) << bad.err;
  // Anyone asks the witness for its key (what verifiers give as
  // --witness-key) and sees the refusal counted.
  CliResult key = Cli(witness.address(), {"audit", "witness", "--key-only"});
  EXPECT_EQ(key.exit_code, 0) << key.err;
  EXPECT_EQ(key.out, ReadFile(witness_key));
  json info = Ok(witness.address(), {"audit", "witness"});
  ASSERT_EQ(info["logs"].size(), 1u) << info.dump();
  EXPECT_EQ(info["logs"][0]["origin"], "custody-node-" + node_id);
  EXPECT_GE(info["logs"][0]["refusals"].get<int>(), 1);
  // The witness takes nothing but checkpoints.
  CliResult put = Cli(witness.address(), {"put", f});
  EXPECT_NE(put.exit_code, 0);
  EXPECT_NE(put.err.find("--role witness"), std::string::npos) << put.err;
}

// Reads the bundle file at `path`.
v1::AuditBundle ReadBundle(const std::string& path) {
  v1::AuditBundle b;
  EXPECT_TRUE(b.ParseFromString(ReadFile(path)));
  return b;
}

TEST_F(WitnessTest, CheckpointsAreTimestampedTheTokenIsCheckedAndATsaOutageIsRetried) {
  LocalTsa tsa, other("another TSA");
  ASSERT_TRUE(tsa.Serve());
  const std::string cert = dir_ / "tsa.pem", other_cert = dir_ / "other-tsa.pem";
  std::ofstream(cert) << tsa.cert_pem();
  std::ofstream(other_cert) << other.cert_pem();
  NodeProcess node(dir_ / "n1", {"--tsa", tsa.url(), "--tsa-cert", cert, "--tsa-interval", "1s"});
  ASSERT_TRUE(node.Start()) << node.Log();
  std::string f = dir_ / "clip.mp4";
  const std::string id = WriteRandomFile(f, 256 << 10, 2);
  ASSERT_EQ(Cli(node.address(), {"put", f}).exit_code, 0);
  json cp = Ok(node.address(), {"audit", "checkpoint", "--fresh"});
  EXPECT_TRUE(cp["timestamped"].get<bool>()) << cp.dump();
  const std::string first = Export(node, id);
  CliResult ok = RunCli({"audit", "verify", first, "--tsa-cert", cert});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("timestamped: "), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("custody test TSA"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("the node signed the checkpoint at "), std::string::npos) << ok.out;
  // An export package carries the token and the bytes it stamps, and
  // VERIFY.txt's openssl command checks it without custody.
  CliResult pkg = Cli(node.address(), {"export", id, "-o", dir_ / "pkg"});
  ASSERT_EQ(pkg.exit_code, 0) << pkg.err;
  const std::string text = ReadFile(dir_ / "pkg/VERIFY.txt");
  const std::string command =
      "openssl ts -verify -token_in -in timestamp.tst -data checkpoint-body.txt -CAfile TSA_CERT "
      "-partial_chain";
  ASSERT_NE(text.find(command), std::string::npos) << text;
  if (system("command -v openssl >/dev/null") == 0) {
    std::string run = "cd " + std::string(dir_ / "pkg") +
                      " && openssl ts -verify -token_in -in timestamp.tst -data "
                      "checkpoint-body.txt -CAfile " +
                      cert + " -partial_chain > " + std::string(dir_ / "openssl.out") + " 2>&1";
    EXPECT_EQ(system(run.c_str()), 0) << ReadFile(dir_ / "openssl.out");
    EXPECT_NE(ReadFile(dir_ / "openssl.out").find("Verification: OK"), std::string::npos);
  }
  CliResult whole = RunCli({"audit", "verify", dir_ / "pkg/audit.bundle", "--tsa-cert", cert});
  EXPECT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_NE(whole.out.find("the 8 files DIGESTS.txt lists match"), std::string::npos) << whole.out;
  // Another TSA's certificate: refused.
  CliResult wrong = RunCli({"audit", "verify", first, "--tsa-cert", other_cert});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("time-stamp token"), std::string::npos) << wrong.err;

  // The TSA goes down: checkpoints are still signed, without a token.
  tsa.Stop();
  Put(node, 2);
  json down = Ok(node.address(), {"audit", "checkpoint", "--fresh"});
  EXPECT_GT(down["size"].get<uint64_t>(), cp["size"].get<uint64_t>());
  EXPECT_FALSE(down["timestamped"].get<bool>());
  EXPECT_NE(down["timestamp"].get<std::string>().find("not timestamped yet"), std::string::npos)
      << down.dump();
  const std::string second = Export(node, id);
  CliResult missing = RunCli({"audit", "verify", second, "--tsa-cert", cert});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("no RFC 3161 time-stamp token"), std::string::npos) << missing.err;
  // A token for another checkpoint, put into this bundle: refused.
  v1::AuditBundle swapped = ReadBundle(second);
  swapped.set_timestamp_token(ReadBundle(first).timestamp_token());
  const std::string swapped_path = dir_ / "swapped.bundle";
  std::ofstream(swapped_path, std::ios::binary) << swapped.SerializeAsString();
  CliResult replayed = RunCli({"audit", "verify", swapped_path, "--tsa-cert", cert});
  EXPECT_NE(replayed.exit_code, 0);
  EXPECT_NE(replayed.err.find("does not verify"), std::string::npos) << replayed.err;

  // Back up: the node stamps its latest checkpoint by itself.
  ASSERT_TRUE(tsa.Serve());
  uint64_t stamped = 0;
  for (int i = 0; i < 100 && stamped < down["size"].get<uint64_t>(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    json s = Ok(node.address(), {"status"});
    stamped = s["attestation"]["timestamped_size"].get<uint64_t>();
  }
  EXPECT_GE(stamped, down["size"].get<uint64_t>()) << node.Log();
  json later = Ok(node.address(), {"audit", "checkpoint"});
  EXPECT_TRUE(later["timestamped"].get<bool>()) << later.dump();
}

// With TLS, the offsite peer witnesses the cluster's nodes: it takes their
// node certificates, cosigns, and takes nothing else from anyone else.
TEST_F(WitnessTest, TheOffsitePeerWitnessesNodesOverTls) {
  auto nodes = StartTlsCluster(
      dir_, {{"aud", {"--role", "auditor"}}, {"olga", {"--role", "officer"}}}, "aud", 1);
  ASSERT_EQ(nodes.size(), 1u);
  CliResult cert = RunCli({"ca", "issue", "--ca", dir_ / "ca", "--node", "off1", "--host",
                           "127.0.0.1", "-o", dir_ / "tls-off1"});
  ASSERT_EQ(cert.exit_code, 0) << cert.err;
  NodeProcess peer(dir_ / "offsite", {"--role", "offsite", "--tls", dir_ / "tls-off1"});
  ASSERT_TRUE(peer.Start()) << peer.Log();
  ASSERT_EQ(nodes[0]->Kill(SIGTERM), 0);
  nodes[0]->AddArgs({"--witness", peer.address()});
  ASSERT_TRUE(nodes[0]->Start()) << nodes[0]->Log();
  auto as = [&](const std::string& user, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", nodes[0]->address(), "--tls", dir_ / user});
    args.push_back("--json");
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  };
  json cp = as("aud", {"audit", "checkpoint", "--fresh"});
  EXPECT_EQ(cp["cosignatures"], 1) << cp.dump();
  // A person's certificate may not ask the witness to cosign, not even the
  // node's own checkpoint.
  absl::StatusOr<TlsFiles> olga = TlsFiles::Load(dir_ / "olga");
  ASSERT_TRUE(olga.ok()) << olga.status();
  auto stub =
      v1::Witness::NewStub(grpc::CreateChannel(peer.address(), TlsChannelCredentials(*olga)));
  grpc::ClientContext ctx;
  v1::AddCheckpointRequest req;
  req.set_checkpoint(cp["note"].get<std::string>());
  v1::AddCheckpointResponse resp;
  grpc::Status refused = stub->AddCheckpoint(&ctx, req, &resp);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << refused.error_message();
  json status = as("aud", {"status"});
  EXPECT_EQ(status["attestation"]["witness"], peer.address());
  EXPECT_GT(status["attestation"]["cosigned_size"].get<uint64_t>(), 0u) << status.dump();
}

using Sm3StatTest = WitnessTest;

// stat --sm3: the node computes the object's SM3 once (from its chunks),
// keeps it with its event, and shows it from then on (issue 30).
TEST_F(Sm3StatTest, TheNodeComputesAnObjectsSm3OnceAuditedAndKeepsIt) {
  NodeProcess node(dir_ / "n1", {"--chunk-size", "64KiB"});
  ASSERT_TRUE(node.Start()) << node.Log();
  std::string f = dir_ / "clip.mp4";
  const std::string id = WriteRandomFile(f, (1 << 20) + 12345, 3);  // 17 chunks
  ASSERT_EQ(Cli(node.address(), {"put", f}).exit_code, 0);
  EXPECT_EQ(Ok(node.address(), {"stat", id})["sm3"], "");  // not computed unasked
  absl::StatusOr<Sm3::Value> want = Sm3::OfFile(f);
  ASSERT_TRUE(want.ok());
  json first = Ok(node.address(), {"stat", id, "--sm3"});
  EXPECT_EQ(first["sm3"], Sm3::ToString(*want));
  EXPECT_EQ(first["id"], id);  // ids stay SHA-256
  json again = Ok(node.address(), {"stat", id, "--sm3"});
  EXPECT_EQ(again["sm3"], first["sm3"]);
  EXPECT_EQ(Ok(node.address(), {"stat", id})["sm3"], first["sm3"]);  // kept
  CliResult text = Cli(node.address(), {"stat", id});
  EXPECT_NE(text.out.find("sm3:        " + Sm3::ToString(*want)), std::string::npos) << text.out;
  int computed = 0;
  const json log = Ok(node.address(), {"audit", "log", id});
  for (const json& e : log["events"]) {
    if (e["action"] != "object.sm3-computed") continue;
    ++computed;
    EXPECT_EQ(e["details"]["sm3"], first["sm3"]);
  }
  EXPECT_EQ(computed, 1);
}

}  // namespace
}  // namespace custody::testing
