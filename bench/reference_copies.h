// The references a sync and a restore are measured against (bench/README.md):
// plain copies of the same bytes on the same machine, with no hashing and no
// protocol. Not thread-safe against each other: run one at a time.
#ifndef CUSTODY_BENCH_REFERENCE_COPIES_H_
#define CUSTODY_BENCH_REFERENCE_COPIES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace custody::bench {

// Sends the files' bytes over one loopback TCP connection to a receiver
// that writes them to `sink` (through the page cache) and fdatasyncs it at
// the end; returns the seconds taken. `cold`: the files are read with
// O_DIRECT, 4 MiB at a time, from the disk rather than the cache. `sink` is
// removed afterwards.
absl::StatusOr<double> TcpCopy(const std::vector<std::string>& files, const std::string& sink,
                               bool cold = false);

// The disk's own ceiling for a sync on one machine: the files read with
// O_DIRECT, 4 MiB at a time, while as many bytes are written at once, with
// O_DIRECT, to `sink`, fdatasynced every 32 MiB as the peer's committer
// groups are; returns the seconds until both are done. Every synced byte
// costs the one disk a read (the node's volume) and a durable write (the
// peer's). `sink` is removed afterwards.
absl::StatusOr<double> DiskReadWhileWriting(const std::vector<std::string>& files,
                                            const std::string& sink);

}  // namespace custody::bench

#endif  // CUSTODY_BENCH_REFERENCE_COPIES_H_
