// The docking stations' reports (doc/console.md, "Stations"): each
// custody-ingestd sends its status every few seconds (Records.StationReport)
// to the node it uses; a person's request to put quarantined files back
// (Records.StationRetry, audited) waits here until the station's next report
// takes it. Kept in memory: after a restart the next report fills it again,
// and a retry not yet taken is asked again.
#ifndef CUSTODY_SERVER_SERVICES_STATION_BOARD_H_
#define CUSTODY_SERVER_SERVICES_STATION_BOARD_H_

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "custody/v1/records.pb.h"

namespace custody {

// Thread-safe.
class StationBoard {
 public:
  static constexpr size_t kMaxStations = 1000;
  static constexpr absl::Duration kRetryLife = absl::Hours(1);

  // Keeps `status` (stamped with `now`) and returns the retries waiting for
  // its station, which are then forgotten here.
  std::vector<v1::StationRetryRequest> Report(v1::StationStatus status, absl::Time now);
  // Queues `retry` for its station's next report.
  void Retry(const v1::StationRetryRequest& retry, absl::Time now);
  // Every station's last report to this node.
  std::vector<v1::StationStatus> List() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, v1::StationStatus> stations_ ABSL_GUARDED_BY(mu_);
  struct Waiting {
    v1::StationRetryRequest retry;
    absl::Time asked;
  };
  std::map<std::string, std::vector<Waiting>> retries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_STATION_BOARD_H_
