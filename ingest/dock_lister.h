// Dock manifests (doc/records.md, "Dock manifests"; issue 31): before a file
// of a device folder is uploaded, the daemon lists what the folder holds
// (names, sizes, times and, where the sidecar or --name-pattern gives them,
// the recordings' starts and the camera's file numbers), signs the list with
// the station's identity and sends it to the cluster (Records.Docked). The
// node then shows every listed file that never arrives as missing in its
// record. A folder is listed once every file in it is complete (unchanged
// for the settle time, no writer); when one stays incomplete for
// kIncompleteWait (a copy that hangs with the file open), the complete ones
// are listed without it, so that it cannot hold the others back for ever.
// Files that appear later are listed by a manifest of their own. What was listed is kept in
// STATE/docks.jsonl, so a restart does not list the same files again.
//
// Thread-compatible: the daemon's loop owns it.
#ifndef CUSTODY_INGEST_DOCK_LISTER_H_
#define CUSTODY_INGEST_DOCK_LISTER_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/server_pool.h"
#include "custody/v1/records.pb.h"
#include "ingest/metadata.h"
#include "ingest/scanner.h"

namespace custody::ingest {

inline constexpr absl::Duration kIncompleteWait = absl::Minutes(10);

struct DockOptions {
  std::string watch_dir, state_dir, station;
  std::optional<NamePattern> name_pattern;
  absl::TimeZone time_zone = absl::UTCTimeZone();
};

class DockLister {
 public:
  // Reads STATE/docks.jsonl, keeping only the files still in the folder.
  static absl::StatusOr<std::unique_ptr<DockLister>> Open(DockOptions options, ServerPool* servers);

  // Whether a manifest sent to the cluster lists `c` as it is now. When it
  // does not and `c`'s device folder is complete, sends one for every file
  // of the folder not yet listed. While no node takes it (down, full,
  // credentials), it is retried at the next call, logged once per reason; a
  // manifest the cluster refuses is logged and its files go on without it. Files at the top of the
  // watched folder have no device folder and need none.
  bool Listed(const Candidate& c, const Scanner& scanner, absl::Time now);

  // Why the last manifest was not taken ("" once one was).
  const std::string& problem() const { return last_problem_; }

  // The files of `device`'s folder that no manifest lists, as a manifest
  // (without id or signature), leaving out those `scanner` finds settling
  // if it is given.
  v1::DockRequest Unlisted(const std::string& device, const Scanner* scanner = nullptr) const;

 private:
  DockLister(DockOptions options, ServerPool* servers)
      : o_(std::move(options)), servers_(servers) {}
  // A file's identity in docks.jsonl: device, name, size, mtime.
  static std::string Key(const std::string& device, const v1::DockedFile& f);
  absl::Status Send(v1::DockRequest dock);
  absl::Status Remember(const v1::DockRequest& dock);

  DockOptions o_;
  ServerPool* servers_;
  std::set<std::string> listed_;               // Key()s
  std::map<std::string, absl::Time> waiting_;  // device -> since a complete file waits
  std::string last_problem_;
  bool unsupported_ = false;  // the cluster has no Records.Docked (older nodes)
};

}  // namespace custody::ingest

#endif  // CUSTODY_INGEST_DOCK_LISTER_H_
