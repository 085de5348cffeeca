// The playbacks a node has put on record (DownloadRequest.playback): the web
// console seeks within one viewing with many ranged reads, and the register
// should show one viewing, not one line per seek.
#ifndef CUSTODY_SERVER_SERVICES_PLAYBACKS_H_
#define CUSTODY_SERVER_SERVICES_PLAYBACKS_H_

#include <deque>
#include <map>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace custody {

// Thread-safe. Remembers at most kMax playbacks for kWindow each; a
// forgotten one (an old one, or any after a restart) is recorded again,
// never lost.
class Playbacks {
 public:
  static constexpr size_t kMax = 10000;
  static constexpr absl::Duration kWindow = absl::Hours(1);

  // True when `key` (viewer, object, playback id) was not recorded within
  // kWindow before `now`: the caller records this read; it is remembered.
  bool FirstRead(const std::string& key, absl::Time now) {
    absl::MutexLock l(&mu_);
    while (!order_.empty() && (order_.size() >= kMax || order_.front().first + kWindow <= now)) {
      auto it = seen_.find(order_.front().second);
      if (it != seen_.end() && it->second == order_.front().first) seen_.erase(it);
      order_.pop_front();
    }
    auto it = seen_.find(key);
    if (it != seen_.end() && it->second + kWindow > now) return false;
    seen_[key] = now;
    order_.emplace_back(now, key);
    return true;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, absl::Time> seen_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, std::string>> order_ ABSL_GUARDED_BY(mu_);  // oldest first
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_PLAYBACKS_H_
