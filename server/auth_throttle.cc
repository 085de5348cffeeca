#include "server/auth_throttle.h"

#include <algorithm>

namespace custody {

std::string AuthThrottle::Address(const std::string& peer) {
  size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

absl::Duration AuthThrottle::Failed(const std::string& peer, absl::Time now) {
  const absl::Duration window = absl::Minutes(10);
  absl::MutexLock l(&mu_);
  if (peers_.size() >= kMaxPeers) {  // forget those quiet for a while
    for (auto it = peers_.begin(); it != peers_.end();) {
      it = now - it->second.last > window ? peers_.erase(it) : std::next(it);
    }
    if (peers_.size() >= kMaxPeers) peers_.clear();
  }
  Record& r = peers_[Address(peer)];
  if (now - r.last > window) r.failures = 0;
  r.failures = std::min(r.failures + 1, 16);
  r.last = now;
  return std::min(absl::Milliseconds(100) * (1 << (r.failures - 1)), absl::Seconds(5));
}

}  // namespace custody
