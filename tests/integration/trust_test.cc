// Trust no single party (issue 22) on a TLS cluster of three real nodes:
// a test client holding one node's certificate sends forged ledger entries
// to every node; the admin tries to mint approvers; people of the wrong
// agency or clearance, or holding only a token, try to decide. None of it
// changes anything, and every refusal is on record.
#include <grpcpp/grpcpp.h>
#include <openssl/rand.h>

#include <filesystem>
#include <thread>

#include "common/cert_signature.h"
#include "common/tls.h"
#include "custody/internal/v1/replica.grpc.pb.h"
#include "custody/v1/access.grpc.pb.h"
#include "custody/v1/manifest.pb.h"
#include "replication/cluster/cluster_map.h"
#include "tests/integration/records_fixture.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;

class TrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nodes_ =
        StartTlsCluster(dir_,
                        {{"admin", {"--role", "admin"}},
                         {"olga", {"--role", "officer", "--agency", "A"}},
                         {"pia", {"--role", "officer", "--agency", "A", "--clearance", "privacy"}},
                         {"hank", {"--role", "archive-head"}},
                         {"hps", {"--role", "archive-head", "--clearance", "privacy"}},
                         {"lena", {"--role", "leader", "--agency", "A"}},
                         {"lps", {"--role", "leader", "--agency", "A", "--clearance", "privacy"}},
                         {"leo", {"--role", "leader", "--agency", "B"}},
                         {"aud", {"--role", "auditor"}}},
                        "aud", 3, {"--repair-interval", "1s"});
    ASSERT_EQ(nodes_.size(), 3u);
  }
  void TearDown() override { ASSERT_TRUE(CustodyClient::UseTls("").ok()); }

  CliResult As(const std::string& user, int n, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", nodes_[n]->address(), "--tls", dir_ / user});
    return RunCli(args);
  }
  std::string Stored(const std::string& meta, std::string* file_out = nullptr) {
    std::string file = dir_ / ("f" + std::to_string(files_++));
    std::string id = WriteRandomFile(file, 150 << 10, 300 + files_);
    CliResult put = As("olga", 0, {"put", file, "--meta", meta});
    EXPECT_EQ(put.exit_code, 0) << put.err;
    if (file_out) *file_out = file;
    return id;
  }
  std::string Request(const std::string& user, const std::string& id) {
    CliResult r =
        As(user, 0, {"access", "request", id, "--reason", "hearing 2026-12-09", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out)["request"].get<std::string>() : "";
  }
  bool CanRead(const std::string& user, int n, const std::string& id) {
    fs::remove(dir_ / "back");
    return As(user, n, {"get", id, "-o", dir_ / "back"}).exit_code == 0;
  }
  // Sends `e` to node `n` as node n1 would (its certificate), through the
  // Replica service that nodes use to spread the ledger.
  grpc::Status SendAsNode(int n, const v1::LedgerEntry& e) {
    absl::StatusOr<TlsFiles> files = TlsFiles::Load(dir_ / "tls-n1");
    EXPECT_TRUE(files.ok());
    auto stub = internal::v1::Replica::NewStub(
        grpc::CreateChannel(nodes_[n]->address(), TlsChannelCredentials(*files)));
    std::string bytes = e.SerializeAsString();
    internal::v1::PutBlobRequest req;
    req.set_kind(internal::v1::LEDGER);
    req.set_key(std::string(Digest::Of(bytes).Raw()));
    req.set_data(bytes);
    internal::v1::PutBlobResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.AddMetadata("custody-map-version", "1");
    ctx.AddMetadata("custody-node-id", "n1");
    return stub->PutBlob(&ctx, req, &resp);
  }
  // A ledger entry as a node would write it.
  static v1::LedgerEntry Entry(const std::string& kind, const std::string& subject,
                               const std::string& actor,
                               const std::map<std::string, std::string>& fields) {
    v1::LedgerEntry e;
    e.set_kind(kind);
    e.set_subject(subject);
    e.set_actor(actor);
    e.set_node_id("n1");
    e.set_time_unix_nanos(absl::ToUnixNanos(absl::Now()));
    std::string nonce(16, '\0');
    RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), 16);
    e.set_nonce(nonce);
    for (const auto& [k, v] : fields) (*e.mutable_fields())[k] = v;
    return e;
  }
  // `e` with a statement that says what `e` says, signed with the key in
  // folder `creds` (whatever CA issued it).
  static v1::LedgerEntry SignedWith(v1::LedgerEntry e, const std::string& creds) {
    absl::StatusOr<TlsFiles> files = TlsFiles::Load(creds);
    EXPECT_TRUE(files.ok());
    v1::Decision d;
    d.set_kind(e.kind());
    d.set_subject(e.subject());
    *d.mutable_fields() = e.fields();
    d.set_signer(e.actor());
    d.set_time_unix_nanos(e.time_unix_nanos());
    e.mutable_signed_()->set_decision(d.SerializeAsString());
    absl::StatusOr<std::string> sig =
        SignWithKey(files->key_pem, DecisionMessage(e.signed_().decision()));
    EXPECT_TRUE(sig.ok());
    e.mutable_signed_()->set_signature(*sig);
    e.mutable_signed_()->set_certificate_pem(files->cert_pem);
    return e;
  }
  // The events `action` about `subject` on node `n` (for an object or a
  // record, merged from every node).
  int Events(int n, const std::string& subject, const std::string& action) {
    CliResult log = As("aud", n, {"audit", "log", subject, "--json"});
    EXPECT_EQ(log.exit_code, 0) << log.err;
    if (log.exit_code != 0) return 0;
    int count = 0;
    const json events = json::parse(log.out)["events"];
    for (const auto& e : events) count += e["action"] == action;
    return count;
  }

  TempDir dir_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  int files_ = 0;
};

TEST_F(TrustTest, ANodeCertificateCannotForgeDecisionsOrPurges) {
  std::string file;
  const std::string id = Stored("agency=A", &file);
  const std::string req = Request("olga", id);
  ASSERT_FALSE(req.empty());
  // A second CA's "lena": a real signature, not from this cluster.
  ASSERT_EQ(RunCli({"ca", "init", dir_ / "evil-ca"}).exit_code, 0);
  ASSERT_EQ(RunCli({"ca", "issue", "--ca", dir_ / "evil-ca", "--user", "lena", "--role", "leader",
                    "--agency", "A", "-o", dir_ / "evil-lena"})
                .exit_code,
            0);
  const std::string request = "request:" + req;
  v1::LedgerEntry tampered =
      SignedWith(Entry("access.approved", request, "user:hank", {{"request", req}}), dir_ / "hank");
  (*tampered.mutable_fields())["request"] = req + "0";  // not what hank signed
  v1::LedgerEntry wrong_signer =
      SignedWith(Entry("access.approved", request, "user:lena", {{"request", req}}), dir_ / "hank");
  const std::vector<std::pair<std::string, v1::LedgerEntry>> forged = {
      {"unsigned approval", Entry("access.approved", request, "user:hank", {{"request", req}})},
      {"unsigned leader approval",
       Entry("access.approved", request, "user:lena", {{"request", req}})},
      {"other CA", SignedWith(Entry("access.approved", request, "user:lena", {{"request", req}}),
                              dir_ / "evil-lena")},
      {"altered after signing", tampered},
      {"signed by another person", wrong_signer},
      {"denial", Entry("access.denied", request, "user:hank", {{"request", req}})},
      {"revocation", Entry("access.revoked", request, "user:hank", {{"request", req}})},
      {"user", Entry("user.added", "user:mallory", "user:admin",
                     {{"roles", "archive-head"},
                      {"agency", "A"},
                      {"clearance", "state-secret"},
                      {"token_sha256", std::string(64, 'a')}})},
      {"disable", Entry("user.disabled", "user:lena", "user:admin", {{"reason", "forged"}})},
      {"purge", Entry("purge.executed", "purge:pur-forged", "user:arch",
                      {{"records", "R-forged"}, {"objects", id}, {"chunks", id.substr(7)}})},
      {"purge of no request", Entry("purge.executed", "p", "user:arch", {{"objects", id}})},
      {"hold release", Entry("record.hold-released", "record:R-1", "user:hank", {{"reason", "x"}})},
      {"retention",
       Entry("record.retained", "record:R-1", "user:hank", {{"reason", "x"}, {"until", "1"}})},
      {"correction", Entry("record.corrected", "record:R-2", "user:olga",
                           {{"field", "target"}, {"value", "elsewhere"}, {"reason", "forged"}})},
  };
  for (int n = 0; n < 3; ++n) {
    for (const auto& [what, e] : forged) {
      grpc::Status s = SendAsNode(n, e);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << what << " on node " << n << ": " << s.error_message();
    }
  }
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(Events(n, request, "ledger.refused"), 7) << "node " << n;
    EXPECT_EQ(Events(n, "user:mallory", "ledger.refused"), 1) << "node " << n;
    EXPECT_EQ(Events(n, "purge:pur-forged", "ledger.refused"), 1) << "node " << n;
    // A record's trail is merged from every node: one refusal on each.
    EXPECT_EQ(Events(n, "record:R-2", "ledger.refused"), 3) << "node " << n;
  }
  // After repair rounds, nothing changed: no grant, the footage whole.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  for (int n = 0; n < 3; ++n) EXPECT_FALSE(CanRead("olga", n, id)) << "node " << n;
  CliResult list = As("hank", 1, {"access", "list", "--object", id, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json::parse(list.out)["grants"][0]["state"], "pending") << list.out;
  EXPECT_EQ(json::parse(list.out)["grants"][0]["approvals"].size(), 0u) << list.out;
  // A node may relay a real decision, and only once: hank's signed approval
  // sent by n1 is taken; the same statement in a second entry adds nothing.
  const v1::LedgerEntry hank =
      SignedWith(Entry("access.approved", request, "user:hank", {{"request", req}}), dir_ / "hank");
  v1::LedgerEntry replay = hank;
  replay.set_nonce("another entry, the same statement");
  ASSERT_TRUE(SendAsNode(2, hank).ok());
  ASSERT_TRUE(SendAsNode(2, replay).ok());
  list = As("hank", 2, {"access", "list", "--object", id, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json::parse(list.out)["grants"][0]["approvals"].size(), 1u) << list.out;
  // A decision sent by its own person, unsigned, is refused by the node.
  absl::StatusOr<TlsFiles> hank_tls = TlsFiles::Load(dir_ / "hank");
  ASSERT_TRUE(hank_tls.ok());
  auto access = v1::Access::NewStub(
      grpc::CreateChannel(nodes_[0]->address(), TlsChannelCredentials(*hank_tls)));
  v1::AccessDecideRequest unsigned_req;
  unsigned_req.set_request_id(req);
  unsigned_req.set_approve(false);
  v1::AccessGrant g;
  grpc::ClientContext ctx;
  grpc::Status unsigned_status = access->Decide(&ctx, unsigned_req, &g);
  EXPECT_EQ(unsigned_status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(unsigned_status.error_message().find("not signed"), std::string::npos)
      << unsigned_status.error_message();
  // The real leader decides too, and the footage reads back bit-exact everywhere.
  CliResult lena = As("lena", 1, {"access", "approve", req});
  ASSERT_EQ(lena.exit_code, 0) << lena.err << " (the forged disable must not count)";
  // hank's approval reaches n1 and n2 by anti-entropy (n1 sent it to n3 only).
  for (int n = 0; n < 3; ++n) {
    absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (!CanRead("olga", n, id) && absl::Now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    ASSERT_TRUE(CanRead("olga", n, id)) << "node " << n;
    EXPECT_EQ(ReadFile(dir_ / "back"), ReadFile(file));
  }
}

// A node holding n1's key takes an object's real manifest, gives it another
// agency and classification, and places it on every node: each refuses it
// (it holds the object, or the object's other home does) and keeps it in a
// manifest.refused event; every node still shows the original metadata.
TEST_F(TrustTest, ANodeCannotPlantAManifestWithOtherMetadata) {
  const std::string id = Stored("agency=A");
  absl::StatusOr<TlsFiles> n1 = TlsFiles::Load(dir_ / "tls-n1");
  ASSERT_TRUE(n1.ok());
  auto call = [&](int n, auto method, const auto& req, auto* resp) {
    auto stub = internal::v1::Replica::NewStub(
        grpc::CreateChannel(nodes_[n]->address(), TlsChannelCredentials(*n1)));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.AddMetadata("custody-map-version", "1");
    ctx.AddMetadata("custody-node-id", "n1");
    return ((*stub).*method)(&ctx, req, resp);
  };
  internal::v1::GetBlobRequest get;
  get.set_kind(internal::v1::MANIFEST);
  get.set_key(std::string(Digest::Parse(id)->Raw()));
  internal::v1::GetBlobResponse real;
  int holder = 0;
  while (holder < 3 && !call(holder, &internal::v1::Replica::Stub::GetBlob, get, &real).ok())
    ++holder;
  ASSERT_LT(holder, 3);
  v1::ObjectManifest m;
  ASSERT_TRUE(m.ParseFromString(real.data()));
  EXPECT_EQ(m.uploaded_by(), "user:olga");
  EXPECT_FALSE(m.coordinator().empty());
  (*m.mutable_metadata())["agency"] = "B";
  (*m.mutable_metadata())["classification"] = "internal";
  internal::v1::PutBlobRequest plant;
  plant.set_kind(internal::v1::MANIFEST);
  plant.set_key(get.key());
  plant.set_data(m.SerializeAsString());
  for (int round = 0; round < 2; ++round) {
    for (int n = 0; n < 3; ++n) {
      internal::v1::PutBlobResponse resp;
      grpc::Status s = call(n, &internal::v1::Replica::Stub::PutBlob, plant, &resp);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << "node " << n << ": " << s.error_message();
      EXPECT_NE(s.error_message().find("metadata.agency"), std::string::npos) << s.error_message();
    }
  }
  // One refusal per node, kept once however often it is sent.
  EXPECT_EQ(Events(0, id, "manifest.refused"), 3);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // repair rounds
  for (int n = 0; n < 3; ++n) {
    CliResult stat = As("aud", n, {"stat", id, "--json"});
    ASSERT_EQ(stat.exit_code, 0) << stat.err;
    EXPECT_EQ(json::parse(stat.out)["metadata"]["agency"], "A") << "node " << n;
  }
  // The same file stored again, under other metadata, keeps its manifest.
  std::string file = dir_ / "again";
  WriteRandomFile(file, 150 << 10, 300 + 1);
  CliResult again = As("olga", 2, {"put", file, "--meta", "agency=B"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Events(0, id, "manifest.refused"), 3);
}

// n1's certificate reads a chunk from n2 and n3 only for a reason each of
// them checks: repairing its own copy (n1 is one of the chunk's homes), a
// download for a reader with a live grant to an object that holds the chunk,
// or an offsite sync of such an object.
TEST_F(TrustTest, ANodeReadsChunksOnlyToRepairRelayADownloadOrSyncOffsite) {
  const std::string id = Stored("agency=A");
  const std::string other = Stored("agency=A");
  absl::StatusOr<TlsFiles> n1 = TlsFiles::Load(dir_ / "tls-n1");
  ASSERT_TRUE(n1.ok());
  absl::StatusOr<ClusterMap> map = ClusterMap::Load(dir_ / "map.json");
  ASSERT_TRUE(map.ok()) << map.status();
  auto read = [&](int n, const std::string& chunk, internal::v1::ReadPurpose purpose,
                  const std::string& object, const std::string& reader) {
    auto stub = internal::v1::Replica::NewStub(
        grpc::CreateChannel(nodes_[n]->address(), TlsChannelCredentials(*n1)));
    internal::v1::GetBlobRequest req;
    req.set_kind(internal::v1::CHUNK);
    req.set_key(chunk);
    req.set_purpose(purpose);
    req.set_object_id(object);
    req.set_reader(reader);
    internal::v1::GetBlobResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.AddMetadata("custody-map-version", "1");
    ctx.AddMetadata("custody-node-id", "n1");
    return stub->GetBlob(&ctx, req, &resp);
  };
  auto first_chunk = [&](const std::string& object) {
    for (int n = 0; n < 3; ++n) {
      auto stub = internal::v1::Replica::NewStub(
          grpc::CreateChannel(nodes_[n]->address(), TlsChannelCredentials(*n1)));
      internal::v1::GetBlobRequest req;
      req.set_kind(internal::v1::MANIFEST);
      req.set_key(std::string(Digest::Parse(object)->Raw()));
      internal::v1::GetBlobResponse resp;
      grpc::ClientContext ctx;
      ctx.AddMetadata("custody-map-version", "1");
      ctx.AddMetadata("custody-node-id", "n1");
      v1::ObjectManifest m;
      if (stub->GetBlob(&ctx, req, &resp).ok() && m.ParseFromString(resp.data())) {
        return m.chunks(0);
      }
    }
    ADD_FAILURE() << "no node holds the manifest of " << object;
    return std::string();
  };
  const std::string chunk = first_chunk(id);
  const std::string foreign = first_chunk(other);
  // The node of n2 and n3 that holds the chunk (at least one does: R = 2).
  std::vector<const NodeInfo*> homes = map->Rank(*Digest::FromRaw(chunk));
  const bool n1_home = homes[0]->id == "n1" || homes[1]->id == "n1";
  const int holder = (homes[0]->id == "n2" || homes[1]->id == "n2") ? 1 : 2;
  grpc::Status repair = read(holder, chunk, internal::v1::READ_REPAIR, "", "");
  EXPECT_EQ(repair.ok(), n1_home) << repair.error_message();
  // No grant yet: olga's download is refused, and so is one for nobody.
  grpc::Status no_grant = read(holder, chunk, internal::v1::READ_DOWNLOAD, id, "user:olga");
  EXPECT_EQ(no_grant.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(no_grant.error_message().find("no live grant"), std::string::npos)
      << no_grant.error_message();
  EXPECT_EQ(read(holder, chunk, internal::v1::READ_DOWNLOAD, id, "").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const std::string req = Request("olga", id);
  ASSERT_EQ(As("hank", 1, {"access", "approve", req}).exit_code, 0);
  ASSERT_EQ(As("lena", 2, {"access", "approve", req}).exit_code, 0);
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!read(holder, chunk, internal::v1::READ_DOWNLOAD, id, "user:olga").ok() &&
         absl::Now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  grpc::Status granted = read(holder, chunk, internal::v1::READ_DOWNLOAD, id, "user:olga");
  EXPECT_TRUE(granted.ok()) << granted.error_message();
  // The grant is for `id`: a chunk of another object is not read with it,
  // and an offsite sync must name an object the chunk is part of.
  grpc::Status not_part = read(holder, foreign, internal::v1::READ_DOWNLOAD, id, "user:olga");
  EXPECT_EQ(not_part.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(not_part.error_message().find("is not part of"), std::string::npos)
      << not_part.error_message();
  EXPECT_EQ(read(holder, chunk, internal::v1::READ_OFFSITE, other, "").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(read(holder, chunk, internal::v1::READ_OFFSITE, id, "").ok());
  // On the serving node's record: the relayed reads and the refusals.
  EXPECT_GE(Events(holder, id, "replica.relayed-read"), 2);
  CliResult log = As("aud", holder, {"audit", "log", "node", "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  int refused = 0;
  const json events = json::parse(log.out)["events"];
  for (const json& e : events) refused += e["action"] == "replica.refused";
  EXPECT_GE(refused, n1_home ? 3 : 4);
  // And olga reads it through every node (each relays for her).
  for (int n = 0; n < 3; ++n) EXPECT_TRUE(CanRead("olga", n, id)) << "node " << n;
}

TEST_F(TrustTest, ASignedDecisionReplayedInAnotherEntryCountsOnce) {
  CliResult made = As("olga", 0,
                      {"record", "create", "--agency", "A", "--matter", "3", "--target", "shop-17",
                       "--stage", "inspection", "--officer", "o1", "--device", "D1", "--start",
                       At(-absl::Hours(1)), "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string rec = json::parse(made.out)["id"];
  auto holds = [&](int n) {
    CliResult r = As("aud", n, {"record", "show", rec, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out)["retention"]["holds"].size() : 99u;
  };
  ASSERT_EQ(As("lena", 0, {"hold", "set", rec, "--reason", "first appeal"}).exit_code, 0);
  // lena's real release, relayed by n1.
  const v1::LedgerEntry release = SignedWith(
      Entry("record.hold-released", "record:" + rec, "user:lena", {{"reason", "withdrawn"}}),
      dir_ / "lena");
  ASSERT_TRUE(SendAsNode(0, release).ok());
  EXPECT_EQ(holds(0), 0u);
  ASSERT_EQ(As("hank", 0, {"hold", "set", rec, "--reason", "second court"}).exit_code, 0);
  // The same signed statement in a new, later entry: it is a valid entry,
  // stored, but the release it carries was used already.
  v1::LedgerEntry replay = release;
  replay.set_time_unix_nanos(absl::ToUnixNanos(absl::Now()));
  replay.set_nonce("replayed");
  ASSERT_TRUE(SendAsNode(0, replay).ok());
  EXPECT_EQ(holds(0), 1u) << "the second court's hold stands";
}

// A segment attached before segments carried their level, naming an object
// no node can find: the record is still listed and shown (the segment only
// to those cleared for any level), and the node keeps serving. It used to
// read the missing manifest's metadata and abort.
TEST_F(TrustTest, ASegmentWhoseObjectNoNodeHoldsDoesNotStopTheRecordList) {
  CliResult made = As("olga", 0,
                      {"record", "create", "--agency", "A", "--matter", "3", "--target", "shop-9",
                       "--stage", "inspection", "--officer", "o1", "--device", "D1", "--start",
                       At(-absl::Hours(1)), "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string rec = json::parse(made.out)["id"];
  const std::string missing = Digest::Of("never stored").ToString();
  const v1::LedgerEntry attached =
      Entry("record.attached", "record:" + rec, "user:olga",
            {{"object", missing}, {"kind", "video"}, {"device", "D1"}});
  for (int n : {1, 2}) {
    ASSERT_TRUE(SendAsNode(n, attached).ok());
    CliResult list = As("olga", n, {"record", "list", "--json"});
    ASSERT_EQ(list.exit_code, 0) << "node " << n << ": " << list.err;
    CliResult shown = As("olga", n, {"record", "show", rec, "--json"});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_EQ(json::parse(shown.out)["segments"].size(), 0u) << "olga is not cleared for any level";
  }
}

TEST_F(TrustTest, TheAdminCannotMintApproversAndDisabledNamesStayDisabled) {
  for (const std::vector<std::string>& flags :
       std::vector<std::vector<std::string>>{{"--role", "archive-head"},
                                             {"--role", "leader", "--agency", "A"},
                                             {"--role", "admin"},
                                             {"--role", "officer", "--clearance", "privacy"}}) {
    std::vector<std::string> args = {"user", "add", "mallory"};
    args.insert(args.end(), flags.begin(), flags.end());
    CliResult r = As("admin", 0, args);
    EXPECT_NE(r.err.find("PERMISSION_DENIED"), std::string::npos) << flags[1] << ": " << r.err;
    EXPECT_NE(r.err.find("offline CA key"), std::string::npos) << r.err;
  }
  CliResult add =
      As("admin", 0, {"user", "add", "tina", "--role", "officer", "--agency", "A", "--json"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string token = json::parse(add.out)["token"];
  ASSERT_EQ(As("admin", 1, {"user", "disable", "tina", "--reason", "left"}).exit_code, 0);
  CliResult again = As("admin", 2, {"user", "add", "tina", "--role", "auditor"});
  EXPECT_NE(again.err.find("stays disabled"), std::string::npos) << again.err;
  // A token cannot decide, even one of a person who could.
  fs::create_directories(dir_ / "token-only");
  fs::copy_file(dir_ / "ca/ca.pem", dir_ / "token-only/ca.pem");
  const std::string id = Stored("agency=A");
  const std::string req = Request("olga", id);
  CliResult decide =
      RunCli({"--server", nodes_[0]->address(), "--tls", dir_ / "token-only", "--token-file",
              WriteTokenFile(dir_ / "tina.token", token), "access", "approve", req});
  EXPECT_NE(decide.exit_code, 0);
  EXPECT_NE(decide.err.find("a token cannot decide"), std::string::npos) << decide.err;
}

TEST_F(TrustTest, ApproversOfTheWrongAgencyOrClearanceAreRefusedAndAudited) {
  const std::string id = Stored("agency=A");
  const std::string req = Request("olga", id);
  for (const char* verb : {"approve", "deny"}) {
    CliResult r = As("leo", 1, {"access", verb, req});
    EXPECT_NE(r.err.find("agency \"A\""), std::string::npos) << verb << ": " << r.err;
  }
  ASSERT_EQ(As("hank", 0, {"access", "approve", req}).exit_code, 0);
  ASSERT_EQ(As("lena", 0, {"access", "approve", req}).exit_code, 0);
  CliResult revoke = As("leo", 2, {"access", "revoke", req, "--reason", "not mine"});
  EXPECT_NE(revoke.err.find("agency \"A\""), std::string::npos) << revoke.err;
  EXPECT_TRUE(CanRead("olga", 2, id)) << "a refused revocation changes nothing";
  EXPECT_EQ(Events(0, id, "access.refused"), 3) << "the object's log, merged from every node";

  std::string pfile = dir_ / "private";
  const std::string priv = WriteRandomFile(pfile, 1000, 77);
  ASSERT_EQ(As("pia", 0, {"put", pfile, "--meta", "agency=A", "--meta", "classification=privacy"})
                .exit_code,
            0);
  const std::string preq = Request("pia", priv);
  for (const char* low : {"hank", "lena"}) {
    CliResult r = As(low, 0, {"access", "approve", preq});
    EXPECT_NE(r.err.find("cleared for internal"), std::string::npos) << low << ": " << r.err;
  }
  ASSERT_EQ(As("hps", 0, {"access", "approve", preq}).exit_code, 0);
  ASSERT_EQ(As("lps", 1, {"access", "approve", preq}).exit_code, 0);
  EXPECT_TRUE(CanRead("pia", 0, priv));

  // A request a node planted with another agency is approved by that
  // agency's leader, but gives nothing: the grant does not fit the object.
  const v1::LedgerEntry planted = Entry("access.requested", "object:" + id, "user:olga",
                                        {{"object", id},
                                         {"reason", "planted"},
                                         {"purpose", "view"},
                                         {"seconds", "3600"},
                                         {"agency", "B"},
                                         {"classification", "internal"}});
  ASSERT_TRUE(SendAsNode(0, planted).ok());
  const std::string fake = Digest::Of(planted.SerializeAsString()).Hex();
  ASSERT_EQ(As("hank", 0, {"access", "approve", fake}).exit_code, 0);
  ASSERT_EQ(As("leo", 0, {"access", "approve", fake}).exit_code, 0);
  ASSERT_EQ(As("hank", 0, {"access", "revoke", req, "--reason", "only the planted one"}).exit_code,
            0);
  CliResult planted_read = As("olga", 0, {"get", id, "-o", dir_ / "planted"});
  EXPECT_NE(planted_read.err.find("approved for agency \"B\""), std::string::npos)
      << planted_read.err;

  const std::string stray = Stored("device=D9");  // as ingest files it: no agency
  CliResult r = As("olga", 0, {"access", "request", stray, "--reason", "hearing"});
  EXPECT_NE(r.err.find("has no agency"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace custody::testing
