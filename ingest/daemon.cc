#include "ingest/daemon.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/units.h"
#include "common/utf8.h"
#include "custody/v1/access.grpc.pb.h"
#include "ingest/watcher.h"

namespace custody::ingest {
namespace {

namespace fs = std::filesystem;

// Failures that are the file's own (bad header or metadata, bytes that do not
// match, a file shorter than what the node holds): retrying cannot help, so
// the file goes to quarantine. Anything else (node down, disk full,
// credentials) is retried with backoff for as long as it takes.
bool IsTheFilesFault(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

}  // namespace

Daemon::Daemon(IngestOptions options) : options_(std::move(options)) {}

Daemon::~Daemon() {
  workers_.reset();
  if (lock_fd_ >= 0) close(lock_fd_);
}

// One daemon per state folder: two would rewrite each other's journal.
absl::Status Daemon::LockStateDir() {
  std::error_code ec;
  fs::create_directories(options_.state_dir, ec);
  std::string path = options_.state_dir + "/LOCK";
  lock_fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return ErrnoStatus(errno, "opening " + path);
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "another custody-ingestd is already running with the state folder ", options_.state_dir));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Create(IngestOptions options) {
  std::error_code ec;
  if (options.servers.empty()) return absl::InvalidArgumentError("no --server to upload to");
  if (!fs::is_directory(options.watch_dir, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--watch ", options.watch_dir, " is not a folder"));
  }
  options.watch_dir = fs::canonical(options.watch_dir, ec).string();
  if (options.state_dir.empty()) options.state_dir = options.watch_dir + "/.custody-ingest";
  std::unique_ptr<Daemon> d(new Daemon(std::move(options)));
  absl::Status locked = d->LockStateDir();
  if (!locked.ok()) return locked;
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(d->options_.state_dir);
  if (!j.ok()) return j.status();
  d->journal_ = std::move(*j);
  d->servers_ = std::make_unique<ServerPool>(d->options_.servers);
  d->scanner_ = std::make_unique<Scanner>(d->options_.watch_dir, d->options_.settle);
  const IngestOptions& o = d->options_;
  absl::StatusOr<std::unique_ptr<DockLister>> docks = DockLister::Open(
      {o.watch_dir, o.state_dir, o.station, o.name_pattern, o.time_zone}, d->servers_.get());
  if (!docks.ok()) return docks.status();
  d->docks_ = std::move(*docks);
  d->workers_ = std::make_unique<ThreadPool>(std::max(1, d->options_.parallel));
  return d;
}

void Daemon::Run(const std::atomic<bool>* stop) {
  stop_ = stop;
  LOG(INFO) << "watching " << options_.watch_dir << " for " << absl::StrJoin(options_.servers, ",")
            << ", " << options_.parallel << " uploads at a time, journal in " << options_.state_dir;
  Loop(stop);
  {
    absl::MutexLock l(&mu_);
    for (Canceller* c : uploads_) c->Cancel();  // unblocks a write to a stalled node
  }
  workers_.reset();                 // uploads resume from the node's durable chunks next time
  scanner_->Scan(absl::Now(), {});  // the last status counts what is left
  {
    absl::MutexLock l(&mu_);
    status_.settling = scanner_->settling();
    status_.running = false;
  }
  WriteStatus();
}

void Daemon::Loop(const std::atomic<bool>* stop) {
  Watcher watcher;
  if (!watcher.using_inotify()) LOG(WARNING) << "polling every " << options_.poll;
  absl::Time next_scan = absl::InfinitePast();
  while (!stop->load()) {
    if (absl::Now() < next_scan) {  // woke for the status file only
      WriteStatus();
      if (watcher.Wait(std::min(absl::Seconds(1), next_scan - absl::Now()))) {
        next_scan = absl::InfinitePast();
      }
      continue;
    }
    next_scan = absl::Now() + options_.poll;
    watcher.Watch(scanner_->Folders());
    std::vector<Candidate> ready = scanner_->Scan(absl::Now(), Busy());
    {
      absl::MutexLock l(&mu_);
      status_.settling = scanner_->settling();
      status_.ignored = scanner_->ignored();
    }
    std::sort(ready.begin(), ready.end(),
              [](const Candidate& a, const Candidate& b) { return a.rel < b.rel; });
    uint64_t awaiting = 0;
    for (Candidate& c : ready) {
      // A device folder's files wait for its dock manifest (dock_lister.h).
      if (!docks_->Listed(c, *scanner_, absl::Now())) {
        ++awaiting;
        continue;
      }
      {
        absl::MutexLock l(&mu_);
        // A device's next file waits for its previous one (the next scan
        // finds it again).
        if (!c.device.empty() && !busy_devices_.insert(c.device).second) continue;
        busy_.insert(c.path);
      }
      workers_->Schedule([this, c = std::move(c)] { Ingest(c); });
    }
    {
      absl::MutexLock l(&mu_);
      status_.awaiting_dock_manifest = awaiting;
      status_.dock_manifest_problem = docks_->problem();
    }
    WriteStatus();
    if (watcher.Wait(std::min(absl::Seconds(1), options_.poll))) next_scan = absl::InfinitePast();
  }
}

std::set<std::string> Daemon::Busy() {
  absl::MutexLock l(&mu_);
  std::set<std::string> out = busy_;
  for (auto it = stuck_.begin(); it != stuck_.end();) {
    if (Fingerprint(it->first) == it->second) {
      out.insert(it->first);
      ++it;
    } else {  // changed (e.g. permissions fixed): try again
      status_.stuck.erase(it->first);
      it = stuck_.erase(it);
    }
  }
  return out;
}

void Daemon::MarkStuck(const Candidate& c, const std::string& reason) {
  absl::MutexLock l(&mu_);
  stuck_[c.path] = c.fingerprint;
  status_.stuck[c.rel] = reason;
}

void Daemon::Ingest(const Candidate& c) {
  absl::Cleanup forget = [&] {
    absl::MutexLock l(&mu_);
    busy_.erase(c.path);
    if (!c.device.empty()) busy_devices_.erase(c.device);
    status_.in_flight.erase(c.rel);
  };
  if (stop_->load()) return;
  std::optional<std::string> id = journal_->StoredId(c.key);
  if (!id) {  // not uploaded yet (or the daemon stopped before noting it)
    if (access(c.path.c_str(), R_OK) != 0) {
      return Quarantine(c, absl::StrCat("the daemon cannot read the file: ", std::strerror(errno)));
    }
    if (c.key.size == 0) {
      return Quarantine(c,
                        "the file is empty (0 bytes): most likely a failed copy from the device");
    }
    absl::StatusOr<RecordingMeta> meta =
        ReadMetadata(c.path, c.device, options_.name_pattern, options_.time_zone);
    if (!meta.ok()) return Quarantine(c, std::string(meta.status().message()));
    PutResult got = Deliver(c, *meta);
    if (got.id.empty()) return;
    if (!got.filing_problem.empty()) {
      LOG(WARNING) << c.rel << ": stored as " << got.id
                   << " but not filed under a record: " << got.filing_problem;
    }
    absl::Status s = journal_->Stored(c.key, c.rel, got.id, got.record_id, got.filing_problem);
    if (!s.ok()) {
      LOG(ERROR) << c.rel << ": stored as " << got.id << " but the journal failed: " << s;
      return;  // the file stays; the next scan finds it already stored
    }
    id = got.id;
  }
  absl::Status s = Release(c, *id);
  if (!s.ok()) LOG(ERROR) << c.rel << ": held by the cluster as " << *id << ", but " << s;
}

// Each attempt goes to the pool's current node. When that node is down, the
// next attempt goes to the next node at once; only after every node failed in
// a row does the daemon back off. Each node resumes the upload from what it
// holds (the same upload id), or starts it from byte 0.
PutResult Daemon::Upload(const Candidate& c, const RecordingMeta& meta,
                         const std::map<std::string, std::string>& extra, bool hash_first) {
  PutOptions o;
  if (hash_first) o.hash_first_bytes = std::numeric_limits<uint64_t>::max();
  o.metadata = ToObjectMetadata(meta, options_.station);
  for (const auto& [k, v] : extra) o.metadata[k] = v;
  o.metadata["source_path"] = EscapeInvalidUtf8(c.rel);
  o.retry_budget = absl::ZeroDuration();  // this loop retries, for as long as it takes
  o.progress = [&](uint64_t sent, uint64_t size) { Progress(c.rel, sent, size); };
  Canceller canceller;
  o.canceller = &canceller;
  {
    absl::MutexLock l(&mu_);
    uploads_.insert(&canceller);
  }
  absl::Cleanup done = [&] {
    absl::MutexLock l(&mu_);
    uploads_.erase(&canceller);
  };
  size_t down_in_a_row = 0;
  for (int attempt = 1, round = 1; !stop_->load(); ++attempt) {
    ServerPool::Server server = servers_->Current();
    NoteAttempt(c, server.address);
    absl::StatusOr<PutResult> r = CustodyClient(server.channel).Put(c.path, o);
    absl::StatusOr<std::string> id = Judge(c, r);
    if (id.ok()) return *r;
    if (id.status().code() == absl::StatusCode::kAborted) return PutResult();  // given up
    NoteFailure(c, attempt, id.status());
    // A node that is down, or full, hands the upload to the next.
    bool down = !r.ok() && ShouldFailOver(r.status());
    std::string next = down ? servers_->FailOver(server.index, r.status()) : server.address;
    LOG(WARNING) << c.rel << ": attempt " << attempt << " on " << server.address
                 << " failed, will retry" << (next != server.address ? " on " + next : "") << ": "
                 << id.status();
    if (down && ++down_in_a_row < servers_->size()) continue;  // the next node, at once
    down_in_a_row = 0;
    SleepBackoff(round++);
  }
  return PutResult();
}

void Daemon::NoteAttempt(const Candidate& c, const std::string& server) {
  absl::MutexLock l(&mu_);
  IngestStatus::InFlight& f = status_.in_flight[c.rel];
  f.fresh = true;
  f.file = c.rel;
  f.server = server;
  f.size = c.key.size;
}

void Daemon::NoteFailure(const Candidate& c, int attempt, const absl::Status& why) {
  absl::MutexLock l(&mu_);
  ++status_.retries;
  status_.in_flight[c.rel].attempts = attempt;
  status_.in_flight[c.rel].last_error = why.ToString();
}

// What one upload attempt means: the id when the cluster holds the file on R
// nodes and the file did not change meanwhile; ABORTED when the daemon gave
// the file up (quarantined, or vanished); any other error is retried.
absl::StatusOr<std::string> Daemon::Judge(const Candidate& c, const absl::StatusOr<PutResult>& r) {
  absl::StatusOr<FileKey> now = FileKey::Of(c.path);
  if (!now.ok()) {
    LOG(ERROR) << c.rel << " vanished while it was being uploaded: " << now.status();
    return absl::AbortedError("vanished");
  }
  if (!(*now == c.key)) {
    Quarantine(c, absl::StrCat("the file changed while it was being uploaded (it was ",
                               c.key.ToString(), ", now ", now->ToString(), ")",
                               r.ok() ? "; the bytes read were stored as " + r->id +
                                            ", which is not acknowledged as this recording"
                                      : ""));
    return absl::AbortedError("changed");
  }
  if (Fingerprint(c.path) != c.fingerprint) {
    Quarantine(c, absl::StrCat("the sidecar changed while the recording was being uploaded",
                               r.ok() ? "; the recording was stored as " + r->id +
                                            " with the metadata of the sidecar as it was before"
                                      : ""));
    return absl::AbortedError("sidecar changed");
  }
  if (r.ok() && r->durable_replicas >= std::max<uint32_t>(1, r->required_replicas)) {
    LOG(INFO) << c.rel << " -> " << r->id << (r->already_stored ? " (already held)" : "");
    return r->id;
  }
  absl::Status s =
      r.ok() ? absl::UnavailableError(absl::StrCat("the cluster holds ", r->durable_replicas,
                                                   " of ", r->required_replicas, " replicas"))
             : r.status();
  if (IsTheFilesFault(s) || (absl::IsPermissionDenied(s) && StationIsKnown())) {
    Quarantine(c, std::string(s.message()));
    return absl::AbortedError("quarantined");
  }
  return s.code() == absl::StatusCode::kAborted ? absl::UnavailableError(s.message()) : s;
}

// A refusal (PERMISSION_DENIED) is the file's when the node still knows the
// station: its footage names another agency's device or agency. When the
// station itself is refused (disabled, a revoked certificate), it retries
// until a person mends that.
bool Daemon::StationIsKnown() {
  v1::Access::Stub stub(servers_->Current().channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::Principal who;
  return stub.WhoAmI(&ctx, v1::WhoAmIRequest(), &who).ok() && !who.disabled();
}

// Exponential from 0.5 s to --max-backoff, with jitter; wakes up for a stop.
void Daemon::SleepBackoff(int attempt) {
  static thread_local std::mt19937 rng(std::random_device{}());
  absl::Duration base =
      std::min(options_.max_backoff, absl::Milliseconds(500) * (1 << std::min(attempt - 1, 10)));
  absl::Time until = absl::Now() + base * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
  while (!stop_->load() && absl::Now() < until) absl::SleepFor(absl::Milliseconds(50));
}

void Daemon::Progress(const std::string& rel, uint64_t sent, uint64_t size) {
  absl::MutexLock l(&mu_);
  IngestStatus::InFlight& f = status_.in_flight[rel];
  uint64_t delta = f.fresh || sent < f.sent ? 0 : sent - f.sent;  // a resume starts mid-file
  f.fresh = false;
  f.file = rel;
  f.sent = sent;
  f.size = size;
  status_.bytes_uploaded += delta;
  rate_window_.emplace_back(absl::Now(), status_.bytes_uploaded);
}

}  // namespace custody::ingest
