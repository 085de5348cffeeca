#include "replication/offsite/ordered_fetcher.h"

#include <algorithm>

namespace custody {

OrderedFetcher::OrderedFetcher(FetchFn fetch, int channels, std::vector<Digest> keys, size_t window)
    : fetch_(std::move(fetch)), keys_(std::move(keys)), window_(std::max<size_t>(window, 1)) {
  int n = static_cast<int>(std::min<size_t>(std::max(channels, 1), keys_.size()));
  for (int c = 0; c < n; ++c) fetchers_.emplace_back([this, c] { Fetch(c); });
}

OrderedFetcher::~OrderedFetcher() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  for (std::thread& t : fetchers_) t.join();
}

void OrderedFetcher::Fetch(int channel) {
  while (true) {
    size_t i;
    {
      absl::MutexLock l(&mu_);
      auto may_fetch = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || next_fetch_ >= keys_.size() || next_fetch_ < next_out_ + window_;
      };
      mu_.Await(absl::Condition(&may_fetch));
      if (stop_ || next_fetch_ >= keys_.size()) return;
      i = next_fetch_++;
    }
    absl::StatusOr<std::string> got = fetch_(channel, keys_[i]);
    absl::MutexLock l(&mu_);
    ready_.emplace(i, std::move(got));
  }
}

absl::StatusOr<std::string> OrderedFetcher::Next() {
  absl::MutexLock l(&mu_);
  if (next_out_ >= keys_.size()) {
    return absl::OutOfRangeError("every blob of the sequence was handed out");
  }
  auto arrived = [this]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ready_.count(next_out_) > 0; };
  mu_.Await(absl::Condition(&arrived));
  auto it = ready_.find(next_out_);
  absl::StatusOr<std::string> out = std::move(it->second);
  ready_.erase(it);
  ++next_out_;
  return out;
}

}  // namespace custody
