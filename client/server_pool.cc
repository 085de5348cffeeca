#include "client/server_pool.h"

#include <chrono>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "common/log.h"

namespace custody {

absl::StatusOr<std::vector<std::string>> ParseServers(const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& flag : flags) {
    for (absl::string_view part : absl::StrSplit(flag, ',')) {
      std::string address(absl::StripAsciiWhitespace(part));
      size_t colon = address.rfind(':');
      if (address.empty() || colon == 0 || colon == std::string::npos ||
          colon + 1 == address.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--server \"", flag, "\": \"", address,
                         "\" is not a node address (HOST:PORT, several separated by commas)"));
      }
      if (!seen.insert(address).second) {
        return absl::InvalidArgumentError(absl::StrCat("--server ", address, " is given twice"));
      }
      out.push_back(std::move(address));
    }
  }
  if (out.empty()) return absl::InvalidArgumentError("--server is required (HOST:PORT)");
  return out;
}

bool IsNodeDown(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

bool ShouldFailOver(const absl::Status& s) { return IsNodeDown(s) || absl::IsResourceExhausted(s); }

ServerPool::ServerPool(std::vector<std::string> addresses) : addresses_(std::move(addresses)) {
  for (const std::string& a : addresses_) channels_.push_back(CustodyClient::NewChannel(a));
}

ServerPool::ServerPool(std::shared_ptr<grpc::Channel> channel, std::string address)
    : addresses_({std::move(address)}), channels_({std::move(channel)}) {}

ServerPool::Server ServerPool::Current() const {
  absl::MutexLock l(&mu_);
  return Server{current_, addresses_[current_], channels_[current_]};
}

std::string ServerPool::FailOver(size_t index, const absl::Status& why) {
  absl::MutexLock l(&mu_);
  if (addresses_.size() > 1 && index == current_) {
    current_ = (current_ + 1) % addresses_.size();
    ++failovers_;
    LOG(WARNING) << "failing over from " << addresses_[index] << " to " << addresses_[current_]
                 << ": " << why;
  }
  return addresses_[current_];
}

uint64_t ServerPool::failovers() const {
  absl::MutexLock l(&mu_);
  return failovers_;
}

absl::Duration RetryPause(int round) {
  static thread_local std::mt19937 rng(std::random_device{}());
  double base = std::min(1.0, 0.25 * (1 << std::min(round - 1, 3)));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return absl::Seconds(base * jitter(rng));
}

ServerPool::Retry ServerPool::EachNodeOnce() {
  Retry retry;
  retry.budget = absl::ZeroDuration();
  retry.retryable = [](const absl::Status& s) {
    return s.code() == absl::StatusCode::kUnavailable;
  };
  return retry;
}

absl::Status ServerPool::Call(const Retry& retry,
                              const std::function<absl::Status(const Server&)>& attempt,
                              int* attempts) {
  // The budget runs on a steady clock: a step of the wall clock neither
  // stretches nor ends it.
  using Clock = std::chrono::steady_clock;
  const Clock::time_point give_up = Clock::now() + absl::ToChronoNanoseconds(retry.budget);
  std::vector<std::string> last(addresses_.size());  // the last error of each node
  size_t down_in_a_row = 0, full_in_a_row = 0;
  absl::Status s;
  int n = 1;
  for (int round = 1;; ++n) {
    if (retry.stopped && retry.stopped()) return absl::CancelledError("the call was cancelled");
    Server server = Current();
    if (attempts != nullptr) *attempts = n;
    s = attempt(server);
    if (s.ok() || !retry.retryable || !retry.retryable(s)) return s;
    last[server.index] = s.ToString();
    // A node that is down, or full, hands the call to the next one; when
    // every node is full, waiting will not help.
    const bool full = absl::IsResourceExhausted(s);
    full_in_a_row = full ? full_in_a_row + 1 : 0;
    if (full_in_a_row >= addresses_.size()) break;
    bool down = ShouldFailOver(s);
    if (down) FailOver(server.index, s);
    // The next node at once, even when the budget is spent: each gets a try.
    if (down && ++down_in_a_row < addresses_.size()) continue;
    down_in_a_row = 0;
    if (Clock::now() >= give_up) break;
    absl::Duration pause = std::min(RetryPause(round++), absl::FromChrono(give_up - Clock::now()));
    if (pause > absl::ZeroDuration()) absl::SleepFor(pause);
  }
  if (n == 1) return s;
  std::vector<std::string> tried;
  for (size_t i = 0; i < addresses_.size(); ++i) {
    if (last[i].empty()) continue;
    tried.push_back(addresses_[i].empty() ? last[i] : absl::StrCat(addresses_[i], ": ", last[i]));
  }
  return absl::Status(s.code(),
                      absl::StrCat("no node took the call in ", n, " attempts within ",
                                   absl::FormatDuration(retry.budget),
                                   "; the last error of each: ", absl::StrJoin(tried, "; ")));
}

}  // namespace custody
