#include "common/idle_watchdog.h"

namespace custody {

IdleWatchdog::IdleWatchdog(absl::Duration timeout)
    : timeout_(timeout), thread_([this] { Loop(); }) {}

IdleWatchdog::~IdleWatchdog() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void IdleWatchdog::Add(std::weak_ptr<void> alive, absl::AnyInvocable<void()> tick) {
  absl::MutexLock l(&mu_);
  entries_.push_back(Entry{std::move(alive), std::move(tick)});
}

void IdleWatchdog::Loop() {
  absl::MutexLock l(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(1))) {
    std::vector<Entry> live;
    for (Entry& e : entries_) {
      if (e.alive.expired()) continue;
      e.tick();
      live.push_back(std::move(e));
    }
    entries_ = std::move(live);
  }
}

}  // namespace custody
