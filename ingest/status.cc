// Daemon: the status it reports (STATE/status.json, the terminal line).
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/units.h"
#include "ingest/daemon.h"

namespace custody::ingest {

using json = nlohmann::json;

std::string IngestStatus::ToJson() const {
  json files = json::array();
  for (const auto& [rel, f] : in_flight) {
    files.push_back({{"file", rel},
                     {"server", f.server},
                     {"sent", f.sent},
                     {"size", f.size},
                     {"attempts", f.attempts},
                     {"last_error", f.last_error}});
  }
  json stuck_files = json::object();
  for (const auto& [rel, why] : stuck) stuck_files[rel] = why;
  json recent = json::array();
  for (const DoneFile& f : recent_done) {
    recent.push_back({{"file", f.path},
                      {"id", f.id},
                      {"record", f.record},
                      {"filing_problem", f.filing_problem},
                      {"when", absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(f.time),
                                                absl::UTCTimeZone())}});
  }
  json j = {{"running", running},
            {"pid", pid},
            {"watch", watch_dir},
            {"servers", servers},
            {"server", server},
            {"failovers", failovers},
            {"ignored", ignored},
            {"stuck", stuck_files},
            {"settling", settling},
            {"queued", queued},
            {"awaiting_dock_manifest", awaiting_dock_manifest},
            {"dock_manifest_problem", dock_manifest_problem},
            {"in_flight", files},
            {"done", done},
            {"quarantined", quarantined},
            {"not_filed", not_filed},
            {"recent_done", recent},
            {"bytes_uploaded", bytes_uploaded},
            {"retries", retries},
            {"bytes_per_second", bytes_per_second},
            {"updated", absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone())}};
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string IngestStatus::ToPrometheus() const {
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, uint64_t v,
                       const std::string& labels = "") {
    if (labels.empty() || labels.find("settling") != std::string::npos) {
      absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
    }
    absl::StrAppend(&out, name, labels, " ", v, "\n");
  };
  const char* files = "custody_ingest_files";
  const char* help = "Docked files the daemon is working on, by state.";
  metric(files, "gauge", help, settling, "{state=\"settling\"}");
  metric(files, "gauge", help, queued, "{state=\"queued\"}");
  metric(files, "gauge", help, awaiting_dock_manifest, "{state=\"awaiting_dock_manifest\"}");
  metric(files, "gauge", help, in_flight.size(), "{state=\"in_flight\"}");
  metric("custody_ingest_files_done_total", "counter",
         "Files the cluster holds on R nodes and the station released.", done);
  metric("custody_ingest_files_quarantined_total", "counter",
         "Files moved to quarantine/ with a reason.", quarantined);
  metric("custody_ingest_files_not_filed_total", "counter",
         "Done files the cluster stored but could not file under a record (record.filing-failed).",
         not_filed);
  metric("custody_ingest_uploaded_bytes_total", "counter", "File bytes sent by this run.",
         bytes_uploaded);
  metric("custody_ingest_upload_retries_total", "counter",
         "Upload attempts that failed and were retried, this run.", retries);
  metric("custody_ingest_failovers_total", "counter",
         "Switches to the next --server because the one in use was down, this run.", failovers);
  metric("custody_ingest_upload_bytes_per_second", "gauge",
         "Upload rate over the last few seconds.", static_cast<uint64_t>(bytes_per_second));
  return out;
}

IngestStatus Daemon::status() const {
  absl::MutexLock l(&mu_);
  IngestStatus s = status_;
  s.pid = getpid();
  s.queued = busy_.size() > s.in_flight.size() ? busy_.size() - s.in_flight.size() : 0;
  s.done = journal_->done_total();
  s.quarantined = journal_->quarantined_total();
  s.not_filed = journal_->not_filed_total();
  s.recent_done = journal_->RecentDone();
  s.watch_dir = options_.watch_dir;
  s.servers = servers_->addresses();
  s.server = servers_->Current().address;
  s.failovers = servers_->failovers();
  // The rate over the last 5 s of progress reports.
  absl::Time now = absl::Now();
  if (!rate_window_.empty() && now - rate_window_.back().first < absl::Seconds(5)) {
    const auto& first = rate_window_.front();
    double secs = std::max(1.0, absl::ToDoubleSeconds(now - first.first));
    s.bytes_per_second = (status_.bytes_uploaded - first.second) / secs;
  }
  return s;
}

void Daemon::WriteStatus() {
  {
    absl::MutexLock l(&mu_);
    absl::Time cutoff = absl::Now() - absl::Seconds(5);
    while (rate_window_.size() > 1 && rate_window_.front().first < cutoff) rate_window_.pop_front();
  }
  IngestStatus s = status();
  absl::Status w = ReplaceFile(options_.state_dir + "/status.json", s.ToJson());
  if (!w.ok()) LOG(WARNING) << "writing the status file: " << w;
  if (isatty(STDERR_FILENO)) {
    std::fprintf(stderr,
                 "\r\033[K%llu settling, %zu in flight, %llu queued, %llu done, %llu "
                 "quarantined, %s/s",
                 static_cast<unsigned long long>(s.settling), s.in_flight.size(),
                 static_cast<unsigned long long>(s.queued), static_cast<unsigned long long>(s.done),
                 static_cast<unsigned long long>(s.quarantined),
                 FormatBytes(static_cast<uint64_t>(s.bytes_per_second)).c_str());
  }
}

}  // namespace custody::ingest
