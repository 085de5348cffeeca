#include "server/services/station_board.h"

namespace custody {

std::vector<v1::StationRetryRequest> StationBoard::Report(v1::StationStatus status,
                                                          absl::Time now) {
  absl::MutexLock l(&mu_);
  const std::string name = status.station();
  status.set_received_unix_nanos(absl::ToUnixNanos(now));
  if (stations_.size() < kMaxStations || stations_.count(name)) stations_[name] = std::move(status);
  std::vector<v1::StationRetryRequest> out;
  auto it = retries_.find(name);
  if (it == retries_.end()) return out;
  for (const Waiting& w : it->second) {
    if (w.asked + kRetryLife > now) out.push_back(w.retry);
  }
  retries_.erase(it);
  return out;
}

void StationBoard::Retry(const v1::StationRetryRequest& retry, absl::Time now) {
  absl::MutexLock l(&mu_);
  if (retries_.size() >= kMaxStations && !retries_.count(retry.station())) return;
  retries_[retry.station()].push_back({retry, now});
}

std::vector<v1::StationStatus> StationBoard::List() const {
  absl::MutexLock l(&mu_);
  std::vector<v1::StationStatus> out;
  for (const auto& [name, s] : stations_) out.push_back(s);
  return out;
}

}  // namespace custody
