#include "replication/witness/cosigner.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/checkpoint.h"
#include "common/cosignature.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace custody {

Cosigner::Cosigner(std::string witness, std::shared_ptr<grpc::ChannelCredentials> credentials,
                   AuditLog* log, Attestations* store, AuditTrail* trail)
    : witness_(std::move(witness)),
      stub_(v1::Witness::NewStub(grpc::CreateChannel(
          witness_, credentials ? credentials : grpc::InsecureChannelCredentials()))),
      log_(log),
      store_(store),
      trail_(trail) {}

absl::StatusOr<std::string> Cosigner::Cosign(const std::string& note) {
  ASSIGN_OR_RETURN(std::string body, NoteBody(note));
  ASSIGN_OR_RETURN(Checkpoint c, Checkpoint::ParseBody(body));
  absl::MutexLock lock(&call_mu_);
  absl::StatusOr<std::string> out = CosignLocked(note, c.size);
  absl::MutexLock l(&mu_);
  if (out.ok()) {
    error_.clear();
    refused_.clear();
    cosigned_size_ = std::max(cosigned_size_, c.size);
    cosigned_unix_nanos_ = absl::GetCurrentTimeNanos();
  } else if (!absl::IsFailedPrecondition(out.status()) && !absl::IsPermissionDenied(out.status())) {
    error_ = std::string(out.status().message());
  }
  return out;
}

absl::StatusOr<std::string> Cosigner::CosignLocked(const std::string& note, uint64_t size) {
  ASSIGN_OR_RETURN(internal::v1::CheckpointAttestation held, store_->For(note));
  if (NoteSignatureLines(held.checkpoint()).size() > NoteSignatureLines(note).size()) {
    return held.checkpoint();  // cosigned already
  }
  ASSIGN_OR_RETURN(uint64_t old_size, store_->WitnessSize());
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<v1::AddCheckpointResponse> r = Ask(note, old_size, size);
    if (!r.ok()) {
      if (absl::IsFailedPrecondition(r.status()) || absl::IsPermissionDenied(r.status())) {
        NoteRefusal(r.status());
      }
      return r.status();
    }
    if (!r->cosignature().empty()) {
      RETURN_IF_ERROR(store_->SetWitnessSize(size));
      return store_->AddCosignature(note, r->cosignature());
    }
    old_size = r->witness_size();  // the witness holds another size: prove from it
    RETURN_IF_ERROR(store_->SetWitnessSize(old_size));
  }
  return absl::UnavailableError(
      absl::StrCat("witness ", witness_, " keeps naming another size than it holds"));
}

absl::StatusOr<v1::AddCheckpointResponse> Cosigner::Ask(const std::string& note, uint64_t old_size,
                                                        uint64_t size) {
  v1::AddCheckpointRequest req;
  req.set_old_size(old_size);
  req.set_checkpoint(note);
  req.set_log_public_key(log_->public_raw());
  if (old_size > 0 && old_size < size) {
    ASSIGN_OR_RETURN(std::vector<Digest> proof, log_->ConsistencyProof(old_size, size));
    for (const Digest& d : proof) req.add_consistency_proof(std::string(d.Raw()));
  }
  // A size beyond this log's (it was rolled back): no proof can exist; the
  // witness refuses, and says so.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::AddCheckpointResponse resp;
  grpc::Status s = stub_->AddCheckpoint(&ctx, req, &resp);
  if (!s.ok()) {
    absl::Status st = FromGrpcStatus(s);
    return absl::Status(st.code(), absl::StrCat("witness ", witness_, ": ", st.message()));
  }
  return resp;
}

void Cosigner::NoteRefusal(const absl::Status& s) {
  {
    absl::MutexLock l(&mu_);
    if (refused_ == s.message()) return;  // on record already
    refused_ = std::string(s.message());
    refused_unix_nanos_ = absl::GetCurrentTimeNanos();
  }
  LOG(ERROR) << "the witness refused this node's checkpoint: " << s.message();
  v1::AuditEvent e = NewEvent("witness.refused", "node", "custodyd");
  AddDetail(&e, "witness", witness_);
  AddDetail(&e, "reason", s.message());
  (void)trail_->RecordOrHold(std::move(e));
}

void Cosigner::Fill(v1::Attestation* a) const {
  absl::MutexLock l(&mu_);
  a->set_witness(witness_);
  a->set_cosigned_size(cosigned_size_);
  a->set_cosigned_unix_nanos(cosigned_unix_nanos_);
  a->set_witness_refused(refused_);
  a->set_refused_unix_nanos(refused_unix_nanos_);
  a->set_witness_error(error_);
}

uint64_t Cosigner::cosigned_size() const {
  absl::MutexLock l(&mu_);
  return cosigned_size_;
}

}  // namespace custody
