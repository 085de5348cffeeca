// Finds docked recordings that are complete: the watched folder and its
// per-device subfolders, each file taken only once nobody has it open for
// writing and its size and mtime (and its sidecar's) have not changed for the
// settle time. Not thread-safe: the daemon's loop owns it.
#ifndef CUSTODY_INGEST_SCANNER_H_
#define CUSTODY_INGEST_SCANNER_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "ingest/journal.h"

namespace custody::ingest {

struct Candidate {
  std::string path;         // absolute path of the recording
  std::string rel;          // path under the watched folder, e.g. "CAM-01/a.mp4"
  std::string device;       // the subfolder's name, or "" for the top level
  FileKey key;              // the version that was seen settled
  std::string fingerprint;  // that version and its sidecar's (Fingerprint())
};

// The versions of a recording and of its sidecar ("-" when it has none): if
// either changes, the recording is not the one that was taken.
std::string Fingerprint(const std::string& path);

// Folders under the watched one that the daemon owns.
inline constexpr char kDoneDir[] = "done";
inline constexpr char kQuarantineDir[] = "quarantine";

class Scanner {
 public:
  Scanner(std::string root, absl::Duration settle);

  // Walks the watched folder. Returns the files that are complete, except
  // those in `busy` (by path). Files that vanished are forgotten.
  std::vector<Candidate> Scan(absl::Time now, const std::set<std::string>& busy);
  // Files seen that are not complete yet (being written or settling).
  size_t settling() const { return settling_; }
  // Whether every file the last Scan met in `device`'s folder was complete
  // (or queued).
  bool Complete(const std::string& device) const { return !incomplete_.count(device); }
  // Whether the last Scan found the file at `path` still settling.
  bool Settling(const std::string& path) const {
    auto it = seen_.find(path);
    return it != seen_.end() && it->second.settling;
  }
  // Entries never taken: folders inside device folders, symbolic links,
  // other non-regular files. Each is logged once.
  size_t ignored() const { return ignored_.size(); }
  // The subfolders to watch (the root and each device folder).
  std::vector<std::string> Folders() const;

 private:
  struct Seen {
    std::string fingerprint;  // the recording's and its sidecar's FileKeys
    absl::Time since;
    bool settling = false;
  };
  void Visit(const std::string& path, const std::string& rel, const std::string& device,
             absl::Time now, const std::set<std::string>& busy, std::vector<Candidate>* out);

  std::string root_;
  absl::Duration settle_;
  std::map<std::string, Seen> seen_;  // by path
  std::set<std::string> present_;     // paths met during the current scan
  size_t settling_ = 0;
  std::set<std::string> incomplete_;  // devices with a file settling
  std::set<std::string> ignored_;
};

// Whether a name is one the daemon never takes as a recording: hidden,
// temporary (.part, .tmp, .crdownload), a quarantine reason, or a sidecar:
// NAME.EXT.json (even before its recording arrives), or NAME.json beside a
// recording NAME. Other .json files are documents, taken as recordings.
bool IsIgnoredName(const std::string& dir, const std::string& name);

// False when some process has `path` open for writing (a read lease cannot
// be taken); true when none has, when the check is not possible here, or
// when the file cannot be opened at all (the daemon then reports why).
bool NoWriters(const std::string& path);

}  // namespace custody::ingest

#endif  // CUSTODY_INGEST_SCANNER_H_
