#include "server/daemon_flags.h"

#include <tuple>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "common/units.h"
#include "replication/etcd/etcd_client.h"
#include "server/storage/committer.h"

namespace custody {

DaemonFlags::DaemonFlags(CLI::App* app) : app_(app) {
  config_.node.data_dir = "custody-data";
  AddStorageFlags();
  AddClusterFlags();
  AddSecurityFlags();
  records_ = std::make_unique<RecordFlags>(app, &config_.node);
  offsite_ = std::make_unique<OffsiteFlags>(app, &config_.node);
  witness_ = std::make_unique<WitnessFlags>(app);
}

void DaemonFlags::AddStorageFlags() {
  NodeOptions& o = config_.node;
  app_->add_option("--data", o.data_dir, "data folder (created if missing)");
  app_->add_option("--listen", config_.listen, "address:port to serve on (port 0 picks one)");
  app_->add_option("--port-file", config_.port_file, "write the port actually bound to this file");
  app_->add_option("--chunk-size", chunk_size_, "chunk size of a new data folder (default 4MiB)");
  app_->add_option("--volume-size", volume_size_, "seal volumes at this size");
  app_->add_option(
      "--min-free", min_free_,
      "the soft reserve: below it no new data is taken (at least the hard reserve, 32MiB)");
  app_->add_option("--allow-zone-degraded", o.allow_zone_degraded,
                   "true (default): a put whose copies cannot span two zones succeeds, marked "
                   "chunk.zone-degraded; false: it fails until the zone is back");
  app_->add_option("--io-backend", o.io_backend, "auto | io_uring | pwrite")
      ->check(CLI::IsMember({"auto", "io_uring", "pwrite"}));
  app_->add_option("--idle-timeout", idle_seconds_,
                   "end upload streams that send nothing for this many seconds")
      ->check(CLI::PositiveNumber);
  app_->add_option("--live-timeout", live_timeout_seconds_,
                   "seal a live upload as truncated after this many seconds without a segment "
                   "(doc/live.md; default 3600)")
      ->check(CLI::PositiveNumber);
  app_->add_flag("--rebuild-index", o.rebuild_index,
                 "rebuild the index from the volumes (the old one is kept aside)");
}

void DaemonFlags::AddClusterFlags() {
  NodeOptions& o = config_.node;
  app_->add_option("--cluster", cluster_file_,
                   "the cluster map (doc/cluster.md); none: a cluster of one");
  app_->add_option("--node-id", o.node_id, "this node's id in the cluster map");
  app_->add_option("--etcd", etcd_,
                   "the cluster's etcd, HOST:PORT,... (doc/etcd.md): archive numbers from any "
                   "node; TLS with the cluster CA when the node uses --tls");
  app_->add_option("--etcd-root", o.etcd_root, "the cluster's keys in etcd (default /custody/)");
  app_->add_option("--metrics-listen", config_.metrics_listen,
                   "serve Prometheus metrics at http://HOST:PORT/metrics (a loopback address; "
                   "any other is served over TLS to client certificates of the cluster CA)");
  app_->add_option("--repair-interval", repair_interval_,
                   "time between anti-entropy rounds, e.g. 30s, 5m (0: only on request)");
  app_->add_option("--scrub-interval", scrub_interval_,
                   "time between scrub passes, e.g. 24h (0: only on request)");
  app_->add_option("--scrub-rate", o.scrub.rate_mb_per_s,
                   "MB/s the scrubber reads at most (default 50)")
      ->check(CLI::PositiveNumber);
}

void DaemonFlags::AddSecurityFlags() {
  NodeOptions& o = config_.node;
  app_->add_option("--data-key", o.data_key_file,
                   "encrypt chunks at rest (AES-256-GCM) with this key file, outside the data "
                   "folder (make one with `custodyd --generate-data-key FILE`)");
  app_->add_option("--generate-data-key", config_.new_data_key,
                   "write a new random data key (mode 0600) to this file, then exit");
  app_->add_option("--old-data-key", o.old_data_key_files,
                   "an earlier data key, still used to read chunks it sealed (repeatable)");
  app_->add_option("--tls", config_.tls_dir,
                   "TLS credentials folder from `custody ca issue --node ID` (ca.pem, cert.pem, "
                   "key.pem): TLS for clients and mutual TLS between nodes");
  app_->add_flag("--insecure-loopback", insecure_loopback_,
                 "serve and call peers in plaintext; only on a loopback address (tests, demos)");
}

absl::Status DaemonFlags::Apply() {
  RETURN_IF_ERROR(records_->Apply());
  if (!config_.new_data_key.empty()) return absl::OkStatus();  // nothing else is used
  RETURN_IF_ERROR(ApplyIntervals());
  // An offsite peer is no node of the map; --node-id alone names it.
  if (!cluster_file_.empty() || (!config_.node.node_id.empty() && !offsite_->restricted())) {
    RETURN_IF_ERROR(UseClusterMap());
  }
  if (!etcd_.empty() && cluster_file_.empty()) {
    return absl::InvalidArgumentError(
        "--etcd is for a cluster: give --cluster MAP and --node-id too (a single node needs none)");
  }
  RETURN_IF_ERROR(offsite_->Apply());
  RETURN_IF_ERROR(witness_->Apply(offsite_->restricted()));
  RETURN_IF_ERROR(ChooseSecurity());
  RETURN_IF_ERROR(ApplySizes());
  config_.node.idle_timeout = absl::Seconds(idle_seconds_);
  config_.node.live_timeout = absl::Seconds(live_timeout_seconds_);
  return absl::OkStatus();
}

absl::Status DaemonFlags::ApplyIntervals() {
  NodeOptions& o = config_.node;
  for (auto [text, out, flag] :
       {std::tuple{&repair_interval_, &o.anti_entropy.interval, "--repair-interval"},
        std::tuple{&scrub_interval_, &o.scrub.interval, "--scrub-interval"}}) {
    if (!absl::ParseDuration(*text, out) || *out < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " must be a duration such as 30s, 5m or 24h, not \"", *text, "\""));
    }
  }
  return absl::OkStatus();
}

absl::Status DaemonFlags::ApplySizes() {
  NodeOptions& o = config_.node;
  auto size_flag = [](const std::string& text, auto* out) -> absl::Status {
    ASSIGN_OR_RETURN(uint64_t v, ParseByteSize(text));
    *out = static_cast<std::remove_pointer_t<decltype(out)>>(v);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(size_flag(volume_size_, &o.max_volume_bytes));
  RETURN_IF_ERROR(size_flag(min_free_, &o.min_free_bytes));
  if (o.min_free_bytes < kHardReserveBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--min-free ", min_free_, " is below the hard reserve of ", FormatBytes(kHardReserveBytes),
        ", the room a node keeps for its index's flushes and an orderly stop; pass at least that"));
  }
  if (chunk_size_.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(size_flag(chunk_size_, &o.chunk_size));
  o.chunk_size_set = true;
  if (o.chunk_size < 4096 || o.chunk_size > (64u << 20)) {
    return absl::InvalidArgumentError("--chunk-size must be between 4KiB and 64MiB");
  }
  return absl::OkStatus();
}

absl::Status DaemonFlags::UseClusterMap() {
  NodeOptions& o = config_.node;
  if (cluster_file_.empty() || o.node_id.empty()) {
    return absl::InvalidArgumentError("--cluster and --node-id go together");
  }
  ASSIGN_OR_RETURN(ClusterMap map, ClusterMap::Load(cluster_file_));
  ASSIGN_OR_RETURN(o.cluster_json, ReadFileToString(cluster_file_));
  const NodeInfo* me = map.Find(o.node_id);
  if (me == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("node id ", o.node_id, " is not in the cluster map ", cluster_file_));
  }
  if (app_->count("--listen") == 0) config_.listen = me->address;
  if (!etcd_.empty()) {
    ASSIGN_OR_RETURN(o.etcd_endpoints, EtcdClient::ParseEndpoints(etcd_));
  }
  if (map.chunk_size() != 0) {
    o.chunk_size = static_cast<uint32_t>(map.chunk_size());
    o.chunk_size_set = true;
  }
  o.cluster = std::make_shared<const ClusterMap>(std::move(map));
  return absl::OkStatus();
}

absl::Status DaemonFlags::ChooseSecurity() {
  NodeOptions& o = config_.node;
  const std::string& dir = config_.tls_dir;
  if (!dir.empty() && insecure_loopback_) {
    return absl::InvalidArgumentError("--tls and --insecure-loopback exclude each other");
  }
  if (dir.empty()) {
    if (!insecure_loopback_) {
      return absl::InvalidArgumentError(
          "custodyd needs --tls DIR (credentials from `custody ca issue --node ID --host HOST`), "
          "or --insecure-loopback for a plaintext node on 127.0.0.1 only");
    }
    if (!IsLoopbackAddress(config_.listen)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--insecure-loopback refuses to listen on ", config_.listen,
                       ", which is not a loopback address: use --tls DIR"));
    }
    o.peer_credentials = grpc::InsecureChannelCredentials();
    config_.server_credentials = grpc::InsecureServerCredentials();
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(TlsFiles files, TlsFiles::Load(dir));
  if (!files.has_certificate()) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, " has no node certificate (cert.pem and key.pem)"));
  }
  o.peer_credentials = TlsChannelCredentials(files);
  o.tls = true;
  o.ca_pem = files.ca_pem;
  config_.server_credentials = TlsServerCredentials(files);
  return absl::OkStatus();
}

}  // namespace custody
