// Unbiased spot checks (article 25): which of a period's records supervisors
// check, drawn with a seed nobody could know while the period's records were
// being made: the root of a node's first signed checkpoint after the period
// ended. Pure functions, shared by the node and by `custody report sample
// --verify`, so that anyone reproduces a draw from its checkpoint.
#ifndef CUSTODY_COMMON_SPOT_CHECK_H_
#define CUSTODY_COMMON_SPOT_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/checkpoint.h"
#include "common/digest.h"

namespace custody {

// SHA-256 of "custody spot check v1\n" and, one per line, the agency, the
// period's bounds (Unix ns), and the checkpoint's origin, size and root
// (base64).
Digest SpotCheckSeed(const std::string& agency, int64_t from_unix_nanos, int64_t to_unix_nanos,
                     const Checkpoint& checkpoint);

// The positions of min(n, population) distinct items of 0..population-1, in
// draw order: a partial Fisher-Yates shuffle whose j-th swap index is
// uniform on [j, population), from SHA-256(seed || j || k) by rejection
// (k counts the rejected tries), so that every subset is equally likely.
std::vector<uint64_t> DrawSample(const Digest& seed, uint64_t population, uint64_t n);

}  // namespace custody

#endif  // CUSTODY_COMMON_SPOT_CHECK_H_
