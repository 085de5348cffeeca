// What the block device under a folder did: sectors read and written and
// the milliseconds it was busy, from /proc/diskstats (Linux).
#ifndef CUSTODY_BENCH_DISK_STATS_H_
#define CUSTODY_BENCH_DISK_STATS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace custody::bench {

struct DiskStats {
  uint64_t read_bytes = 0, written_bytes = 0;
  uint64_t busy_ms = 0;  // io_ticks: time with at least one request in flight
  DiskStats operator-(const DiskStats& o) const {
    return {read_bytes - o.read_bytes, written_bytes - o.written_bytes, busy_ms - o.busy_ms};
  }
};

// The counters of the device that holds `dir` (a partition's own line when
// it is on a partition). NOT_FOUND when /proc/diskstats has no line for that
// device (tmpfs, overlayfs and the like).
absl::StatusOr<DiskStats> ReadDiskStats(const std::string& dir);

}  // namespace custody::bench

#endif  // CUSTODY_BENCH_DISK_STATS_H_
