// Streamed generation of pseudo-random test files for the benchmarks.
#ifndef CUSTODY_BENCH_TEST_DATA_H_
#define CUSTODY_BENCH_TEST_DATA_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace custody::bench {

// Writes `size` pseudo-random bytes (xoshiro256** seeded from `seed` with
// splitmix64; distinct seeds give distinct files) to a new file at `path`,
// 1 MiB at a time, and fsyncs it so its write-back does not disturb later
// measurements. Returns its custody id, "sha256:<hex>", hashed on the way.
absl::StatusOr<std::string> WriteRandomFile(const std::string& path, uint64_t size, uint64_t seed);

}  // namespace custody::bench

#endif  // CUSTODY_BENCH_TEST_DATA_H_
