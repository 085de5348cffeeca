// Limits guessing of bearer tokens (doc/security.md, "Failed tokens") without
// ever holding a request thread. Each address (a gRPC peer without its port)
// has a budget of kFreeFailures wrong tokens within a 10-minute window; they
// are refused at once with UNAUTHENTICATED. The failure beyond the budget
// blocks the address, for 1 s doubling with every further failure up to
// 5 minutes; while it is blocked every call from it that carries a token is
// refused at once with RESOURCE_EXHAUSTED, before the token is looked at.
// Calls with a client certificate are authenticated by TLS and not counted.
// Thread-safe.
#ifndef CUSTODY_SERVER_SECURITY_AUTH_THROTTLE_H_
#define CUSTODY_SERVER_SECURITY_AUTH_THROTTLE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace custody {

class AuthThrottle {
 public:
  static constexpr int kFreeFailures = 5;

  // OK, or RESOURCE_EXHAUSTED naming the address and when to retry while
  // `peer`'s address is blocked.
  absl::Status Admit(const std::string& peer, absl::Time now = absl::Now());

  // Records a wrong token from `peer`. Returns the length of the block this
  // failure starts, or zero when the address is still within its budget.
  absl::Duration Failed(const std::string& peer, absl::Time now = absl::Now());

  // Calls refused by Admit since the node started.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

  // The address part of "ipv4:1.2.3.4:5678" or "ipv6:[::1]:5678".
  static std::string Address(const std::string& peer);

 private:
  struct Record {
    int failures = 0;
    absl::Time last;
    absl::Time blocked_until;
  };
  static constexpr size_t kMaxPeers = 10000;

  void ForgetQuietPeers(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<std::string, Record> peers_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> refused_{0};
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SECURITY_AUTH_THROTTLE_H_
