// custody-ingestd's commands besides the daemon: `status` and `retry`. Each
// prints to stdout (results) and stderr (errors, naming what is wrong) and
// returns the process exit code: 0 done, 1 failed, 2 bad usage.
#ifndef CUSTODY_INGEST_COMMANDS_H_
#define CUSTODY_INGEST_COMMANDS_H_

#include <string>
#include <vector>

namespace custody::ingest {

// What the daemon last wrote to STATE/status.json, and the recordings in
// quarantine/ now, each with the first line of its reason. `watch_dir` may be
// "": the watched folder named in the status file is used then. With
// `as_json`, status.json with "quarantined_files" added.
int PrintStatus(const std::string& state_dir, const std::string& watch_dir, bool as_json);

// Puts quarantined recordings back into `watch_dir`: those named in `files`,
// or every one with `all`. Each retry is logged (stderr and
// STATE/retries.log); a file that cannot be retried is named with the reason,
// and the others are still retried.
int RunRetry(const std::string& watch_dir, const std::string& state_dir,
             const std::vector<std::string>& files, bool all, bool as_json = false);

}  // namespace custody::ingest

#endif  // CUSTODY_INGEST_COMMANDS_H_
