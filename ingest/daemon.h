// custody-ingestd: moves every docked recording into the cluster exactly
// once, and frees the station's copy only when the cluster holds it durably
// on R nodes. See ingest/README.md.
#ifndef CUSTODY_INGEST_DAEMON_H_
#define CUSTODY_INGEST_DAEMON_H_

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "client/server_pool.h"
#include "common/thread_pool.h"
#include "ingest/dock_lister.h"
#include "ingest/journal.h"
#include "ingest/live_reconciler.h"
#include "ingest/metadata.h"
#include "ingest/scanner.h"

namespace custody::ingest {

struct IngestOptions {
  std::string watch_dir;
  std::vector<std::string> servers;  // tried in order: the next when one is down
  std::string state_dir;             // the journal and status.json
  int parallel = 2;
  bool delete_after_verified = false;
  absl::Duration settle = absl::Seconds(5);  // unchanged this long = complete
  absl::Duration poll = absl::Seconds(1);    // rescan at least this often
  absl::Duration max_backoff = absl::Seconds(30);
  std::optional<NamePattern> name_pattern;
  // Camera times without an offset (file names, sidecars) are local to it.
  absl::TimeZone time_zone = absl::UTCTimeZone();
  std::string station;  // this docking station's name, stored with the footage
};

// What the daemon is doing; written to STATE/status.json every second.
struct IngestStatus {
  uint64_t settling = 0, queued = 0, done = 0, quarantined = 0, ignored = 0;
  uint64_t not_filed = 0;  // done files the node stored but could not file under a record
  // Complete files whose folder's dock manifest no node has taken yet
  // (ingest/dock_lister.h), and why.
  uint64_t awaiting_dock_manifest = 0;
  std::string dock_manifest_problem;
  bool running = true;  // false in the last status a stopping daemon writes
  int64_t pid = 0;
  std::string watch_dir;
  std::vector<std::string> servers;
  std::string server;                 // the one uploads go to now
  uint64_t failovers = 0;             // switches to the next server, this run
  std::vector<DoneFile> recent_done;  // newest first
  // Files the daemon can neither ingest nor quarantine (e.g. no permission),
  // with the reason; retried when the file changes.
  std::map<std::string, std::string> stuck;
  struct InFlight {
    std::string file;
    std::string server;  // of the current attempt
    uint64_t sent = 0, size = 0;
    int attempts = 0;
    std::string last_error;
    bool fresh = true;  // no progress reported by the current attempt yet
  };
  std::map<std::string, InFlight> in_flight;  // by path under the watched folder
  uint64_t bytes_uploaded = 0;                // by this run
  uint64_t retries = 0;                       // failed upload attempts, this run
  double bytes_per_second = 0;                // over the last few seconds
  std::string ToJson() const;
  // Prometheus text exposition format.
  std::string ToPrometheus() const;
};

// Run() is called once, from one thread; status() is thread-safe.
class Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<Daemon>> Create(IngestOptions options);
  ~Daemon();

  // Scans, uploads and moves files until `stop` becomes true; then waits for
  // the uploads in flight to reach a safe point (they resume next time).
  void Run(const std::atomic<bool>* stop);
  IngestStatus status() const;

 private:
  explicit Daemon(IngestOptions options);
  absl::Status LockStateDir();
  bool StationIsKnown();
  void Loop(const std::atomic<bool>* stop);
  void Ingest(const Candidate& c);
  // Uploads until the cluster holds the file on R nodes; "" if it gave up
  // (the file was quarantined) or the daemon is stopping.
  // `extra` joins the object's metadata. `hash_first`: hash the whole file
  // before sending, however large (the cluster likely holds it).
  PutResult Upload(const Candidate& c, const RecordingMeta& meta,
                   const std::map<std::string, std::string>& extra = {}, bool hash_first = false);
  // Upload, or, for a recording its camera streamed live, what
  // ingest/live_reconciler.h says (ingest/live_delivery.cc).
  PutResult Deliver(const Candidate& c, const RecordingMeta& meta);
  // Sends the rest of the live upload `m` (LiveMatch::kContinue).
  PutResult ContinueLive(const Candidate& c, const RecordingMeta& meta, const LiveMatch& m,
                         const ServerPool::Server& server);
  void NoteAttempt(const Candidate& c, const std::string& server);
  void NoteFailure(const Candidate& c, int attempt, const absl::Status& why);
  absl::StatusOr<std::string> Judge(const Candidate& c, const absl::StatusOr<PutResult>& r);
  absl::Status Release(const Candidate& c, const std::string& id);
  void Quarantine(const Candidate& c, const std::string& reason);
  std::string Destination(const std::string& folder, const Candidate& c);
  void Progress(const std::string& rel, uint64_t sent, uint64_t size);
  void SleepBackoff(int attempt);
  void WriteStatus();
  // Quarantine failed too: the file stays, is reported, and is not offered
  // again until it changes.
  void MarkStuck(const Candidate& c, const std::string& reason);
  // The paths the scanner must not offer: queued, in flight, or stuck.
  std::set<std::string> Busy();

  IngestOptions options_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<ServerPool> servers_;
  std::unique_ptr<Scanner> scanner_;
  std::unique_ptr<DockLister> docks_;  // the loop's
  const std::atomic<bool>* stop_ = nullptr;

  mutable absl::Mutex mu_;
  std::set<std::string> busy_ ABSL_GUARDED_BY(mu_);  // paths queued or in flight
  // Device folders with a file queued or in flight: one file of a device at
  // a time, in name order, so its footage is filed in the order recorded.
  std::set<std::string> busy_devices_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> stuck_ ABSL_GUARDED_BY(mu_);  // path -> fingerprint
  std::set<Canceller*> uploads_ ABSL_GUARDED_BY(mu_);              // cancelled when stopping
  IngestStatus status_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, uint64_t>> rate_window_ ABSL_GUARDED_BY(mu_);

  int lock_fd_ = -1;
  std::unique_ptr<ThreadPool> workers_;  // last: joined first
};

}  // namespace custody::ingest

#endif  // CUSTODY_INGEST_DAEMON_H_
