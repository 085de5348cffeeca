// Keeps repeated audit events of one kind from flooding the trail: for each
// key (a peer, an address) the first event is recorded at once, and after it
// at most one per `every`, which then says how many it stands for.
// Thread-safe.
#ifndef CUSTODY_COMMON_EVENT_THROTTLE_H_
#define CUSTODY_COMMON_EVENT_THROTTLE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace custody {

class EventThrottle {
 public:
  explicit EventThrottle(absl::Duration every) : every_(every) {}

  // Counts one occurrence for `key`. Returns how many occurrences (this one
  // included) the event to record now stands for, or nullopt when none is
  // due yet.
  std::optional<uint64_t> Admit(const std::string& key, absl::Time now = absl::Now()) {
    absl::MutexLock l(&mu_);
    if (keys_.size() > kMaxKeys) keys_.clear();  // a flood of keys: start over
    Key& k = keys_[key];
    ++k.pending;
    if (k.recorded_once && now - k.last < every_) return std::nullopt;
    k.recorded_once = true;
    k.last = now;
    uint64_t n = k.pending;
    k.pending = 0;
    return n;
  }

 private:
  struct Key {
    bool recorded_once = false;
    absl::Time last;
    uint64_t pending = 0;
  };
  static constexpr size_t kMaxKeys = 10000;

  const absl::Duration every_;
  absl::Mutex mu_;
  std::map<std::string, Key> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custody

#endif  // CUSTODY_COMMON_EVENT_THROTTLE_H_
