// custodyd: a custody storage node. Parses the flags (server/daemon_flags.h)
// and runs a Daemon (server/daemon.h) until SIGINT or SIGTERM. On SIGHUP, or
// when etcd holds a new cluster map (doc/etcd.md), it stops in order and
// starts again in place (the same process, flags and port), so that the
// new map is used.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "common/log.h"
#include "common/process.h"
#include "server/daemon.h"
#include "server/daemon_flags.h"

namespace {

int Fail(const std::string& msg) {
  std::cerr << "custodyd: " << msg << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  custody::TuneMalloc();
  umask(077);  // every file custodyd makes (volumes, RocksDB, keys) is the owner's alone
  CLI::App app{"custodyd: a write-once storage node for enforcement footage"};
  custody::DaemonFlags flags(&app);
  CLI11_PARSE(app, argc, argv);
  if (absl::Status s = flags.Apply(); !s.ok()) return Fail(std::string(s.message()));
  custody::DaemonConfig& config = flags.config();
  config.node.on_map_change = [] { kill(getpid(), SIGHUP); };
  if (!config.new_data_key.empty()) {
    absl::Status k = custody::DataKey::Generate(config.new_data_key);
    if (!k.ok()) return Fail(std::string(k.message()));
    std::cout << "wrote a new data key to " << config.new_data_key
              << "; keep it outside the data folder, and a copy offline\n";
    return 0;
  }
  // Signals are taken by sigwait below, not by whichever thread they hit.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  absl::StatusOr<std::unique_ptr<custody::Daemon>> daemon =
      custody::Daemon::Start(config, &flags.offsite(), &flags.witness());
  if (!daemon.ok()) return Fail(daemon.status().ToString());
  int sig = 0;
  sigwait(&sigs, &sig);
  LOG(INFO) << "signal " << sig << ": stopping";
  daemon->reset();
  if (sig != SIGHUP) {
    LOG(INFO) << "stopped";
    return 0;
  }
  LOG(INFO) << "stopped; starting again (SIGHUP: a new cluster map, or asked to)";
  // The signals stay blocked across exec: one that comes meanwhile waits
  // for the new image's sigwait.
  execv("/proc/self/exe", argv);
  return Fail(std::string("could not start again: ") + strerror(errno));
}
