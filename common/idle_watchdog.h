// Ticks registered callbacks about once a second, so that streams can end
// themselves when a client stalls without a deadline of its own.
#ifndef CUSTODY_COMMON_IDLE_WATCHDOG_H_
#define CUSTODY_COMMON_IDLE_WATCHDOG_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace custody {

// Thread-safe. Ticks run on the watchdog's thread and must not block.
class IdleWatchdog {
 public:
  explicit IdleWatchdog(absl::Duration timeout);
  ~IdleWatchdog();

  absl::Duration timeout() const { return timeout_; }
  // Calls `tick` every second until `alive` has expired.
  void Add(std::weak_ptr<void> alive, absl::AnyInvocable<void()> tick);

 private:
  struct Entry {
    std::weak_ptr<void> alive;
    absl::AnyInvocable<void()> tick;
  };
  void Loop();

  absl::Duration timeout_;
  absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace custody

#endif  // CUSTODY_COMMON_IDLE_WATCHDOG_H_
