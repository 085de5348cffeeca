#include "server/objects/manifest_writer.h"

namespace custody {

absl::StatusOr<bool> WriteManifest(Committer* committer, Index* index, AuditLog* audit,
                                   const Digest& id, std::string manifest,
                                   std::function<v1::AuditEvent(bool held)> make_event,
                                   std::function<void(rocksdb::WriteBatch*)> extra) {
  WriteRequest r;
  r.type = EntryType::kManifest;
  r.key = id;
  r.payload = manifest;
  r.on_index = [&](rocksdb::WriteBatch* b, const WriteResult& w) {
    if (!w.existed) b->Put(index->objects(), KeyOf(id), manifest);
    if (audit != nullptr) audit->Append(b, make_event(w.existed));
    if (extra) extra(b);
  };
  absl::StatusOr<WriteResult> w = committer->Write(std::move(r));
  if (!w.ok()) return w.status();
  return w->existed;
}

}  // namespace custody
