#include "replication/witness/witness_book.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/checkpoint.h"
#include "common/cosignature.h"
#include "common/merkle.h"
#include "common/status_macros.h"
#include "server/audit/audit_log.h"

namespace custody {
namespace {

using internal::v1::WitnessedLogState;

absl::StatusOr<std::vector<Digest>> ParseProof(const v1::AddCheckpointRequest& req) {
  std::vector<Digest> proof;
  for (const std::string& h : req.consistency_proof()) {
    absl::StatusOr<Digest> d = Digest::FromRaw(h);
    if (!d.ok()) return absl::InvalidArgumentError("a consistency proof hash is not 32 bytes");
    proof.push_back(*d);
  }
  return proof;
}

v1::AuditEvent WitnessEvent(absl::string_view action, const std::string& origin,
                            const std::string& caller) {
  v1::AuditEvent e = NewEvent(action, absl::StrCat("witness:", origin), caller);
  return e;
}

}  // namespace

std::string WitnessName(const std::string& node_id) {
  return absl::StrCat("custody-witness-", node_id);
}

WitnessBook::WitnessBook(std::string name, Ed25519Key key, WitnessStore* store,
                         std::function<absl::Time()> now)
    : name_(std::move(name)), key_(std::move(key)), store_(store), now_(std::move(now)) {}

absl::StatusOr<v1::AddCheckpointResponse> WitnessBook::Add(const v1::AddCheckpointRequest& req,
                                                           const std::string& caller) {
  absl::StatusOr<std::string> body = NoteBody(req.checkpoint());
  if (!body.ok()) return absl::InvalidArgumentError(body.status().message());
  absl::StatusOr<Checkpoint> c = Checkpoint::ParseBody(*body);
  if (!c.ok()) return absl::InvalidArgumentError(c.status().message());
  ASSIGN_OR_RETURN(std::vector<Digest> proof, ParseProof(req));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<WitnessedLogState> held, store_->Load(c->origin));
  WitnessedLogState state;
  if (held.has_value()) {
    state = *held;
    if (!req.log_public_key().empty() && req.log_public_key() != state.public_key()) {
      return Refuse(
          state, req.checkpoint(), caller, absl::StatusCode::kPermissionDenied,
          "the checkpoint names another key than the one this witness pinned for " + c->origin);
    }
  } else {
    if (req.log_public_key().size() != 32) {
      return absl::InvalidArgumentError(
          "the first checkpoint of an origin must carry the log's 32-byte Ed25519 key");
    }
    state.set_origin(c->origin);
    state.set_public_key(req.log_public_key());
  }
  if (absl::Status s = VerifyCheckpoint(req.checkpoint(), state.public_key()).status(); !s.ok()) {
    if (!held.has_value()) return absl::PermissionDeniedError(s.message());  // nothing pinned
    return Refuse(state, req.checkpoint(), caller, absl::StatusCode::kPermissionDenied,
                  std::string(s.message()));
  }
  const uint64_t size = state.size();
  if (held.has_value() && c->size < size) {
    return Refuse(state, req.checkpoint(), caller, absl::StatusCode::kFailedPrecondition,
                  absl::StrCat("rollback: the log offers size ", c->size, " after this witness ",
                               "cosigned size ", size));
  }
  if (held.has_value() && c->size == size && c->root.Raw() != state.root()) {
    return Refuse(
        state, req.checkpoint(), caller, absl::StatusCode::kFailedPrecondition,
        absl::StrCat("fork: another root for size ", size, " than the one this witness cosigned"));
  }
  v1::AddCheckpointResponse out;
  out.set_witness_size(size);
  if (req.old_size() != size) return out;  // prove from the size held
  if (held.has_value() && size > 0 && c->size > size) {
    ASSIGN_OR_RETURN(Digest old_root, Digest::FromRaw(state.root()));
    absl::Status consistent = merkle::VerifyConsistency(size, c->size, old_root, c->root, proof);
    if (!consistent.ok()) {
      return Refuse(state, req.checkpoint(), caller, absl::StatusCode::kFailedPrecondition,
                    absl::StrCat("fork: size ", c->size, " is not consistent with size ", size,
                                 " this witness cosigned (", consistent.message(), ")"));
    }
  }
  absl::Time now = now_();
  ASSIGN_OR_RETURN(std::string line, Cosign(*body, name_, key_, absl::ToUnixSeconds(now)));
  state.set_size(c->size);
  state.set_root(std::string(c->root.Raw()));
  state.set_checkpoint(req.checkpoint());
  state.set_cosigned_unix_nanos(absl::ToUnixNanos(now));
  v1::AuditEvent e = WitnessEvent("witness.cosigned", c->origin, caller);
  AddDetail(&e, "size", absl::StrCat(c->size));
  AddDetail(&e, "root", absl::Base64Escape(c->root.Raw()));
  if (!held.has_value()) AddDetail(&e, "pinned_key", absl::Base64Escape(state.public_key()));
  RETURN_IF_ERROR(store_->Save(state, std::move(e)));
  out.set_cosignature(line);
  out.set_witness_size(c->size);
  return out;
}

absl::Status WitnessBook::Refuse(WitnessedLogState state, const std::string& offered,
                                 const std::string& caller, absl::StatusCode code,
                                 const std::string& why) {
  state.set_refusals(state.refusals() + 1);
  v1::AuditEvent e = WitnessEvent("witness.refused", state.origin(), caller);
  AddDetail(&e, "reason", why);
  AddDetail(&e, "cosigned_checkpoint", state.checkpoint());
  AddDetail(&e, "offered_checkpoint", offered);
  absl::Status saved = store_->Save(state, std::move(e));
  std::string message =
      absl::StrCat("witness ", name_, " refuses to cosign: ", why,
                   saved.ok() ? "; on record as witness.refused" : "; and could not record it: ",
                   saved.ok() ? "" : saved.message());
  return absl::Status(code, message);
}

absl::StatusOr<v1::WitnessInfoResponse> WitnessBook::Info() {
  v1::WitnessInfoResponse out;
  out.set_name(name_);
  out.set_public_key_pem(key_.PublicPem());
  ASSIGN_OR_RETURN(std::vector<WitnessedLogState> logs, store_->List());
  for (const WitnessedLogState& s : logs) {
    v1::WitnessedLog* l = out.add_logs();
    l->set_origin(s.origin());
    l->set_size(s.size());
    l->set_cosigned_unix_nanos(s.cosigned_unix_nanos());
    l->set_refusals(s.refusals());
  }
  return out;
}

}  // namespace custody
