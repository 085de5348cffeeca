#include "server/storage/node_metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace custody {

void LatencyHistogram::Observe(absl::Duration d) {
  double s = absl::ToDoubleSeconds(d);
  size_t i = 0;
  while (i < kBounds.size() && s > kBounds[i]) ++i;
  ++buckets_[i];
  sum_micros_ += static_cast<uint64_t>(absl::ToInt64Microseconds(d));
}

std::string LatencyHistogram::Render(const std::string& name, const std::string& labels) const {
  std::string out, sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load();
    std::string le = i < kBounds.size() ? absl::StrFormat("%g", kBounds[i]) : "+Inf";
    absl::StrAppend(&out, name, "_bucket{", labels, sep, "le=\"", le, "\"} ", cumulative, "\n");
  }
  std::string braces = labels.empty() ? "" : absl::StrCat("{", labels, "}");
  absl::StrAppend(&out, name, "_sum", braces, " ",
                  absl::StrFormat("%.6f", sum_micros_.load() / 1e6), "\n");
  absl::StrAppend(&out, name, "_count", braces, " ", cumulative, "\n");
  return out;
}

void NodeMetrics::UploadDone(uint64_t bytes, absl::Duration took, bool ok) {
  upload_bytes_ += bytes;
  ++(ok ? uploads_ok_ : uploads_failed_);
  if (ok) upload_seconds_.Observe(took);
}

void NodeMetrics::DownloadDone(uint64_t bytes, absl::Duration took, bool ok) {
  download_bytes_ += bytes;
  ++(ok ? downloads_ok_ : downloads_failed_);
  if (ok) download_seconds_.Observe(took);
}

void NodeMetrics::RepairRoundDone(const v1::RepairReport& r) {
  ++repair_rounds_;
  repair_chunks_ += r.chunks_pushed();
  repair_manifests_ += r.manifests_pushed();
  repair_bytes_ += r.bytes_pushed();
}

namespace {
void Counter(std::string* out, const char* name, const char* help, uint64_t v) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " counter\n", name, " ", v,
                  "\n");
}
}  // namespace

std::string NodeMetrics::Render() const {
  std::string out;
  Counter(&out, "custody_ingest_bytes_total", "File bytes received by upload streams.",
          upload_bytes_);
  Counter(&out, "custody_live_bytes_total", "File bytes received by live streams, durable.",
          live_bytes_);
  Counter(&out, "custody_read_bytes_total", "File bytes sent by download streams.",
          download_bytes_);
  absl::StrAppend(&out, "# HELP custody_uploads_total Upload streams that ended, by result.\n",
                  "# TYPE custody_uploads_total counter\n", "custody_uploads_total{result=\"ok\"} ",
                  uploads_ok_.load(), "\ncustody_uploads_total{result=\"failed\"} ",
                  uploads_failed_.load(), "\n");
  Counter(&out, "custody_uploads_answered_from_digest_total",
          "Uploads answered from the hash their header named: the node held the object.",
          answered_from_digest_);
  Counter(&out, "custody_upload_bytes_not_sent_total",
          "File bytes clients did not send because the node held the object.", bytes_not_sent_);
  absl::StrAppend(&out, "# HELP custody_downloads_total Download streams that ended, by result.\n",
                  "# TYPE custody_downloads_total counter\n",
                  "custody_downloads_total{result=\"ok\"} ", downloads_ok_.load(),
                  "\ncustody_downloads_total{result=\"failed\"} ", downloads_failed_.load(), "\n");
  absl::StrAppend(&out, "# HELP custody_upload_seconds Duration of successful upload streams.\n",
                  "# TYPE custody_upload_seconds histogram\n",
                  upload_seconds_.Render("custody_upload_seconds", ""));
  absl::StrAppend(&out, "# HELP custody_download_seconds Duration of successful downloads.\n",
                  "# TYPE custody_download_seconds histogram\n",
                  download_seconds_.Render("custody_download_seconds", ""));
  Counter(&out, "custody_corrupt_chunks_found_total",
          "Chunks whose stored bytes did not match their hash (reads and scrubs).",
          corrupt_chunks_);
  Counter(&out, "custody_zone_degraded_chunks_total",
          "Chunks stored with their copies in too few zones (chunk.zone-degraded); "
          "anti-entropy moves them home when the zone is back.",
          zone_degraded_);
  Counter(&out, "custody_record_filing_failures_total",
          "Footage stored that could not be filed under a record (record.filing-failed).",
          filing_failures_);
  Counter(&out, "custody_chunks_repaired_total",
          "Corrupt chunks the scrubber replaced with a healthy copy from another node.",
          chunks_repaired_);
  Counter(&out, "custody_scrub_bytes_total", "Chunk bytes re-read and re-hashed by the scrubber.",
          scrub_bytes_);
  Counter(&out, "custody_repair_rounds_total", "Anti-entropy rounds run.", repair_rounds_);
  Counter(&out, "custody_repair_chunks_pushed_total",
          "Chunks copied to home nodes that lacked them.", repair_chunks_);
  Counter(&out, "custody_repair_manifests_pushed_total",
          "Manifests copied to home nodes that lacked them.", repair_manifests_);
  Counter(&out, "custody_repair_bytes_pushed_total", "Chunk bytes copied by anti-entropy.",
          repair_bytes_);
  if (clock_checked_) {
    absl::StrAppend(&out,
                    "# HELP custody_clock_offset_seconds This node's clock minus the median of "
                    "the cluster's clocks, at the last check.\n"
                    "# TYPE custody_clock_offset_seconds gauge\ncustody_clock_offset_seconds ",
                    clock_offset_nanos_.load() / 1e9,
                    "\n# HELP custody_clock_skewed 1 when this node's clock is off by more than "
                    "the bound (cluster status says by how much).\n"
                    "# TYPE custody_clock_skewed gauge\ncustody_clock_skewed ",
                    clock_skewed_.load() ? 1 : 0, "\n");
  }
  return out;
}

}  // namespace custody
