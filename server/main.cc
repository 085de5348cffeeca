// custodyd: a custody storage node. Wires flags to a Node and a gRPC server.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/files.h"
#include "common/log.h"
#include "common/metrics_http.h"
#include "common/process.h"
#include "common/tls.h"
#include "common/units.h"
#include "replication/offsite_flags.h"
#include "server/access_service.h"
#include "server/audit_service.h"
#include "server/authenticator.h"
#include "server/custody_service.h"
#include "server/node.h"
#include "server/record_flags.h"
#include "server/records_service.h"
#include "server/replica_service.h"

namespace {

int Fail(const std::string& msg) {
  std::cerr << "custodyd: " << msg << "\n";
  return 1;
}

// Loads the map, checks this node is in it, and listens where the map says
// unless --listen was given.
absl::Status UseClusterMap(const std::string& file, bool listen_given, custody::NodeOptions* o,
                           std::string* listen) {
  if (file.empty() || o->node_id.empty()) {
    return absl::InvalidArgumentError("--cluster and --node-id go together");
  }
  absl::StatusOr<custody::ClusterMap> map = custody::ClusterMap::Load(file);
  if (!map.ok()) return map.status();
  const custody::NodeInfo* me = map->Find(o->node_id);
  if (me == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("node id ", o->node_id, " is not in the cluster map ", file));
  }
  if (!listen_given) *listen = me->address;
  if (map->chunk_size() != 0) {
    o->chunk_size = static_cast<uint32_t>(map->chunk_size());
    o->chunk_size_set = true;
  }
  o->cluster = std::make_shared<const custody::ClusterMap>(std::move(*map));
  return absl::OkStatus();
}

// TLS with --tls DIR (peers called with the same certificate), or plaintext
// with --insecure-loopback on a loopback address only.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ChooseSecurity(const std::string& tls_dir,
                                                                        bool insecure_loopback,
                                                                        const std::string& listen,
                                                                        custody::NodeOptions* o) {
  if (!tls_dir.empty() && insecure_loopback) {
    return absl::InvalidArgumentError("--tls and --insecure-loopback exclude each other");
  }
  if (tls_dir.empty()) {
    if (!insecure_loopback) {
      return absl::InvalidArgumentError(
          "custodyd needs --tls DIR (credentials from `custody ca issue --node ID --host HOST`), "
          "or --insecure-loopback for a plaintext node on 127.0.0.1 only");
    }
    if (!custody::IsLoopbackAddress(listen)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--insecure-loopback refuses to listen on ", listen,
                       ", which is not a loopback address: use --tls DIR"));
    }
    o->peer_credentials = grpc::InsecureChannelCredentials();
    return grpc::InsecureServerCredentials();
  }
  absl::StatusOr<custody::TlsFiles> files = custody::TlsFiles::Load(tls_dir);
  if (!files.ok()) return files.status();
  if (!files->has_certificate()) {
    return absl::InvalidArgumentError(
        absl::StrCat(tls_dir, " has no node certificate (cert.pem and key.pem)"));
  }
  o->peer_credentials = custody::TlsChannelCredentials(*files);
  o->tls = true;
  o->ca_pem = files->ca_pem;
  return custody::TlsServerCredentials(*files);
}

// Metrics: plain HTTP on a loopback address; on any other address only
// over TLS to clients with a certificate of the cluster CA (needs --tls).
absl::StatusOr<std::unique_ptr<custody::MetricsServer>> StartMetrics(const std::string& address,
                                                                     const std::string& tls_dir,
                                                                     custody::Node* node) {
  auto render = [node] { return node->RenderMetrics(); };
  if (custody::IsLoopbackAddress(address)) return custody::MetricsServer::Start(address, render);
  if (tls_dir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-listen ", address,
        " is not a loopback address: metrics are then served "
        "only over TLS to client certificates of the cluster CA, which needs --tls DIR"));
  }
  absl::StatusOr<custody::TlsFiles> files = custody::TlsFiles::Load(tls_dir);
  if (!files.ok()) return files.status();
  return custody::MetricsServer::Start(address, render, &*files);
}

}  // namespace

int main(int argc, char** argv) {
  custody::TuneMalloc();
  umask(077);  // every file custodyd makes (volumes, RocksDB, keys) is the owner's alone
  CLI::App app{"custodyd: a write-once storage node for enforcement footage"};
  custody::NodeOptions opts;
  opts.data_dir = "custody-data";
  std::string listen = "127.0.0.1:7400", port_file, chunk_size, volume_size = "1GiB",
              min_free = "64MiB";
  app.add_option("--data", opts.data_dir, "data folder (created if missing)");
  app.add_option("--listen", listen, "address:port to serve on (port 0 picks one)");
  app.add_option("--port-file", port_file, "write the port actually bound to this file");
  app.add_option("--chunk-size", chunk_size, "chunk size of a new data folder (default 4MiB)");
  app.add_option("--volume-size", volume_size, "seal volumes at this size");
  app.add_option("--min-free", min_free, "refuse writes that would leave less free space");
  app.add_option("--io-backend", opts.io_backend, "auto | io_uring | pwrite")
      ->check(CLI::IsMember({"auto", "io_uring", "pwrite"}));
  int idle_seconds = 60;
  app.add_option("--idle-timeout", idle_seconds,
                 "end upload streams that send nothing for this many seconds")
      ->check(CLI::PositiveNumber);
  app.add_flag("--rebuild-index", opts.rebuild_index,
               "rebuild the index from the volumes (the old one is kept aside)");
  std::string cluster_file;
  app.add_option("--cluster", cluster_file,
                 "the cluster map (doc/cluster.md); none: a cluster of one");
  app.add_option("--node-id", opts.node_id, "this node's id in the cluster map");
  std::string metrics_listen;
  app.add_option("--metrics-listen", metrics_listen,
                 "serve Prometheus metrics at http://HOST:PORT/metrics (a loopback address; "
                 "any other is served over TLS to client certificates of the cluster CA)");
  std::string repair_interval = "5m", scrub_interval = "24h";
  app.add_option("--repair-interval", repair_interval,
                 "time between anti-entropy rounds, e.g. 30s, 5m (0: only on request)");
  app.add_option("--scrub-interval", scrub_interval,
                 "time between scrub passes, e.g. 24h (0: only on request)");
  app.add_option("--scrub-rate", opts.scrub.rate_mb_per_s,
                 "MB/s the scrubber reads at most (default 50)")
      ->check(CLI::PositiveNumber);
  std::string tls_dir;
  bool insecure_loopback = false;
  app.add_option("--data-key", opts.data_key_file,
                 "encrypt chunks at rest (AES-256-GCM) with this key file, outside the data "
                 "folder (make one with `custody key generate FILE`)");
  std::string new_key;
  app.add_option("--generate-data-key", new_key,
                 "write a new random data key (mode 0600) to this file, then exit");
  app.add_option("--old-data-key", opts.old_data_key_files,
                 "an earlier data key, still used to read chunks it sealed (repeatable)");
  app.add_option("--tls", tls_dir,
                 "TLS credentials folder from `custody ca issue --node ID` (ca.pem, cert.pem, "
                 "key.pem): TLS for clients and mutual TLS between nodes");
  app.add_flag("--insecure-loopback", insecure_loopback,
               "serve and call peers in plaintext; only on a loopback address (tests, demos)");
  custody::RecordFlags record_flags(&app, &opts);
  custody::OffsiteFlags offsite_flags(&app, &opts);
  CLI11_PARSE(app, argc, argv);
  if (absl::Status r = record_flags.Apply(); !r.ok()) return Fail(std::string(r.message()));
  if (!new_key.empty()) {
    absl::Status k = custody::DataKey::Generate(new_key);
    if (!k.ok()) return Fail(std::string(k.message()));
    std::cout << "wrote a new data key to " << new_key
              << "; keep it outside the data folder, and a copy offline\n";
    return 0;
  }
  for (auto [text, out, flag] :
       {std::tuple{&repair_interval, &opts.anti_entropy.interval, "--repair-interval"},
        std::tuple{&scrub_interval, &opts.scrub.interval, "--scrub-interval"}}) {
    if (!absl::ParseDuration(*text, out) || *out < absl::ZeroDuration()) {
      return Fail(std::string(flag) + " must be a duration such as 30s, 5m or 24h, not \"" + *text +
                  "\"");
    }
  }
  // An offsite peer is no node of the map; --node-id alone names it.
  if (!cluster_file.empty() || (!opts.node_id.empty() && !offsite_flags.offsite_peer())) {
    absl::Status c = UseClusterMap(cluster_file, app.count("--listen") > 0, &opts, &listen);
    if (!c.ok()) return Fail(std::string(c.message()));
  }
  if (absl::Status o = offsite_flags.Apply(); !o.ok()) return Fail(std::string(o.message()));

  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> server_creds =
      ChooseSecurity(tls_dir, insecure_loopback, listen, &opts);
  if (!server_creds.ok()) return Fail(std::string(server_creds.status().message()));

  auto size_flag = [](const std::string& text, auto* out) -> absl::Status {
    absl::StatusOr<uint64_t> v = custody::ParseByteSize(text);
    if (!v.ok()) return v.status();
    *out = static_cast<std::remove_pointer_t<decltype(out)>>(*v);
    return absl::OkStatus();
  };
  absl::Status s = size_flag(volume_size, &opts.max_volume_bytes);
  if (s.ok()) s = size_flag(min_free, &opts.min_free_bytes);
  if (s.ok() && !chunk_size.empty()) {
    s = size_flag(chunk_size, &opts.chunk_size);
    opts.chunk_size_set = true;
    if (s.ok() && (opts.chunk_size < 4096 || opts.chunk_size > (64u << 20))) {
      s = absl::InvalidArgumentError("--chunk-size must be between 4KiB and 64MiB");
    }
  }
  if (!s.ok()) return Fail(std::string(s.message()));
  opts.idle_timeout = absl::Seconds(idle_seconds);

  // Signals are taken by sigwait below, not by whichever thread they hit.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  absl::StatusOr<std::unique_ptr<custody::Node>> node = custody::Node::Open(opts);
  if (!node.ok()) return Fail(node.status().ToString());
  if ((*node)->options().tls) {
    (*server_creds)
        ->SetAuthMetadataProcessor(std::make_shared<custody::Authenticator>(node->get()));
  }
  custody::CustodyService service(node->get());
  custody::AuditService audit_service(node->get());
  custody::ReplicaService replica_service(node->get());
  custody::AccessService access_service(node->get());
  custody::RecordsService records_service(node->get(), (*node)->records());
  grpc::EnableDefaultHealthCheckService(true);  // grpc.health.v1
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, *server_creds, &port);
  builder.RegisterService(&service);  // an offsite peer answers only its status
  builder.RegisterService(&audit_service);
  if (!offsite_flags.offsite_peer()) {
    builder.RegisterService(&replica_service);
    builder.RegisterService(&access_service);
    builder.RegisterService(&records_service);
  }
  // Upload messages are 1 MiB; a peer's PutBlob carries a whole chunk.
  builder.SetMaxReceiveMessageSize(static_cast<int>((*node)->chunk_size()) + (1 << 20));
  offsite_flags.Register(node->get(), &builder);
  // gRPC shares ports by default (SO_REUSEPORT): a second node on a busy
  // port would silently split the traffic. Refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Clients ping every 10 s to notice a hung node; accept that, even while
  // an upload stream has sent no response data yet.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) return Fail("cannot listen on " + listen + " (address in use?)");
  if (!port_file.empty()) {
    absl::Status written = custody::ReplaceFile(port_file, absl::StrCat(port, "\n"));
    if (!written.ok()) return Fail("writing --port-file: " + std::string(written.message()));
  }
  offsite_flags.Start();
  LOG(INFO) << "custodyd " << (offsite_flags.offsite_peer() ? "offsite peer " : "node ")
            << (*node)->node_id() << " (cluster map version " << (*node)->cluster().version()
            << ", R = " << (*node)->cluster().replication_factor() << ") serving " << opts.data_dir
            << " on port " << port << " (chunk size " << custody::FormatBytes((*node)->chunk_size())
            << ", volume writes via " << (*node)->io_backend() << ")";
  std::unique_ptr<custody::MetricsServer> metrics;
  if (!metrics_listen.empty()) {
    auto m = StartMetrics(metrics_listen, tls_dir, node->get());
    if (!m.ok()) return Fail(m.status().ToString());
    metrics = std::move(*m);
    LOG(INFO) << "metrics at " << (custody::IsLoopbackAddress(metrics_listen) ? "http" : "https")
              << "://" << metrics_listen << "/metrics";
  }
  int sig = 0;
  sigwait(&sigs, &sig);
  LOG(INFO) << "signal " << sig << ": stopping";
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server.reset();
  offsite_flags.Stop();  // the snapshot schedule, before the node goes
  node->reset();
  LOG(INFO) << "stopped";
  return 0;
}
