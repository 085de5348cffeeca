#include "client/receive_ahead.h"

#include <utility>

namespace custody {

ReceiveAhead::ReceiveAhead(grpc::ClientReader<v1::DownloadResponse>* reader, size_t max_ahead)
    : reader_(reader), max_ahead_(max_ahead), thread_([this] { Run(); }) {}

ReceiveAhead::~ReceiveAhead() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void ReceiveAhead::Run() {
  for (;;) {
    v1::DownloadResponse msg;
    bool got = reader_->Read(&msg);  // with the lock released: it blocks
    absl::MutexLock l(&mu_);
    if (!got) break;
    queue_.push_back(std::move(msg));
    // Wait for room; a taker that is gone cancelled the call, so the next
    // Read returns at once.
    mu_.Await(absl::Condition(
        +[](ReceiveAhead* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
          return r->queue_.size() < r->max_ahead_ || r->stopping_;
        },
        this));
  }
  absl::MutexLock l(&mu_);
  ended_ = true;
}

std::optional<v1::DownloadResponse> ReceiveAhead::Next() {
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](ReceiveAhead* r)
           ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) { return !r->queue_.empty() || r->ended_; },
      this));
  if (queue_.empty()) return std::nullopt;
  v1::DownloadResponse msg = std::move(queue_.front());
  queue_.pop_front();
  return msg;
}

}  // namespace custody
