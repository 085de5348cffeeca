// Pieces the scale benchmarks share (issue 27): a synthetic agency history
// written through a node's own ledger, the process's memory, and the median
// and 99th percentile of a series of timings.
#ifndef CUSTODY_BENCH_SCALE_HISTORY_H_
#define CUSTODY_BENCH_SCALE_HISTORY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/node.h"

namespace custody::bench {

// "VmRSS" or "VmHWM" of process `pid` (0: this one), in MiB; 0 if unknown.
double MemoryMiB(const char* field, int pid = 0);

struct Stats {
  double median_ms = 0, p99_ms = 0;
};
Stats Of(std::vector<double> ms);

// Milliseconds since `t`.
double Ms(absl::Time t);

// The record each timed create makes: agency SH-MKT, matter 3, an hour ago.
v1::CreateRecordRequest NewBenchRecord();

// Writes a synthetic agency history through a node's ledger
// (Ledger::Append: each entry stored, audited and folded as any other) and
// hands every entry to its peers as a peer's PutLedger does
// (Ledger::Receive). Not thread-safe.
class History {
 public:
  static constexpr int64_t kDay = 86400LL * 1000000000LL;

  // Records start ten years ago, a minute apart.
  explicit History(custody::Node* node, std::vector<custody::Node*> peers = {})
      : node_(node), peers_(std::move(peers)), t0_(absl::ToUnixNanos(absl::Now()) - 3650 * kDay) {}
  // Goes on writing into `node` (the same folder, reopened) and `peers`.
  void Rebind(custody::Node* node, std::vector<custody::Node*> peers) {
    node_ = node;
    peers_ = std::move(peers);
  }

  uint64_t entries() const { return entries_; }
  const std::vector<std::string>& records() const { return records_; }
  const std::string& last_id() const { return last_id_; }
  const std::string& last_object() const { return last_object_; }

  // Appends one entry of `kind` about `subject` by `actor`.
  absl::Status Append(const std::string& kind, const std::string& subject, const std::string& actor,
                      std::map<std::string, std::string> fields);

  // One record's life: created, two segments, archived; every tenth has an
  // access request approved by an archive-head and a leader.
  absl::Status Record();
  // An access request by user:viewer for record `id`; its id is last_id().
  absl::Status Request(const std::string& id);

  // While timing, the time each peer took to apply each entry, in ms.
  void set_timing(bool on) { timing_ = on; }
  std::vector<double>& peer_ms() { return peer_ms_; }

 private:
  absl::Status Forward(const Digest& id);

  custody::Node* node_;
  std::vector<custody::Node*> peers_;
  bool timing_ = false;
  std::vector<double> peer_ms_;
  const int64_t t0_;
  uint64_t entries_ = 0;
  std::vector<std::string> records_;
  std::string last_id_, last_object_;
};

}  // namespace custody::bench

#endif  // CUSTODY_BENCH_SCALE_HISTORY_H_
