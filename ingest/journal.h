// The ingest daemon's durable memory: which docked files the cluster already
// holds, so that a file is ingested exactly once even if the daemon is killed
// at any moment. An append-only file of JSON lines in the state folder, each
// synced before the step it records is taken; see ingest/README.md.
#ifndef CUSTODY_INGEST_JOURNAL_H_
#define CUSTODY_INGEST_JOURNAL_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace custody::ingest {

// Identifies one version of a docked file: device, inode, size and mtime.
// A file rewritten in place is a new version.
struct FileKey {
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0;
  std::string ToString() const;
  // Of the file at `path` (lstat), or the errno failure.
  static absl::StatusOr<FileKey> Of(const std::string& path);
  bool operator==(const FileKey&) const = default;
};

// A file the journal recorded as done (released from the station).
struct DoneFile {
  std::string path;            // under the watched folder
  std::string id;              // the object id; "" if the journal did not know it
  int64_t time = 0;            // Unix seconds
  std::string record;          // the record it was filed under; "" if none (or not known)
  std::string filing_problem;  // why the node could not file it under a record; "" if none
};

// Thread-safe.
class Journal {
 public:
  // Opens (or creates) STATE_DIR/journal.jsonl, replays it, and rewrites it
  // without the files that are finished.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& state_dir);
  ~Journal();

  // The object id recorded for `key` once the cluster held it, if any.
  std::optional<std::string> StoredId(const FileKey& key) const;
  // Records, durably, that the cluster holds `key`'s bytes as `id`, filed
  // under `record` ("" if none), or not filed for `filing_problem`.
  absl::Status Stored(const FileKey& key, const std::string& path, const std::string& id,
                      const std::string& record = "", const std::string& filing_problem = "");
  // Records, durably, that the file left the watched folder (moved to done/
  // or deleted): it is forgotten, except as one of the recent done files.
  absl::Status Done(const FileKey& key, const std::string& path);
  // Records, durably, that the file went to quarantine/.
  absl::Status Quarantined(const FileKey& key, const std::string& path, const std::string& reason);

  uint64_t done_total() const;
  uint64_t quarantined_total() const;
  // Done files the node stored but could not file under a record.
  uint64_t not_filed_total() const;
  // The last kRecentDone files done, newest first; kept across restarts.
  std::vector<DoneFile> RecentDone() const;
  static constexpr size_t kRecentDone = 20;

 private:
  Journal() = default;
  absl::Status AppendLocked(const std::string& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Rewrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Replay(const std::string& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddRecentLocked(DoneFile f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string path_;
  mutable absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  struct StoredFile {
    std::string id, record, filing_problem;
  };
  std::map<std::string, StoredFile> stored_ ABSL_GUARDED_BY(mu_);  // by key
  uint64_t done_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t quarantined_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t not_filed_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<DoneFile> recent_ ABSL_GUARDED_BY(mu_);  // oldest first
};

}  // namespace custody::ingest

#endif  // CUSTODY_INGEST_JOURNAL_H_
