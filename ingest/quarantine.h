// The recordings in WATCH/quarantine/, and putting them back into the watched
// folder so that the daemon takes them again (`custody-ingestd retry`).
// Nothing here deletes or overwrites a file: a retry that would overwrite one
// is refused, and a quarantine reason is kept aside, not deleted.
#ifndef CUSTODY_INGEST_QUARANTINE_H_
#define CUSTODY_INGEST_QUARANTINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace custody::ingest {

struct QuarantinedFile {
  // Under quarantine/, e.g. "CAM-2/a.mp4"; a retry puts it back at the same
  // path under the watched folder.
  std::string rel;
  std::string reason;  // ReasonLine() of NAME.reason; "" if there is none
};

// Every recording in WATCH/quarantine (at its top and in its device folders),
// sorted by path; sidecars and reasons are not listed. Empty when there is no
// quarantine folder.
absl::StatusOr<std::vector<QuarantinedFile>> ListQuarantine(const std::string& watch_dir);

// The first line of the reason in the text of a NAME.reason file (its
// "reason: " line), or the file's first line if it has none.
std::string ReasonLine(absl::string_view reason_file_text);

// What one retry did.
struct Retried {
  std::string rel;             // the recording, now at WATCH/rel
  bool sidecar = false;        // its sidecar came back too
  std::string reason;          // ReasonLine() of its reason, "" if none
  std::string reason_kept_as;  // where the reason was put aside, "" if none
};

// Puts quarantined recording `file` (a path to it, or its path under
// quarantine/) back into the watched folder `watch_dir`, with its sidecar,
// and renames its NAME.reason to NAME.retried-<UTC time>.reason beside it.
// NOT_FOUND if `file` is not a recording in quarantine/; ALREADY_EXISTS,
// naming the file, if the recording or its sidecar exists in the watched
// folder already (nothing is moved then).
absl::StatusOr<Retried> Retry(const std::string& watch_dir, const std::string& file,
                              absl::Time now);

// Appends one line about `r` to STATE/retries.log (created if missing) and
// syncs it.
absl::Status LogRetry(const std::string& state_dir, const Retried& r, absl::Time now);

}  // namespace custody::ingest

#endif  // CUSTODY_INGEST_QUARANTINE_H_
