// What a node counts for Prometheus (`custodyd --metrics-listen`): bytes and
// latency of uploads and downloads, re-puts answered from a hash, corrupt
// chunks found, anti-entropy copies and scrub progress. Thread-safe:
// counters are atomics. Gauges (objects, volume bytes, free space, map
// version) are read from the node when rendered.
#ifndef CUSTODY_SERVER_STORAGE_NODE_METRICS_H_
#define CUSTODY_SERVER_STORAGE_NODE_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "custody/v1/custody.pb.h"

namespace custody {

// A latency histogram with fixed buckets (seconds).
class LatencyHistogram {
 public:
  static constexpr std::array<double, 9> kBounds = {0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300};
  void Observe(absl::Duration d);
  // Prometheus text lines for `name` (buckets, sum, count), with `labels`
  // ("" or e.g. `result="ok"`).
  std::string Render(const std::string& name, const std::string& labels) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // the last is +Inf
  std::atomic<uint64_t> sum_micros_{0};
};

class NodeMetrics {
 public:
  // One upload or download stream ended: its file bytes and how long it took.
  void UploadDone(uint64_t bytes, absl::Duration took, bool ok);
  void DownloadDone(uint64_t bytes, absl::Duration took, bool ok);
  // An upload answered from the hash its header named (the node held the
  // object): `size` file bytes the client did not send.
  void AnsweredFromDigest(uint64_t size) {
    ++answered_from_digest_;
    bytes_not_sent_ += size;
  }
  // A live segment durable (server/objects/live_upload.h): its bytes.
  void LiveBytes(uint64_t n) { live_bytes_ += n; }
  void CorruptChunkFound() { ++corrupt_chunks_; }
  // A chunk stored with its copies in too few zones (chunk.zone-degraded).
  void ZoneDegraded() { ++zone_degraded_; }
  // Footage stored that could not be filed under a record (record.filing-failed).
  void FilingFailed() { ++filing_failures_; }
  // Anti-entropy and the scrubber.
  void RepairRoundDone(const v1::RepairReport& r);
  void Scrubbed(uint64_t bytes) { scrub_bytes_ += bytes; }
  void ChunkRepaired() { ++chunks_repaired_; }
  // This node's clock against the cluster's (server/services/clock_watch.h).
  void ClockChecked(int64_t offset_nanos, bool skewed) {
    clock_offset_nanos_ = offset_nanos;
    clock_skewed_ = skewed;
    clock_checked_ = true;
  }

  // The counters and histograms, in Prometheus text format.
  std::string Render() const;

 private:
  std::atomic<uint64_t> upload_bytes_{0}, download_bytes_{0}, corrupt_chunks_{0},
      filing_failures_{0}, zone_degraded_{0}, live_bytes_{0};
  std::atomic<uint64_t> repair_rounds_{0}, repair_chunks_{0}, repair_manifests_{0},
      repair_bytes_{0}, scrub_bytes_{0}, chunks_repaired_{0};
  std::atomic<uint64_t> answered_from_digest_{0}, bytes_not_sent_{0};
  std::atomic<uint64_t> uploads_ok_{0}, uploads_failed_{0}, downloads_ok_{0}, downloads_failed_{0};
  LatencyHistogram upload_seconds_, download_seconds_;
  std::atomic<int64_t> clock_offset_nanos_{0};
  std::atomic<bool> clock_skewed_{false}, clock_checked_{false};
};

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_NODE_METRICS_H_
