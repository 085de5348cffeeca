// The segment chain of a live upload (custody/v1/live.proto, doc/live.md):
// chain(0) is 32 zero bytes; after a segment of bytes D at offset O,
// chain = SHA-256(chain ‖ O as 8 big-endian bytes ‖ SHA-256(D)). The camera
// and the node compute it each on their own, so a dropped, repeated or
// reordered segment does not follow. Thread-safe (pure functions).
#ifndef CUSTODY_COMMON_LIVE_CHAIN_H_
#define CUSTODY_COMMON_LIVE_CHAIN_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/base/internal/endian.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"

namespace custody {

// The largest segment a live stream carries: a gRPC message of the node
// stays under its 2 MiB limit.
constexpr size_t kMaxLiveSegment = 1u << 20;

inline std::string FirstLiveChain() { return std::string(32, '\0'); }

inline std::string NextLiveChain(absl::string_view chain, uint64_t offset, absl::string_view data) {
  char be[8];
  absl::big_endian::Store64(be, offset);
  Sha256 h;
  h.Update(chain);
  h.Update(be, sizeof(be));
  h.Update(Digest::Of(data).Raw());
  return std::string(h.Finish().Raw());
}

}  // namespace custody

#endif  // CUSTODY_COMMON_LIVE_CHAIN_H_
