// Filing a stored object under its record (doc/records.md, "Ingest"), for
// the services that store objects: an upload, a sealed live upload.
#ifndef CUSTODY_SERVER_SERVICES_FILING_H_
#define CUSTODY_SERVER_SERVICES_FILING_H_

#include <string>

#include "absl/status/statusor.h"
#include "custody/v1/access.pb.h"
#include "custody/v1/live.pb.h"
#include "server/node.h"

namespace custody {

// Files the stored object `id` under its record (ingest metadata): the
// record's id, "" when its metadata names none, or why filing failed
// (logged, counted and audited as record.filing-failed; the object stays
// stored). Thread-safe.
absl::StatusOr<std::string> FileUnderRecord(Node* node, const v1::Principal& by,
                                            const std::string& id);

// Makes sure the record a new live upload will be filed under exists while
// it records (doc/live.md), so that the record shows it: opened now if
// none is. A failure is logged; the upload goes on, and is filed (or the
// failure audited) when it is sealed. Thread-safe.
void OpenRecordForLive(Node* node, const v1::Principal& by, const v1::LiveInfo& info);

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_FILING_H_
