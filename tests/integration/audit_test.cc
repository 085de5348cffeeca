// The audit trail through the CLI against a real custodyd: history, export,
// offline verification (and its refusals), verify-node.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "client/bundle_verifier.h"
#include "common/digest.h"
#include "custody/v1/custody.grpc.pb.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(node_.Start()) << node_.Log();
    file_ = dir_ / "hearing.mp4";
    id_ = WriteRandomFile(file_, 3 << 20, 7);
    ASSERT_EQ(Cli({"put", file_, "--meta", "officer=B7"}).exit_code, 0);
    ASSERT_EQ(Cli({"get", id_, "-o", dir_ / "copy.mp4"}).exit_code, 0);
  }
  CliResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", node_.address()});
    return RunCli(args);
  }
  std::string Export() {
    std::string bundle = dir_ / ("b" + std::to_string(++bundles_) + ".bundle");
    CliResult r = Cli({"audit", "export", id_, "-o", bundle});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return bundle;
  }
  TempDir dir_;
  NodeProcess node_{dir_ / "data"};
  std::string file_, id_;
  int bundles_ = 0;
};

TEST_F(AuditCliTest, HistoryShowsWhoDidWhatWithWhichMetadata) {
  CliResult r = Cli({"audit", "log", id_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["events"].size(), 2u);
  EXPECT_EQ(j["events"][0]["action"], "object.stored");
  EXPECT_EQ(j["events"][0]["details"]["meta.officer"], "B7");
  // A plaintext loopback node names every caller the local operator.
  EXPECT_EQ(j["events"][0]["actor"], "local-operator");
  EXPECT_EQ(j["events"][1]["actor"], "local-operator");
  EXPECT_EQ(j["events"][1]["action"], "object.read");
  CliResult table = Cli({"audit", "log", id_});
  EXPECT_NE(table.out.find("object.read"), std::string::npos);
}

TEST_F(AuditCliTest, AnExportThatCannotBeWrittenIsNotLoggedAsOne) {
  std::string taken = dir_ / "taken.bundle";
  std::ofstream(taken) << "keep";
  CliResult r = Cli({"audit", "export", id_, "-o", taken});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ALREADY_EXISTS"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(taken), "keep");
  CliResult nowhere = Cli({"audit", "export", id_, "-o", dir_ / "no/such/dir/b"});
  EXPECT_EQ(nowhere.exit_code, 1);
  json j = json::parse(Cli({"audit", "log", id_, "--json"}).out);
  for (const auto& e : j["events"]) EXPECT_NE(e["action"], "audit.exported");
  CliResult unknown = Cli({"audit", "log", "sha256:" + std::string(64, 'e')});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("NOT_FOUND"), std::string::npos);
  EXPECT_EQ(Cli({"audit", "log", "garbage"}).exit_code, 2) << "not an id: a usage error";
}

TEST_F(AuditCliTest, CheckpointsAreSignedWithoutWaitingForMoreEvents) {
  CliResult first = Cli({"audit", "checkpoint", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;  // signed at start already
  std::this_thread::sleep_for(std::chrono::milliseconds(11500));
  json j = json::parse(Cli({"audit", "checkpoint", "--json"}).out);
  // The put and the get are covered by a checkpoint signed on the node's own
  // timer, with no event after them.
  EXPECT_GE(j["size"].get<int>(), 3);
}

TEST_F(AuditCliTest, RefusedUploadIsAnEvent) {
  auto stub = v1::Custody::NewStub(
      grpc::CreateChannel(node_.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::UploadResponse resp;
  auto w = stub->Upload(&ctx, &resp);
  v1::UploadRequest h;
  h.mutable_header()->set_upload_id("liar");
  h.mutable_header()->set_size(3);
  w->Write(h);
  v1::UploadRequest d;
  d.set_data("abc");
  w->Write(d);
  v1::UploadRequest f;
  f.mutable_finish()->set_sha256(Digest::Of("xyz").ToString());
  w->Write(f);
  w->WritesDone();
  ASSERT_EQ(w->Finish().error_code(), grpc::StatusCode::DATA_LOSS);
  CliResult r = Cli({"audit", "log", "upload:liar", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["events"].size(), 1u);
  EXPECT_EQ(j["events"][0]["action"], "upload.refused");
  EXPECT_EQ(j["events"][0]["details"]["code"], "DATA_LOSS");
}

TEST_F(AuditCliTest, ExportedBundleVerifiesOfflineWithTheFile) {
  std::string bundle = Export();
  node_.Kill(SIGKILL);  // offline: no server at all
  CliResult r = RunCli({"audit", "verify", bundle, "--file", file_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["events"].size(), 2u);
  std::string other = dir_ / "other.bin";
  WriteRandomFile(other, 100, 8);
  CliResult wrong = RunCli({"audit", "verify", bundle, "--file", other});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("hashes to"), std::string::npos) << wrong.err;
}

TEST_F(AuditCliTest, AnyFlippedByteOfABundleFailsVerification) {
  std::string bytes = ReadFile(Export());
  ASSERT_TRUE(VerifyBundleBytes(bytes, {}).ok());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (char mask : {'\x01', '\x80'}) {
      std::string bad = bytes;
      bad[i] ^= mask;
      EXPECT_FALSE(VerifyBundleBytes(bad, {}).ok()) << "byte " << i << " of " << bytes.size();
    }
  }
  std::string bad = bytes;
  bad[bad.size() / 2] ^= 0x10;
  std::string path = dir_ / "flipped.bundle";
  std::ofstream(path, std::ios::binary) << bad;
  CliResult r = RunCli({"audit", "verify", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FAILED"), std::string::npos);
}

TEST_F(AuditCliTest, BundleAgainstTheWrongKeyFails) {
  std::string bundle = Export();
  TempDir other_dir;
  NodeProcess other(other_dir / "data");
  ASSERT_TRUE(other.Start()) << other.Log();
  CliResult r = RunCli({"audit", "verify", bundle, "--pubkey", other_dir / "data/node.key.pub"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FAILED"), std::string::npos) << r.err;
  CliResult right = RunCli({"audit", "verify", bundle, "--pubkey", dir_ / "data/node.key.pub"});
  EXPECT_EQ(right.exit_code, 0) << right.err;
}

TEST_F(AuditCliTest, VerifyNodeHoldsAcrossRestartsAndAgainstAKeptCheckpoint) {
  CliResult cp = Cli({"audit", "checkpoint", "--fresh"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  std::string kept = dir_ / "kept.checkpoint";
  std::ofstream(kept) << cp.out;
  node_.Kill(SIGTERM);
  ASSERT_TRUE(node_.Start()) << node_.Log();
  ASSERT_EQ(Cli({"stat", id_}).exit_code, 0);
  CliResult v = Cli({"audit", "verify-node", "--since-checkpoint", kept, "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  json j = json::parse(v.out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_GE(j["checkpoints"].get<int>(), 2);
  CliResult text = Cli({"audit", "verify-node", "--since-checkpoint", kept});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("consistency proof"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("read events"), std::string::npos) << "from the kept one: " << text.out;
  // The node remembers the checkpoint a verification unbroken from event 0
  // reached (those from a kept checkpoint are not), and starts there when
  // asked; each verification is on record.
  CliResult none_yet = Cli({"audit", "verify-node", "--since-last-verified", "--json"});
  ASSERT_EQ(none_yet.exit_code, 0) << none_yet.err;
  EXPECT_EQ(json::parse(none_yet.out)["verified_from"], 0) << "no whole verification yet";
  CliResult whole = Cli({"audit", "verify-node", "--json"});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  json w = json::parse(whole.out);
  EXPECT_EQ(w["verified_from"], 0);
  CliResult since = Cli({"audit", "verify-node", "--since-last-verified", "--json"});
  ASSERT_EQ(since.exit_code, 0) << since.err;
  json s = json::parse(since.out);
  EXPECT_EQ(s["ok"], true);
  EXPECT_GT(s["verified_from"].get<uint64_t>(), j["verified_from"].get<uint64_t>());
  EXPECT_GE(s["verified_from"].get<uint64_t>(), w["verified_checkpoint"].get<uint64_t>());
  CliResult node_log = Cli({"audit", "log", "node", "--json"});
  json n = json::parse(node_log.out);
  EXPECT_EQ(n["events"][1]["action"], "node.stopped");
  int verified = 0;
  for (const auto& e : n["events"]) verified += e["action"] == "audit.verified";
  EXPECT_EQ(verified, 5);
}

}  // namespace
}  // namespace custody::testing
