#include "server/audited_write.h"

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

}  // namespace custody
