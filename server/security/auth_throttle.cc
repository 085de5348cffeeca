#include "server/security/auth_throttle.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace custody {

namespace {
const absl::Duration kWindow = absl::Minutes(10);
const absl::Duration kMaxBlock = absl::Minutes(5);
}  // namespace

std::string AuthThrottle::Address(const std::string& peer) {
  size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

absl::Status AuthThrottle::Admit(const std::string& peer, absl::Time now) {
  std::string address = Address(peer);
  absl::MutexLock l(&mu_);
  auto it = peers_.find(address);
  if (it == peers_.end() || it->second.blocked_until <= now) return absl::OkStatus();
  refused_.fetch_add(1, std::memory_order_relaxed);
  int64_t wait = absl::ToInt64Seconds(absl::Ceil(it->second.blocked_until - now, absl::Seconds(1)));
  return absl::ResourceExhaustedError(absl::StrCat("too many wrong tokens from ", address,
                                                   ": calls with a token from this address are "
                                                   "refused for another ",
                                                   wait, " s (a client certificate still works)"));
}

void AuthThrottle::ForgetQuietPeers(absl::Time now) {
  for (auto it = peers_.begin(); it != peers_.end();) {
    bool quiet = now - it->second.last > kWindow && it->second.blocked_until <= now;
    it = quiet ? peers_.erase(it) : std::next(it);
  }
}

absl::Duration AuthThrottle::Failed(const std::string& peer, absl::Time now) {
  absl::MutexLock l(&mu_);
  if (peers_.size() >= kMaxPeers) ForgetQuietPeers(now);
  if (peers_.size() >= kMaxPeers) peers_.clear();  // a flood of addresses: start over
  Record& r = peers_[Address(peer)];
  if (now - r.last > kWindow) r.failures = 0;
  r.failures = std::min(r.failures + 1, 64);
  r.last = now;
  int over = r.failures - kFreeFailures;
  if (over <= 0) return absl::ZeroDuration();
  absl::Duration block =
      std::min(absl::Seconds(1) * (int64_t{1} << std::min(over - 1, 20)), kMaxBlock);
  r.blocked_until = now + block;
  return block;
}

}  // namespace custody
