#include "server/audit/audited_write.h"

namespace custody {

absl::Status AuditedIndexWrite(Committer* committer, AuditLog* audit,
                               std::optional<v1::AuditEvent> event,
                               const std::function<void(rocksdb::WriteBatch*)>& writes) {
  WriteRequest r;
  r.index_only = true;
  r.on_index = [&](rocksdb::WriteBatch* b, const WriteResult&) {
    if (writes) writes(b);
    if (event && audit != nullptr) audit->Append(b, std::move(*event));
  };
  return committer->Write(std::move(r)).status();
}

absl::StatusOr<std::string> AuditTrail::SignCheckpointNow() {
  if (audit_ == nullptr) return absl::FailedPreconditionError("this store keeps no audit log");
  absl::StatusOr<std::string> note = absl::UnknownError("not signed");
  WriteRequest r;
  r.index_only = true;
  r.on_index = [this, &note](rocksdb::WriteBatch* b, const WriteResult&) {
    note = audit_->SignCheckpoint(b);
  };
  absl::Status s = committer_->Write(std::move(r)).status();
  if (!s.ok()) return s;
  return note;
}

}  // namespace custody
