// custody-ingestd: the docking-station ingest daemon (ingest/README.md).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "common/log.h"
#include "common/metrics_http.h"
#include "common/process.h"
#include "common/tls.h"
#include "common/units.h"
#include "ingest/daemon.h"

namespace {

using custody::ingest::Daemon;
using custody::ingest::IngestOptions;

// `custody-ingestd status`: what the running daemon last wrote.
int PrintStatus(const std::string& state_dir, bool as_json) {
  std::ifstream in(state_dir + "/status.json");
  if (!in) {
    std::cerr << "custody-ingestd: NOT_FOUND: no status in " << state_dir
              << " (is the daemon running with --state " << state_dir << "?)\n";
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (as_json) {
    std::cout << ss.str();
    return 0;
  }
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) {
    std::cerr << "custody-ingestd: DATA_LOSS: the status file does not parse\n";
    return 1;
  }
  int64_t pid = j.value("pid", int64_t{0});
  bool alive = j.value("running", false) && pid > 0 && kill(static_cast<pid_t>(pid), 0) == 0;
  std::cout << "daemon       "
            << (alive ? "running, pid " + std::to_string(pid)
                      : std::string("not running: the figures are from its last status"))
            << "\n"
            << "updated      " << j.value("updated", "") << "\n"
            << "settling     " << j.value("settling", 0) << "\n"
            << "queued       " << j.value("queued", 0) << "\n"
            << "in flight    " << j["in_flight"].size() << "\n"
            << "done         " << j.value("done", 0) << "\n"
            << "quarantined  " << j.value("quarantined", 0) << "\n"
            << "ignored      " << j.value("ignored", 0) << " (links, nested folders: see the log)\n"
            << "rate         " << custody::FormatBytes(j.value("bytes_per_second", 0.0)) << "/s\n";
  for (const auto& [file, why] : j["stuck"].items()) {
    std::cout << "  STUCK " << file << ": " << why.get<std::string>() << "\n";
  }
  for (const auto& f : j["in_flight"]) {
    std::cout << "  " << f.value("file", "") << "  " << custody::FormatBytes(f.value("sent", 0.0))
              << " of " << custody::FormatBytes(f.value("size", 0.0))
              << (f.value("last_error", "").empty() ? ""
                                                    : "  retrying: " + f.value("last_error", ""))
              << "\n";
  }
  return 0;
}

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  custody::TuneMalloc();
  umask(077);  // its journal names files and officers: the owner's alone
  CLI::App app{"custody-ingestd: moves docked recordings into custody, exactly once"};
  IngestOptions o;
  double settle = 5, poll = 1, max_backoff = 30;
  std::string pattern, fields;
  app.add_option("--watch", o.watch_dir, "the docking station's folder (device subfolders inside)");
  app.add_option("--server", o.server, "a custody node, host:port")->envname("CUSTODY_SERVER");
  app.add_option("--state", o.state_dir,
                 "journal and status folder (default WATCH/.custody-ingest)");
  app.add_option("--parallel", o.parallel, "uploads at a time")->check(CLI::Range(1, 64));
  app.add_flag("--delete-after-verified", o.delete_after_verified,
               "delete a file (not move it to done/) once the cluster holds it on R nodes");
  app.add_option("--settle", settle, "seconds a file must stay unchanged to be complete")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--poll", poll, "rescan at least every N seconds")->check(CLI::Range(0.05, 60.0));
  app.add_option("--max-backoff", max_backoff, "longest wait between retries, seconds")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--name-pattern", pattern, "regex over file names, for files without a sidecar");
  app.add_option("--name-fields", fields,
                 "what each group of --name-pattern is, e.g. device,officer,start");
  app.add_option("--station", o.station, "this docking station's name, stored with the footage");
  std::string metrics_listen;
  app.add_option("--metrics-listen", metrics_listen,
                 "serve Prometheus metrics at http://HOST:PORT/metrics");
  std::string tls_dir;
  app.add_option("--tls", tls_dir,
                 "TLS credentials folder from `custody ca issue --user NAME`; none: plaintext")
      ->envname("CUSTODY_TLS");
  CLI::App* status = app.add_subcommand("status", "print what the running daemon is doing");
  status->fallthrough();  // --state / --watch may come after "status"
  bool as_json = false;
  status->add_flag("--json", as_json, "the raw status.json");
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "custody-ingestd: " << e.what() << " (see --help)\n";
    return 2;
  }
  if (status->parsed()) {
    if (o.state_dir.empty() && o.watch_dir.empty()) {
      std::cerr << "custody-ingestd: status needs --state DIR or --watch DIR\n";
      return 2;
    }
    return PrintStatus(o.state_dir.empty() ? o.watch_dir + "/.custody-ingest" : o.state_dir,
                       as_json);
  }
  if (o.watch_dir.empty() || o.server.empty()) {
    std::cerr << "custody-ingestd: --watch and --server are required (see --help)\n";
    return 2;
  }
  if (absl::Status t = custody::CustodyClient::UseTls(tls_dir); !t.ok()) {
    std::cerr << "custody-ingestd: " << t.message() << "\n";
    return 2;
  }
  if (!pattern.empty() || !fields.empty()) {
    auto p = custody::ingest::NamePattern::Parse(pattern, fields);
    if (!p.ok()) {
      std::cerr << "custody-ingestd: " << p.status().message() << "\n";
      return 2;
    }
    o.name_pattern = std::move(*p);
  }
  o.settle = absl::Seconds(settle);
  o.poll = absl::Seconds(poll);
  o.max_backoff = absl::Seconds(max_backoff);
  if (!metrics_listen.empty() && !custody::IsLoopbackAddress(metrics_listen)) {
    std::cerr << "custody-ingestd: INVALID_ARGUMENT: --metrics-listen " << metrics_listen
              << " is not a loopback address: the daemon serves its metrics, unauthenticated, "
                 "on loopback only (e.g. 127.0.0.1:9464)\n";
    return 2;
  }
  auto daemon = Daemon::Create(std::move(o));
  if (!daemon.ok()) {
    std::cerr << "custody-ingestd: " << daemon.status() << "\n";
    return 1;
  }
  std::unique_ptr<custody::MetricsServer> metrics;
  if (!metrics_listen.empty()) {
    Daemon* d = daemon->get();
    auto m =
        custody::MetricsServer::Start(metrics_listen, [d] { return d->status().ToPrometheus(); });
    if (!m.ok()) {
      std::cerr << "custody-ingestd: " << m.status() << "\n";
      return 1;
    }
    metrics = std::move(*m);
    LOG(INFO) << "metrics at http://" << metrics_listen << "/metrics";
  }
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  (*daemon)->Run(&g_stop);
  LOG(INFO) << "stopped";
  return 0;
}
