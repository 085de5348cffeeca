#include "common/thread_pool.h"

#include <utility>

namespace custody {

ThreadPool::ThreadPool(int n) {
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
}

ThreadPool::~ThreadPool() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  for (auto& t : threads_) t.join();
}

void ThreadPool::Schedule(absl::AnyInvocable<void() &&> task) {
  absl::MutexLock l(&mu_);
  queue_.push_back(std::move(task));
}

void ThreadPool::Loop() {
  while (true) {
    absl::AnyInvocable<void() &&> task;
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(
          +[](ThreadPool* p)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) { return p->stopping_ || !p->queue_.empty(); },
          this));
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(task)();
  }
}

void SerialExecutor::Schedule(absl::AnyInvocable<void() &&> task) {
  bool start = false;
  {
    absl::MutexLock l(&mu_);
    queue_.push_back(std::move(task));
    if (!running_) {
      running_ = true;
      start = true;
    }
  }
  if (start) {
    pool_->Schedule([self = shared_from_this()] { self->RunOne(); });
  }
}

void SerialExecutor::RunOne() {
  absl::AnyInvocable<void() &&> task;
  {
    absl::MutexLock l(&mu_);
    task = std::move(queue_.front());
    queue_.pop_front();
  }
  std::move(task)();
  absl::MutexLock l(&mu_);
  if (queue_.empty()) {
    running_ = false;
    return;
  }
  pool_->Schedule([self = shared_from_this()] { self->RunOne(); });
}

}  // namespace custody
