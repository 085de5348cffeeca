// custodyd at run time: the node, its gRPC server with every service the
// node answers, and the metrics endpoint; started together, stopped in order.
#ifndef CUSTODY_SERVER_DAEMON_H_
#define CUSTODY_SERVER_DAEMON_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/job_loop.h"
#include "common/metrics_http.h"
#include "server/daemon_flags.h"
#include "server/node.h"
#include "server/services/access_service.h"
#include "server/services/audit_service.h"
#include "server/services/custody_service.h"
#include "server/services/live_service.h"
#include "server/services/records_service.h"
#include "server/services/replica_service.h"

namespace custody {

class Daemon {
 public:
  // Opens the node of `config`, then serves it. `config`, `offsite` and
  // `witness` must outlive the daemon.
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const DaemonConfig& config,
                                                       OffsiteFlags* offsite,
                                                       WitnessFlags* witness);
  // Stops serving (in-flight calls get 5 s), then the snapshot schedule, then
  // closes the node.
  ~Daemon();

 private:
  Daemon(const DaemonConfig& config, OffsiteFlags* offsite, WitnessFlags* witness)
      : config_(config), offsite_(offsite), witness_(witness) {}
  // Registers every service with `builder`, and the server's settings.
  void Configure(grpc::ServerBuilder* builder, int* port);
  absl::Status StartMetrics();
  void StartLiveTimeouts();
  void LogStart(int port) const;
  // The public services' names, for the health service.
  std::vector<const char*> HealthNames() const;

  const DaemonConfig& config_;
  OffsiteFlags* offsite_;
  WitnessFlags* witness_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<CustodyService> custody_;
  std::unique_ptr<AuditService> audit_;
  std::unique_ptr<ReplicaService> replica_;
  std::unique_ptr<AccessService> access_;
  std::unique_ptr<RecordsService> records_;
  std::unique_ptr<LiveService> live_;
  // Seals live uploads silent for --live-timeout as truncated, and files them.
  std::unique_ptr<JobLoop<int>> live_timeouts_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsServer> metrics_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_DAEMON_H_
