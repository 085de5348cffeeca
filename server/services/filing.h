// Filing a stored object under its record (doc/records.md, "Ingest"), for
// the services that store objects: an upload, a sealed live upload.
#ifndef CUSTODY_SERVER_SERVICES_FILING_H_
#define CUSTODY_SERVER_SERVICES_FILING_H_

#include <string>

#include "absl/status/statusor.h"
#include "custody/v1/access.pb.h"
#include "server/node.h"

namespace custody {

// Files the stored object `id` under its record (ingest metadata): the
// record's id, "" when its metadata names none, or why filing failed
// (logged, counted and audited as record.filing-failed; the object stays
// stored). Thread-safe.
absl::StatusOr<std::string> FileUnderRecord(Node* node, const v1::Principal& by,
                                            const std::string& id);

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_FILING_H_
