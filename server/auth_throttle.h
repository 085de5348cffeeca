// Slows down repeated failed authentications from one peer (doc/security.md):
// each failure from an address within the last 10 minutes doubles the wait
// before the refusal is answered, from 100 ms up to 5 s. Thread-safe.
#ifndef CUSTODY_SERVER_AUTH_THROTTLE_H_
#define CUSTODY_SERVER_AUTH_THROTTLE_H_

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace custody {

class AuthThrottle {
 public:
  // Records a failure from `peer` (a gRPC peer string; the port is ignored)
  // and returns how long to wait before answering it.
  absl::Duration Failed(const std::string& peer, absl::Time now = absl::Now());

  // The address part of "ipv4:1.2.3.4:5678" or "ipv6:[::1]:5678".
  static std::string Address(const std::string& peer);

 private:
  struct Record {
    int failures = 0;
    absl::Time last;
  };
  static constexpr size_t kMaxPeers = 10000;

  absl::Mutex mu_;
  std::map<std::string, Record> peers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custody

#endif  // CUSTODY_SERVER_AUTH_THROTTLE_H_
