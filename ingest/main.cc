// custody-ingestd: the docking-station ingest daemon (ingest/README.md).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>
#include <thread>

#include "client/client.h"
#include "client/server_pool.h"
#include "common/log.h"
#include "common/metrics_http.h"
#include "common/process.h"
#include "common/tls.h"
#include "ingest/commands.h"
#include "ingest/daemon.h"
#include "ingest/station_reporter.h"

namespace {

using custody::ingest::Daemon;
using custody::ingest::IngestOptions;

// Every flag, before it is checked and turned into IngestOptions.
struct Flags {
  IngestOptions o;
  std::vector<std::string> servers;
  double settle = 5, poll = 1, max_backoff = 30, report_interval = 5;
  std::string pattern, fields, metrics_listen, tls_dir, time_zone = "UTC";
};

void AddDaemonFlags(CLI::App& app, Flags* f) {
  IngestOptions& o = f->o;
  app.add_option("--watch", o.watch_dir, "the docking station's folder (device subfolders inside)");
  app.add_option("--server", f->servers,
                 "custody nodes, host:port: repeat the flag or separate them with commas; when "
                 "the one in use is down, uploads go to the next")
      ->envname("CUSTODY_SERVER")
      ->allow_extra_args(false);
  app.add_option("--state", o.state_dir,
                 "journal and status folder (default WATCH/.custody-ingest)");
  app.add_option("--parallel", o.parallel, "uploads at a time")->check(CLI::Range(1, 64));
  app.add_flag("--delete-after-verified", o.delete_after_verified,
               "delete a file (not move it to done/) once the cluster holds it on R nodes");
  app.add_option("--settle", f->settle, "seconds a file must stay unchanged to be complete")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--poll", f->poll, "rescan at least every N seconds")
      ->check(CLI::Range(0.05, 60.0));
  app.add_option("--max-backoff", f->max_backoff, "longest wait between retries, seconds")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--name-pattern", f->pattern,
                 "regex over file names, for files without a sidecar");
  app.add_option("--time-zone", f->time_zone,
                 "the cameras' time zone (IANA name, e.g. Asia/Shanghai): times in file names "
                 "and sidecars without an offset are local to it (default UTC)");
  app.add_option("--name-fields", f->fields,
                 "what each group of --name-pattern is, e.g. device,officer,start");
  app.add_option("--station", o.station, "this docking station's name, stored with the footage");
  app.add_option("--metrics-listen", f->metrics_listen,
                 "serve Prometheus metrics at http://HOST:PORT/metrics");
  app.add_option("--report-interval", f->report_interval,
                 "seconds between the station's reports to the cluster (status, quarantine, last "
                 "uploads: the web console's Stations page); 0: none")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--tls", f->tls_dir,
                 "TLS credentials folder from `custody ca issue --user NAME`; none: plaintext")
      ->envname("CUSTODY_TLS");
}

// The checked options, or a message for a usage error.
absl::StatusOr<IngestOptions> Options(Flags f) {
  if (f.o.watch_dir.empty()) return absl::InvalidArgumentError("--watch is required (see --help)");
  absl::StatusOr<std::vector<std::string>> servers = custody::ParseServers(f.servers);
  if (!servers.ok()) return servers.status();
  f.o.servers = std::move(*servers);
  if (absl::Status t = custody::CustodyClient::UseTls(f.tls_dir); !t.ok()) return t;
  if (!f.pattern.empty() || !f.fields.empty()) {
    auto p = custody::ingest::NamePattern::Parse(f.pattern, f.fields);
    if (!p.ok()) return p.status();
    f.o.name_pattern = std::move(*p);
  }
  if (!absl::LoadTimeZone(f.time_zone, &f.o.time_zone)) {
    return absl::InvalidArgumentError("--time-zone \"" + f.time_zone +
                                      "\" is not a time zone this machine knows (an IANA name "
                                      "such as Asia/Shanghai)");
  }
  if (f.o.station.empty()) {  // the host's name, as the console lists the station
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    f.o.station = host;
  }
  f.o.settle = absl::Seconds(f.settle);
  f.o.poll = absl::Seconds(f.poll);
  f.o.max_backoff = absl::Seconds(f.max_backoff);
  if (!f.metrics_listen.empty() && !custody::IsLoopbackAddress(f.metrics_listen)) {
    return absl::InvalidArgumentError(
        "--metrics-listen " + f.metrics_listen +
        " is not a loopback address: the daemon serves its metrics, unauthenticated, on loopback "
        "only (e.g. 127.0.0.1:9464)");
  }
  return std::move(f.o);
}

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

int RunDaemon(IngestOptions o, const std::string& metrics_listen, double report_interval) {
  const std::string station = o.station, watch = o.watch_dir;
  const std::string state = o.state_dir.empty() ? watch + "/.custody-ingest" : o.state_dir;
  const std::vector<std::string> servers = o.servers;
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
  std::thread reports;
  if (report_interval > 0) {
    Daemon* d = daemon->get();
    reports = std::thread([=] {
      custody::ingest::StationReporter reporter(station, watch, state, servers,
                                                [d] { return d->status(); });
      reporter.Run(&g_stop, absl::Seconds(report_interval));
    });
  }
  (*daemon)->Run(&g_stop);
  g_stop = true;
  if (reports.joinable()) reports.join();
  LOG(INFO) << "stopped";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  custody::TuneMalloc();
  umask(077);  // its journal names files and officers: the owner's alone
  CLI::App app{"custody-ingestd: moves docked recordings into custody, exactly once"};
  Flags f;
  AddDaemonFlags(app, &f);
  CLI::App* status = app.add_subcommand("status", "print what the running daemon is doing");
  status->fallthrough();  // --state / --watch may come after "status"
  bool as_json = false;
  status->add_flag("--json", as_json, "status.json, with the files in quarantine added");
  CLI::App* retry = app.add_subcommand(
      "retry", "put quarantined files (with their sidecars) back into the watched folder");
  retry->fallthrough();
  std::vector<std::string> retry_files;
  bool retry_all = false;
  retry->add_option("files", retry_files, "quarantined files: paths, or paths under quarantine/");
  retry->add_flag("--all", retry_all, "every file in quarantine/");
  bool retry_json = false;
  retry->add_flag("--json", retry_json, "one JSON document: the files put back and the failures");
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "custody-ingestd: " << e.what() << " (see --help)\n";
    return 2;
  }
  const std::string& watch = f.o.watch_dir;
  std::string state = f.o.state_dir.empty() ? watch + "/.custody-ingest" : f.o.state_dir;
  if (status->parsed() || retry->parsed()) {
    if ((retry->parsed() ? watch : f.o.state_dir + watch).empty()) {
      std::cerr << "custody-ingestd: "
                << (retry->parsed() ? "retry needs --watch DIR"
                                    : "status needs --state DIR or --watch DIR")
                << "\n";
      return 2;
    }
    return status->parsed()
               ? custody::ingest::PrintStatus(state, watch, as_json)
               : custody::ingest::RunRetry(watch, state, retry_files, retry_all, retry_json);
  }
  std::string metrics_listen = f.metrics_listen;
  double report_interval = f.report_interval;
  absl::StatusOr<IngestOptions> o = Options(std::move(f));
  if (!o.ok()) {
    std::cerr << "custody-ingestd: " << o.status().message() << "\n";
    return 2;
  }
  return RunDaemon(std::move(*o), metrics_listen, report_interval);
}
