// The docking station's reports to the cluster (doc/console.md, "Stations"):
// every few seconds the daemon sends its status, the files in quarantine with
// their reasons and the last files done, to the node it uses
// (Records.StationReport). The answer carries the files people asked, in the
// web console, to put back (Records.StationRetry); the reporter puts them
// back as `custody-ingestd retry` would, and logs each with who asked.
#ifndef CUSTODY_INGEST_STATION_REPORTER_H_
#define CUSTODY_INGEST_STATION_REPORTER_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/server_pool.h"
#include "custody/v1/records.pb.h"
#include "ingest/daemon.h"

namespace custody::ingest {

// Thread-compatible: one thread runs it.
class StationReporter {
 public:
  // `status` gives the daemon's status; `addresses` are the --server nodes.
  StationReporter(std::string station, std::string watch_dir, std::string state_dir,
                  std::vector<std::string> addresses, std::function<IngestStatus()> status);

  // Sends one report and carries out the retries it brings back.
  absl::Status ReportOnce();
  // Reports every `interval` until `stop`; failures are logged and retried.
  void Run(const std::atomic<bool>* stop, absl::Duration interval);

 private:
  v1::StationStatus Build() const;
  void CarryOut(const v1::StationRetryRequest& retry);

  std::string station_, watch_, state_;
  ServerPool servers_;
  std::function<IngestStatus()> status_;
};

}  // namespace custody::ingest

#endif  // CUSTODY_INGEST_STATION_REPORTER_H_
