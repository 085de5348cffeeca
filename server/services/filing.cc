#include "server/services/filing.h"

#include "common/log.h"

namespace custody {

absl::StatusOr<std::string> FileUnderRecord(Node* node, const v1::Principal& by,
                                            const std::string& id) {
  absl::StatusOr<Digest> d = Digest::Parse(id);
  absl::StatusOr<v1::ObjectManifest> m =
      d.ok() ? node->FindManifest(*d) : absl::StatusOr<v1::ObjectManifest>(d.status());
  absl::StatusOr<std::string> rec =
      m.ok() ? node->records()->FileIngested(by, *m) : absl::StatusOr<std::string>(m.status());
  // The object's own history says which record it joined, or why it did not
  // (the footage is stored either way).
  v1::AuditEvent e = NewEvent(rec.ok() ? "record.filed" : "record.filing-failed", id, by.name());
  if (rec.ok()) {
    if (rec->empty()) return rec;
    AddDetail(&e, "record", *rec);
  } else {
    LOG(WARNING) << "could not file " << id << " under a record: " << rec.status();
    node->metrics()->FilingFailed();
    AddDetail(&e, "reason", rec.status().message());
  }
  absl::Status s = node->Record(std::move(e));
  if (!s.ok()) LOG(ERROR) << "recording the filing of " << id << ": " << s;
  return rec;
}

}  // namespace custody
