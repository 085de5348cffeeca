#include "ingest/daemon.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/units.h"
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

Daemon::~Daemon() { workers_.reset(); }

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Create(IngestOptions options) {
  std::error_code ec;
  if (!fs::is_directory(options.watch_dir, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--watch ", options.watch_dir, " is not a folder"));
  }
  options.watch_dir = fs::canonical(options.watch_dir, ec).string();
  if (options.state_dir.empty()) options.state_dir = options.watch_dir + "/.custody-ingest";
  std::unique_ptr<Daemon> d(new Daemon(std::move(options)));
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(d->options_.state_dir);
  if (!j.ok()) return j.status();
  d->journal_ = std::move(*j);
  d->channel_ = CustodyClient::NewChannel(d->options_.server);
  d->scanner_ = std::make_unique<Scanner>(d->options_.watch_dir, d->options_.settle);
  d->workers_ = std::make_unique<ThreadPool>(std::max(1, d->options_.parallel));
  return d;
}

void Daemon::Run(const std::atomic<bool>* stop) {
  stop_ = stop;
  LOG(INFO) << "watching " << options_.watch_dir << " for " << options_.server << ", "
            << options_.parallel << " uploads at a time, journal in " << options_.state_dir;
  Loop(stop);
  workers_.reset();  // in-flight uploads stop at their next safe point
  scanner_->Scan(absl::Now(), {});  // the last status counts what is left
  {
    absl::MutexLock l(&mu_);
    status_.settling = scanner_->settling();
  }
  WriteStatus();
}

void Daemon::Loop(const std::atomic<bool>* stop) {
  Watcher watcher;
  if (!watcher.using_inotify()) LOG(WARNING) << "polling every " << options_.poll;
  while (!stop->load()) {
    watcher.Watch(scanner_->Folders());
    std::set<std::string> busy;
    {
      absl::MutexLock l(&mu_);
      busy = busy_;
    }
    std::vector<Candidate> ready = scanner_->Scan(absl::Now(), busy);
    {
      absl::MutexLock l(&mu_);
      status_.settling = scanner_->settling();
    }
    for (Candidate& c : ready) {
      {
        absl::MutexLock l(&mu_);
        busy_.insert(c.path);
      }
      workers_->Schedule([this, c = std::move(c)] { Ingest(c); });
    }
    WriteStatus();
    watcher.Wait(options_.poll);
  }
}

void Daemon::Ingest(const Candidate& c) {
  absl::Cleanup forget = [&] {
    absl::MutexLock l(&mu_);
    busy_.erase(c.path);
    status_.in_flight.erase(c.rel);
  };
  if (stop_->load()) return;
  std::optional<std::string> id = journal_->StoredId(c.key);
  if (!id) {  // not uploaded yet (or the daemon stopped before noting it)
    absl::StatusOr<RecordingMeta> meta = ReadMetadata(c.path, c.device, options_.name_pattern);
    if (!meta.ok()) return Quarantine(c, std::string(meta.status().message()));
    std::string got = Upload(c, *meta);
    if (got.empty()) return;
    absl::Status s = journal_->Stored(c.key, c.rel, got);
    if (!s.ok()) {
      LOG(ERROR) << c.rel << ": stored as " << got << " but the journal failed: " << s;
      return;  // the file stays; the next scan finds it already stored
    }
    id = got;
  }
  absl::Status s = Release(c, *id);
  if (!s.ok()) LOG(ERROR) << c.rel << ": held by the cluster as " << *id << ", but " << s;
}

std::string Daemon::Upload(const Candidate& c, const RecordingMeta& meta) {
  PutOptions o;
  o.metadata = ToObjectMetadata(meta, options_.station);
  o.metadata["source_path"] = c.rel;
  o.max_attempts = 1;  // this loop retries, for as long as it takes
  o.progress = [&](uint64_t sent, uint64_t size) { Progress(c.rel, sent, size); };
  CustodyClient client(channel_);
  for (int attempt = 1; !stop_->load(); ++attempt) {
    {
      absl::MutexLock l(&mu_);
      status_.in_flight[c.rel].fresh = true;
    }
    absl::StatusOr<PutResult> r = client.Put(c.path, o);
    absl::StatusOr<std::string> id = Judge(c, r);
    if (id.ok()) return *id;
    if (id.status().code() == absl::StatusCode::kAborted) return "";  // given up
    {
      absl::MutexLock l(&mu_);
      ++status_.retries;
      status_.in_flight[c.rel].attempts = attempt;
      status_.in_flight[c.rel].last_error = id.status().ToString();
    }
    LOG(WARNING) << c.rel << ": attempt " << attempt << " failed, will retry: " << id.status();
    SleepBackoff(attempt);
  }
  return "";
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
  if (r.ok() && r->durable_replicas >= std::max<uint32_t>(1, r->required_replicas)) {
    LOG(INFO) << c.rel << " -> " << r->id << (r->already_stored ? " (already held)" : "");
    return r->id;
  }
  absl::Status s = r.ok() ? absl::UnavailableError(absl::StrCat("the cluster holds ",
                                                                r->durable_replicas, " of ",
                                                                r->required_replicas, " replicas"))
                          : r.status();
  if (IsTheFilesFault(s)) {
    Quarantine(c, std::string(s.message()));
    return absl::AbortedError("quarantined");
  }
  return s.code() == absl::StatusCode::kAborted ? absl::UnavailableError(s.message()) : s;
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
