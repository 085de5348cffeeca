// A node's side of C2SP tlog-witness (doc/witness.md): has its witness
// cosign the node's checkpoints, each with a consistency proof from the size
// the witness holds, and keeps the cosignatures (attestations.h).
#ifndef CUSTODY_REPLICATION_WITNESS_COSIGNER_H_
#define CUSTODY_REPLICATION_WITNESS_COSIGNER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "custody/v1/custody.pb.h"
#include "custody/v1/witness.grpc.pb.h"
#include "replication/witness/attestations.h"
#include "server/audit/audit_log.h"
#include "server/audit/audited_write.h"

namespace custody {

// Thread-safe; one request to the witness at a time.
class Cosigner {
 public:
  Cosigner(std::string witness, std::shared_ptr<grpc::ChannelCredentials> credentials,
           AuditLog* log, Attestations* store, AuditTrail* trail);

  // Has the witness cosign `note` (one of this node's checkpoints) unless it
  // did already; returns the note with the cosignatures held for it. A
  // refusal (FAILED_PRECONDITION or PERMISSION_DENIED: the witness holds a
  // checkpoint this log is not consistent with) is put on this node's record
  // as witness.refused, once per distinct answer, and returned.
  absl::StatusOr<std::string> Cosign(const std::string& note);
  // The largest size cosigned, and the last refusal or error.
  void Fill(v1::Attestation* a) const;
  uint64_t cosigned_size() const;
  const std::string& witness() const { return witness_; }

 private:
  absl::StatusOr<std::string> CosignLocked(const std::string& note, uint64_t size)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(call_mu_);
  absl::StatusOr<v1::AddCheckpointResponse> Ask(const std::string& note, uint64_t old_size,
                                                uint64_t size);
  void NoteRefusal(const absl::Status& s);

  const std::string witness_;
  std::unique_ptr<v1::Witness::Stub> stub_;
  AuditLog* log_;
  Attestations* store_;
  AuditTrail* trail_;
  absl::Mutex call_mu_;  // one exchange with the witness at a time
  mutable absl::Mutex mu_;
  uint64_t cosigned_size_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t cosigned_unix_nanos_ ABSL_GUARDED_BY(mu_) = 0;
  std::string refused_ ABSL_GUARDED_BY(mu_), error_ ABSL_GUARDED_BY(mu_);
  int64_t refused_unix_nanos_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_WITNESS_COSIGNER_H_
