#include "server/daemon.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "common/units.h"
#include "replication/offsite/offsite_challenge.h"
#include "server/security/authenticator.h"
#include "server/services/filing.h"

namespace custody {

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const DaemonConfig& config,
                                                      OffsiteFlags* offsite,
                                                      WitnessFlags* witness) {
  std::unique_ptr<Daemon> d(new Daemon(config, offsite, witness));
  ASSIGN_OR_RETURN(d->node_, Node::Open(config.node));
  RETURN_IF_ERROR(witness->Open(d->node_.get()));
  if (d->node_->options().tls) {
    config.server_credentials->SetAuthMetadataProcessor(
        std::make_shared<Authenticator>(d->node_->trail()));
  }
  grpc::ServerBuilder builder;
  int port = 0;
  d->Configure(&builder, &port);
  d->server_ = builder.BuildAndStart();
  if (!d->server_ || port == 0) {
    return absl::UnavailableError("cannot listen on " + config.listen + " (address in use?)");
  }
  if (!config.port_file.empty()) {
    absl::Status written = ReplaceFile(config.port_file, absl::StrCat(port, "\n"));
    if (!written.ok()) {
      return absl::Status(written.code(), "writing --port-file: " + std::string(written.message()));
    }
  }
  // grpc.health.v1 answers "" (the node) and each public service by name.
  if (grpc::HealthCheckServiceInterface* health = d->server_->GetHealthCheckService()) {
    for (const char* name : d->HealthNames()) health->SetServingStatus(name, true);
  }
  offsite->Start();
  d->StartLiveTimeouts();
  witness->Start();
  d->LogStart(port);
  RETURN_IF_ERROR(d->StartMetrics());
  return d;
}

void Daemon::Configure(grpc::ServerBuilder* builder, int* port) {
  Node* node = node_.get();
  custody_ = std::make_unique<CustodyService>(node, witness_->attester());
  audit_ = std::make_unique<AuditService>(node, witness_->attester());
  replica_ = std::make_unique<ReplicaService>(node);
  access_ = std::make_unique<AccessService>(node);
  records_ = std::make_unique<RecordsService>(node, node->records());
  live_ = std::make_unique<LiveService>(node);
  grpc::EnableDefaultHealthCheckService(true);  // grpc.health.v1
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  builder->AddListeningPort(config_.listen, config_.server_credentials, port);
  builder->RegisterService(custody_.get());  // an offsite peer answers only its status
  builder->RegisterService(audit_.get());
  witness_->Register(builder);  // on a witness and on an offsite peer
  if (!offsite_->restricted()) {
    builder->RegisterService(replica_.get());
    builder->RegisterService(access_.get());
    builder->RegisterService(records_.get());
    builder->RegisterService(live_.get());
  }
  // Upload messages are 1 MiB; a peer's PutBlob carries a whole chunk.
  builder->SetMaxReceiveMessageSize(static_cast<int>(node->chunk_size()) + (1 << 20));
  offsite_->Register(node, builder);
  // gRPC shares ports by default (SO_REUSEPORT): a second node on a busy
  // port would silently split the traffic. Refuse instead.
  builder->AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Clients ping every 10 s to notice a hung node; accept that, even while
  // an upload stream has sent no response data yet.
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
}

std::vector<const char*> Daemon::HealthNames() const {
  std::vector<const char*> names = {"custody.v1.Custody", "custody.v1.Audit"};
  if (witness_->serves_witness()) names.push_back("custody.v1.Witness");
  if (!offsite_->restricted()) {
    names.insert(names.end(), {"custody.v1.Access", "custody.v1.Records", "custody.v1.Snapshots",
                               "custody.v1.Live"});
  }
  return names;
}

void Daemon::LogStart(int port) const {
  const char* role = offsite_->offsite_peer() ? "offsite peer "
                     : offsite_->witness()    ? "witness "
                                              : "node ";
  LOG(INFO) << "custodyd " << role << node_->node_id() << " (cluster map version "
            << node_->cluster().version() << ", R = " << node_->cluster().replication_factor()
            << ") serving " << config_.node.data_dir << " on port " << port << " (chunk size "
            << FormatBytes(node_->chunk_size()) << ", volume writes via " << node_->io_backend()
            << ")";
}

void Daemon::StartLiveTimeouts() {
  if (offsite_->restricted()) return;  // an offsite peer or a witness takes no live uploads
  Node* node = node_.get();
  live_timeouts_ = std::make_unique<JobLoop<int>>(
      [node] {
        v1::Principal by;
        by.set_name("node:" + node->node_id());
        by.add_roles("node");
        absl::StatusOr<std::vector<v1::LiveInfo>> sealed =
            node->live()->SealIdle(node->options().live_timeout, by.name());
        if (!sealed.ok()) {
          LOG(WARNING) << "sealing silent live uploads: " << sealed.status();
          return 0;
        }
        for (const v1::LiveInfo& i : *sealed) (void)FileUnderRecord(node, by, i.object_id());
        return static_cast<int>(sealed->size());
      },
      [](const std::optional<int>&) { return absl::Now() + absl::Seconds(5); });
  live_timeouts_->Start();
}

// Metrics: plain HTTP on a loopback address; on any other address only
// over TLS to clients with a certificate of the cluster CA (needs --tls).
absl::Status Daemon::StartMetrics() {
  const std::string& address = config_.metrics_listen;
  if (address.empty()) return absl::OkStatus();
  auto render = [node = node_.get()] { return node->RenderMetrics() + ChallengeMetrics(node); };
  if (IsLoopbackAddress(address)) {
    ASSIGN_OR_RETURN(metrics_, MetricsServer::Start(address, render));
  } else if (config_.tls_dir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-listen ", address,
        " is not a loopback address: metrics are then served "
        "only over TLS to client certificates of the cluster CA, which needs --tls DIR"));
  } else {
    ASSIGN_OR_RETURN(TlsFiles files, TlsFiles::Load(config_.tls_dir));
    ASSIGN_OR_RETURN(metrics_, MetricsServer::Start(address, render, &files));
  }
  LOG(INFO) << "metrics at " << (IsLoopbackAddress(address) ? "http" : "https") << "://" << address
            << "/metrics";
  return absl::OkStatus();
}

Daemon::~Daemon() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_.reset();
  }
  offsite_->Stop();  // the snapshot schedule, before the node goes
  witness_->Stop();  // the witness and TSA rounds, too
  live_timeouts_.reset();
  custody_.reset();  // its clock watch, whose checks use the node
  node_.reset();
}

}  // namespace custody
