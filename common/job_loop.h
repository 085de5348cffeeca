// A background job on its own thread, one run at a time: periodically, and
// whenever someone asks (RunNow waits for a run that starts after the call).
// Anti-entropy rounds and scrub passes are such jobs.
#ifndef CUSTODY_COMMON_JOB_LOOP_H_
#define CUSTODY_COMMON_JOB_LOOP_H_

#include <functional>
#include <optional>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace custody {

// Thread-safe.
template <typename Report>
class JobLoop {
 public:
  // `run` does one run. `next_due(last)` says when the next unrequested run
  // is due after `last` (nullopt: only on request).
  using NextDue = std::function<std::optional<absl::Time>(const std::optional<Report>& last)>;
  JobLoop(std::function<Report()> run, NextDue next_due)
      : run_(std::move(run)), next_due_(std::move(next_due)) {}
  ~JobLoop() { Stop(); }

  // Starts the thread; `last` is the report of a run before a restart.
  void Start(std::optional<Report> last = std::nullopt) {
    {
      absl::MutexLock l(&mu_);
      last_ = std::move(last);
    }
    thread_ = std::thread([this] { Loop(); });
  }
  // Ends waits in RunNow, lets a run in progress end (runs should poll
  // stopping()), and joins the thread. Idempotent.
  void Stop() {
    {
      absl::MutexLock l(&mu_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }
  bool stopping() const {
    absl::MutexLock l(&mu_);
    return stopping_;
  }
  // Runs the job after this call and returns its report; nullopt if the
  // loop stops first.
  std::optional<Report> RunNow() {
    absl::MutexLock l(&mu_);
    uint64_t want = ++requested_;
    auto done = [this, want]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || finished_ >= want; };
    mu_.Await(absl::Condition(&done));
    if (finished_ < want) return std::nullopt;
    return last_;
  }
  std::optional<Report> last() const {
    absl::MutexLock l(&mu_);
    return last_;
  }

 private:
  void Loop() {
    while (true) {
      uint64_t serving;
      {
        absl::MutexLock l(&mu_);
        auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || requested_ > finished_;
        };
        std::optional<absl::Time> due = next_due_(last_);
        if (due) {
          mu_.AwaitWithDeadline(absl::Condition(&wake), *due);
        } else {
          mu_.Await(absl::Condition(&wake));
        }
        if (stopping_) return;
        serving = requested_;
      }
      Report report = run_();
      absl::MutexLock l(&mu_);
      last_ = std::move(report);
      finished_ = serving;
    }
  }

  std::function<Report()> run_;
  NextDue next_due_;
  mutable absl::Mutex mu_;
  uint64_t requested_ ABSL_GUARDED_BY(mu_) = 0;  // runs asked for
  uint64_t finished_ ABSL_GUARDED_BY(mu_) = 0;   // the request count the last run served
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<Report> last_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace custody

#endif  // CUSTODY_COMMON_JOB_LOOP_H_
