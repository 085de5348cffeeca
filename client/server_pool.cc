#include "ingest/servers.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/client.h"
#include "common/log.h"

namespace custody::ingest {

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

ServerPool::ServerPool(std::vector<std::string> addresses) : addresses_(std::move(addresses)) {
  for (const std::string& a : addresses_) channels_.push_back(CustodyClient::NewChannel(a));
}

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

}  // namespace custody::ingest
