// A fixed-size thread pool and a serial executor (strand) on top of it.
#ifndef CUSTODY_COMMON_THREAD_POOL_H_
#define CUSTODY_COMMON_THREAD_POOL_H_

#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace custody {

// Runs tasks on `n` threads. Thread-safe. The destructor runs every task
// already scheduled, then joins.
class ThreadPool {
 public:
  explicit ThreadPool(int n);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Schedule(absl::AnyInvocable<void() &&> task);

 private:
  void Loop();

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// Runs its tasks one at a time, in the order scheduled, on a shared pool.
// Thread-safe. Must outlive its tasks: destroy it only after the last task
// has run (e.g. hold it in a shared_ptr captured by the tasks).
class SerialExecutor : public std::enable_shared_from_this<SerialExecutor> {
 public:
  explicit SerialExecutor(ThreadPool* pool) : pool_(pool) {}

  void Schedule(absl::AnyInvocable<void() &&> task);

 private:
  void RunOne();

  ThreadPool* pool_;
  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace custody

#endif  // CUSTODY_COMMON_THREAD_POOL_H_
