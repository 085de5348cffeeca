#include "server/services/filing.h"

#include "common/log.h"

namespace custody {

namespace {

// Docked footage that differs from what its camera streamed live
// (metadata live_altered): the live upload's own history says so too.
void NoteAltered(Node* node, const v1::Principal& by, const std::string& id,
                 const v1::ObjectManifest& m, const absl::StatusOr<std::string>& rec) {
  auto altered = m.metadata().find("live_altered");
  if (altered == m.metadata().end()) return;
  v1::AuditEvent a = NewEvent("live.altered-after-upload", "live:" + altered->second, by.name());
  AddDetail(&a, "object", id);
  if (rec.ok() && !rec->empty()) AddDetail(&a, "record", *rec);
  absl::Status s = node->Record(std::move(a));
  if (!s.ok()) LOG(ERROR) << "recording that " << id << " was altered after upload: " << s;
}

}  // namespace

absl::StatusOr<std::string> FileUnderRecord(Node* node, const v1::Principal& by,
                                            const std::string& id) {
  absl::StatusOr<Digest> d = Digest::Parse(id);
  absl::StatusOr<v1::ObjectManifest> m =
      d.ok() ? node->FindManifest(*d) : absl::StatusOr<v1::ObjectManifest>(d.status());
  absl::StatusOr<std::string> rec =
      m.ok() ? node->records()->FileIngested(by, *m) : absl::StatusOr<std::string>(m.status());
  if (m.ok()) NoteAltered(node, by, id, *m, rec);
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

void OpenRecordForLive(Node* node, const v1::Principal& by, const v1::LiveInfo& info) {
  v1::ObjectManifest m;
  m.set_file_name(info.file_name());
  m.mutable_metadata()->insert(info.metadata().begin(), info.metadata().end());
  absl::StatusOr<std::string> rec = node->records()->IngestRecord(by, m);
  if (!rec.ok()) {
    LOG(WARNING) << "live upload " << info.live_id()
                 << " shows in no record while it records: " << rec.status();
  }
}

}  // namespace custody
