#include "replication/offsite/restore_guard.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/snapshot_format.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "replication/offsite/snapshot_maker.h"

namespace custody {

namespace {

constexpr size_t kShortKey = 16;  // hex digits: the shortest key prefix taken

// The request's trusted keys, lower-case; INVALID_ARGUMENT for one that is
// not 16 to 64 hex digits.
absl::StatusOr<std::vector<std::string>> TrustedKeys(const v1::RestoreRequest& request) {
  std::vector<std::string> out;
  for (const std::string& k : request.trusted_signer_keys()) {
    bool hex = !k.empty() && std::all_of(k.begin(), k.end(), absl::ascii_isxdigit);
    if (!hex || k.size() < kShortKey || k.size() > 64) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a trusted signer key (--trust-signer-key) is the key's hex (64 digits) or its first 16 "
          "or more, as `custody offsite snapshots` prints it, not \"",
          k, "\""));
    }
    out.push_back(absl::AsciiStrToLower(k));
  }
  return out;
}

std::string ShortKey(const std::string& hex) { return hex.substr(0, kShortKey); }

// Why `s` may not be restored without a flag: pairs of (reason, message).
std::vector<std::pair<std::string, std::string>> Objections(const SealedSnapshot& s,
                                                            bool known_signer) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string& id = s.body.id();
  if (s.body.objects_size() == 0) {
    out.emplace_back(
        "empty-snapshot",
        absl::StrCat("snapshot ", id, " names no object (made by ", s.body.created_by(), " at ",
                     FormatUnixNanos(s.body.created_unix_nanos()),
                     "): restoring it would bring back nothing; pass "
                     "--allow-empty-snapshot if that is what you want"));
  }
  if (!known_signer) {
    std::string key = absl::BytesToHexString(s.snapshot.public_key());
    out.emplace_back(
        "foreign-cluster",
        absl::StrCat("snapshot ", id, " was signed by node ", s.snapshot.signer(), " with key ",
                     ShortKey(key),
                     "..., which this cluster does not know (not one of its nodes' keys, nor "
                     "named by a snapshot in its ledger; a wiped cluster knows none of its old "
                     "keys): check the key against your records and pass --trust-signer-key ",
                     key,
                     ", or pass --allow-foreign-cluster to restore another "
                     "cluster's snapshot on purpose"));
  }
  return out;
}

// What `body` names, into `out`.
void Describe(const v1::SnapshotBody& body, v1::PeerSnapshotSummary* out) {
  out->set_id(body.id());
  out->set_created_unix_nanos(body.created_unix_nanos());
  out->set_reason(body.reason());
  out->set_objects(body.objects_size());
  out->set_chunks(body.chunk_count());
  out->set_data_bytes(body.data_bytes());
  out->set_ledger_entries(body.ledger_entries_size());
  out->set_audit_logs(body.audit_logs_size());
  out->set_merkle_root(absl::BytesToHexString(body.merkle_root()));
}

// Logs restore.refused about the snapshot; the refusal to answer.
absl::Status Refuse(Node* node, const SealedSnapshot& s, const std::string& peer,
                    const std::string& actor, const std::vector<std::string>& reasons,
                    const std::vector<std::string>& messages) {
  std::string why = absl::StrCat("restore refused: ", absl::StrJoin(messages, "; "),
                                 ". `custody offsite snapshots --peer ", peer,
                                 "` lists what the peer holds; choose one "
                                 "with --snapshot ID");
  v1::AuditEvent e = NewEvent("restore.refused", "snapshot:" + s.body.id(), actor);
  AddDetail(&e, "peer", peer);
  AddDetail(&e, "reasons", absl::StrJoin(reasons, ","));
  AddDetail(&e, "signer", s.snapshot.signer());
  AddDetail(&e, "signer_key", absl::BytesToHexString(s.snapshot.public_key()));
  AddDetail(&e, "objects", absl::StrCat(s.body.objects_size()));
  AddDetail(&e, "data_bytes", absl::StrCat(s.body.data_bytes()));
  RETURN_IF_ERROR(node->Record(std::move(e)));
  return absl::FailedPreconditionError(why);
}

}  // namespace

absl::StatusOr<SealedSnapshot> CheckSealed(const v1::Snapshot& s, const v1::Receipt& r) {
  SealedSnapshot out;
  out.snapshot = s;
  ASSIGN_OR_RETURN(out.body, CheckSnapshot(s));
  ASSIGN_OR_RETURN(out.receipt, CheckReceipt(r));
  if (out.receipt.merkle_root() != out.body.merkle_root() ||
      out.receipt.snapshot_id() != out.body.id()) {
    return absl::DataLossError(
        absl::StrCat("the peer's receipt for ", out.body.id(), " names another root"));
  }
  return out;
}

absl::StatusOr<std::set<std::string>> KnownSignerKeys(Node* node) {
  std::set<std::string> keys = {node->audit()->public_raw()};
  ASSIGN_OR_RETURN(std::vector<KnownSnapshot> all, KnownSnapshots(node));
  for (const KnownSnapshot& k : all) {
    keys.insert(k.snapshot.public_key());
    for (const v1::SnapshotAuditLog& log : k.body.audit_logs()) keys.insert(log.public_key());
  }
  return keys;
}

absl::StatusOr<v1::PeerSnapshotList> ListPeerSnapshots(Node* node, OffsiteClient* peer,
                                                       const std::string& address) {
  ASSIGN_OR_RETURN(internal::v1::PeerSnapshotsResponse sealed, peer->ListSealed());
  ASSIGN_OR_RETURN(std::set<std::string> known, KnownSignerKeys(node));
  v1::PeerSnapshotList out;
  out.set_peer(address);
  for (int i = 0; i < sealed.snapshots_size(); ++i) {
    const v1::Snapshot& s = sealed.snapshots(i);
    v1::PeerSnapshotSummary* p = out.add_snapshots();
    p->set_signer(s.signer());
    p->set_signer_key(absl::BytesToHexString(s.public_key()));
    p->set_known_signer(known.count(s.public_key()) > 0);
    absl::StatusOr<SealedSnapshot> c = i < sealed.receipts_size()
                                           ? CheckSealed(s, sealed.receipts(i))
                                           : absl::DataLossError("the peer sent no receipt for it");
    v1::SnapshotBody body;
    if (c.ok()) {
      body = c->body;
      p->set_verified_unix_nanos(c->receipt.verified_unix_nanos());
      p->set_peer_id(c->receipt.peer_id());
    } else {
      (void)body.ParseFromString(s.body());  // for its id, if it parses
      p->set_problem(std::string(c.status().message()));
    }
    Describe(body, p);
  }
  return out;
}

absl::Status AdmitRestore(Node* node, const SealedSnapshot& s, const v1::RestoreRequest& request,
                          const std::string& peer, const std::string& actor,
                          v1::RestoreResult* result) {
  ASSIGN_OR_RETURN(std::vector<std::string> trusted, TrustedKeys(request));
  ASSIGN_OR_RETURN(std::set<std::string> known, KnownSignerKeys(node));
  std::string key = absl::BytesToHexString(s.snapshot.public_key());
  bool known_signer = known.count(s.snapshot.public_key()) > 0;
  for (const std::string& t : trusted) known_signer = known_signer || absl::StartsWith(key, t);
  std::vector<std::string> reasons, messages;
  for (auto& [reason, message] : Objections(s, known_signer)) {
    bool allowed = reason == "empty-snapshot" ? request.allow_empty_snapshot()
                                              : request.allow_foreign_cluster();
    if (allowed) {
      result->add_forced(reason);
      continue;
    }
    reasons.push_back(reason);
    messages.push_back(message);
  }
  if (!reasons.empty()) return Refuse(node, s, peer, actor, reasons, messages);
  result->set_snapshot_id(s.body.id());
  result->set_snapshot_objects(s.body.objects_size());
  result->set_snapshot_data_bytes(s.body.data_bytes());
  result->set_snapshot_created_unix_nanos(s.body.created_unix_nanos());
  result->set_signer(s.snapshot.signer());
  result->set_signer_key(key);
  return absl::OkStatus();
}

}  // namespace custody
