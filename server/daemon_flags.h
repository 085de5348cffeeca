// custodyd's command line: every flag, checked and turned into the node's
// options and what the daemon needs beside them (where to listen, TLS).
#ifndef CUSTODY_SERVER_DAEMON_FLAGS_H_
#define CUSTODY_SERVER_DAEMON_FLAGS_H_

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "replication/offsite/offsite_flags.h"
#include "replication/witness/witness_flags.h"
#include "server/node.h"
#include "server/record_flags.h"

namespace custody {

// What custodyd runs with, once the flags are applied.
struct DaemonConfig {
  NodeOptions node;
  std::string listen = "127.0.0.1:7400";
  std::string port_file;       // where the bound port is written; "" for none
  std::string metrics_listen;  // "" for no metrics endpoint
  std::string tls_dir;         // "" for a plaintext loopback node
  std::string new_data_key;    // --generate-data-key: write one and exit
  std::shared_ptr<grpc::ServerCredentials> server_credentials;  // set by Apply
};

class DaemonFlags {
 public:
  // Adds every flag to `app`.
  explicit DaemonFlags(CLI::App* app);
  DaemonFlags(const DaemonFlags&) = delete;
  DaemonFlags& operator=(const DaemonFlags&) = delete;

  // After parsing: checks the flags and fills config(); a clear
  // INVALID_ARGUMENT names the flag that is wrong.
  absl::Status Apply();
  DaemonConfig& config() { return config_; }
  OffsiteFlags& offsite() { return *offsite_; }
  WitnessFlags& witness() { return *witness_; }

 private:
  void AddStorageFlags();
  void AddClusterFlags();
  void AddSecurityFlags();
  absl::Status ApplySizes();
  absl::Status ApplyIntervals();
  // Loads the map, checks this node is in it, and listens where the map
  // says unless --listen was given.
  absl::Status UseClusterMap();
  // TLS with --tls DIR (peers called with the same certificate), or
  // plaintext with --insecure-loopback on a loopback address only.
  absl::Status ChooseSecurity();

  CLI::App* app_;
  DaemonConfig config_;
  std::string chunk_size_, volume_size_ = "1GiB", min_free_ = "64MiB";
  std::string cluster_file_, repair_interval_ = "5m", scrub_interval_ = "24h";
  std::string etcd_;  // --etcd HOST:PORT,...
  int idle_seconds_ = 60;
  double live_timeout_seconds_ = 3600;
  bool insecure_loopback_ = false;
  std::unique_ptr<RecordFlags> records_;  // their flags come after the others
  std::unique_ptr<OffsiteFlags> offsite_;
  std::unique_ptr<WitnessFlags> witness_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_DAEMON_FLAGS_H_
