// custody_offsite_bench: offsite sync and restore over loopback against a
// plain loopback TCP copy of the same bytes, measured in the same run:
//   1. generates --files random files of --size / --files bytes each, and
//      the delta: files of a tenth of that, in --dir;
//   2. per run, a fresh node and a fresh offsite peer (custodyd --role
//      offsite): the files are put (untimed), then
//      - full:    `custody offsite sync` of a snapshot of them (the snapshot
//                 is made untimed first), timed until the receipt is back;
//      - delta:   the delta files put, then `custody offsite sync` (which
//                 makes the new snapshot: timed too), timed;
//      - restore: the node killed, its data folder deleted, started empty,
//                 then `custody restore --from-offsite` timed;
//   3. one untimed warm-up run first (--warmups): on this machine the
//      first touch of fresh memory after a pause is slow;
//   4. before each timed step, the TCP limit: the same number of bytes read
//      from the same files and sent over one 127.0.0.1 TCP connection to a
//      receiver that writes them to a file and fdatasyncs it at the end (the
//      peer and the node also store durably). One untimed warm-up copy first.
//      The files are in the page cache (just written); the node's volumes
//      are not (written and read around it). So a second, cold copy reads
//      the files with O_DIRECT, 4 MiB at a time as the node reads chunks:
//      a plain copy of the same bytes from the disk (one read at a time;
//      the node reads up to --streams at once). Third, the disk's own
//      ceiling: the files read with O_DIRECT while as many bytes are written
//      with O_DIRECT and fdatasynced every 32 MiB, at once (a sync on one
//      machine reads every byte from this disk and writes it there durably).
// Each step also reports the CPU seconds per GiB that the node and the peer
// spent in it, and the (page-cached) TCP copy spent in this process, sender
// and receiver together (/proc/PID/stat); and what the disk under --dir did
// during the step (/proc/diskstats): bytes read and written, and the share
// of the step's time it was busy. On one machine the node and the peer
// share that disk: the node reads every chunk it sends from it, and the
// peer writes each one to it durably.
// Ratios are MB/s of the step over MB/s of the copy just before it; also
// over `dd` direct+dsync (the disk's durable write limit, measured once).
// Plaintext loopback by default; --tls runs the node and the peer with
// certificates from a fresh CA (mutual TLS), as deployed. MB = 1e6 bytes.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/str_cat.h"
#include "bench/bench_node.h"
#include "bench/disk_stats.h"
#include "bench/reference_copies.h"
#include "bench/test_data.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "common/units.h"

namespace custody::bench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct Config {
  uint64_t size = 2ull << 30;
  int files = 8, runs = 2;
  int warmups = 1;  // untimed whole runs first: the first touch of fresh memory is slow here
  int streams = 0;  // 0: the CLI's default
  std::string dir = "bench-tmp/offsite";
  bool tls = false, json = false;
};

// The two processes of a run and how to call the CLI against the node.
struct Site {
  std::unique_ptr<Node> node, peer;
  std::vector<std::string> node_flags, peer_flags, cli_auth, put_auth;
};

absl::Status MakeCredentials(const Config& cfg, Site* site) {
  if (!cfg.tls) {
    site->peer_flags = {"--listen", "127.0.0.1:0"};
    return absl::OkStatus();
  }
  const std::string cli = Beside("custody"), ca = cfg.dir + "/ca", log = cfg.dir + "/ca.log";
  for (const char* old : {"ca", "tls-n1", "tls-off1", "admin", "ingest"}) {
    fs::remove_all(absl::StrCat(cfg.dir, "/", old));  // from an earlier run
  }
  RETURN_IF_ERROR(Run({cli, "ca", "init", ca}, log).status());
  for (const char* node : {"n1", "off1"}) {
    RETURN_IF_ERROR(Run({cli, "ca", "issue", "--ca", ca, "--node", node, "--host", "127.0.0.1",
                         "-o", absl::StrCat(cfg.dir, "/tls-", node)},
                        log)
                        .status());
  }
  for (const char* user : {"admin", "ingest"}) {  // an admin may not put footage
    RETURN_IF_ERROR(Run({cli, "ca", "issue", "--ca", ca, "--user", user, "--role", user, "-o",
                         absl::StrCat(cfg.dir, "/", user)},
                        log)
                        .status());
  }
  site->node_flags = {"--listen", "127.0.0.1:0", "--tls", cfg.dir + "/tls-n1"};
  site->peer_flags = {"--listen", "127.0.0.1:0", "--tls", cfg.dir + "/tls-off1"};
  site->cli_auth = {"--tls", cfg.dir + "/admin"};
  site->put_auth = {"--tls", cfg.dir + "/ingest"};
  return absl::OkStatus();
}

absl::StatusOr<json> Cli(const Site& site, const Config& cfg, std::vector<std::string> args) {
  std::vector<std::string> argv = {Beside("custody"), "--server", site.node->address};
  argv.insert(argv.end(), site.cli_auth.begin(), site.cli_auth.end());
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--json");
  ASSIGN_OR_RETURN(std::string out, Run(argv, cfg.dir + "/cli.log"));
  return json::parse(out);
}

absl::Status PutAll(const Site& site, const Config& cfg, const std::vector<std::string>& files) {
  for (const std::string& f : files) {
    std::vector<std::string> argv = {Beside("custody"), "--server", site.node->address};
    argv.insert(argv.end(), site.put_auth.begin(), site.put_auth.end());
    argv.insert(argv.end(), {"put", f});
    RETURN_IF_ERROR(Run(argv, cfg.dir + "/cli.log").status());
  }
  return absl::OkStatus();
}

// The node's log is node-run<run><suffix>.log.
absl::Status StartNodeOf(const Config& cfg, Site* site, int run, const char* suffix, bool keep) {
  ASSIGN_OR_RETURN(Node n, StartNode(Beside("custodyd"), cfg.dir + "/node", cfg.dir + "/node.port",
                                     absl::StrCat(cfg.dir, "/node-run", run, suffix, ".log"),
                                     site->node_flags, keep));
  site->node = std::make_unique<Node>(std::move(n));
  return absl::OkStatus();
}

struct Step {
  const char* name;
  uint64_t bytes = 0;
  double seconds = 0, tcp_seconds = 0, cold_tcp_seconds = 0;
  double ceiling_seconds = 0;         // the disk's ceiling: the files read while as much is written
  double node_cpu = 0, peer_cpu = 0;  // CPU seconds the node and the peer spent in the step
  double tcp_cpu_per_gib = 0;         // CPU seconds per GiB of the (page-cached) TCP copy
  std::optional<DiskStats> disk = std::nullopt;  // during the step, when /proc/diskstats tells
  double mbps() const { return bytes / 1e6 / seconds; }
  double tcp_mbps() const { return bytes / 1e6 / tcp_seconds; }
  double cold_tcp_mbps() const { return bytes / 1e6 / cold_tcp_seconds; }
  double ceiling_mbps() const { return bytes / 1e6 / ceiling_seconds; }
};

// One timed step after its TCP copy of `files`.
absl::StatusOr<Step> Measure(const char* name, const Config& cfg, const Site& site,
                             const std::vector<std::string>& files,
                             const std::function<absl::StatusOr<uint64_t>()>& step) {
  Step s{name};
  const double me0 = CpuSeconds(getpid());
  ASSIGN_OR_RETURN(s.tcp_seconds, TcpCopy(files, cfg.dir + "/tcp.sink"));
  const double copy_cpu = CpuSeconds(getpid()) - me0;
  ASSIGN_OR_RETURN(s.cold_tcp_seconds, TcpCopy(files, cfg.dir + "/tcp.sink", /*cold=*/true));
  ASSIGN_OR_RETURN(s.ceiling_seconds, DiskReadWhileWriting(files, cfg.dir + "/disk.sink"));
  const double node0 = CpuSeconds(site.node->child.pid()),
               peer0 = CpuSeconds(site.peer->child.pid());
  absl::StatusOr<DiskStats> disk0 = ReadDiskStats(cfg.dir);
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(s.bytes, step());
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  absl::StatusOr<DiskStats> disk1 = ReadDiskStats(cfg.dir);
  if (disk0.ok() && disk1.ok()) s.disk = *disk1 - *disk0;
  s.node_cpu = CpuSeconds(site.node->child.pid()) - node0;
  s.peer_cpu = CpuSeconds(site.peer->child.pid()) - peer0;
  uint64_t copied = 0;
  for (const std::string& f : files) copied += fs::file_size(f);
  s.tcp_cpu_per_gib = copy_cpu * (1ull << 30) / static_cast<double>(copied);
  const double same = static_cast<double>(s.bytes) / static_cast<double>(copied);  // same bytes
  s.tcp_seconds *= same;
  s.cold_tcp_seconds *= same;
  s.ceiling_seconds *= same;
  return s;
}

absl::StatusOr<std::vector<Step>> OneRun(const Config& cfg, const std::vector<std::string>& files,
                                         const std::vector<std::string>& delta, int run) {
  Site site;
  RETURN_IF_ERROR(MakeCredentials(cfg, &site));
  std::vector<std::string> peer_flags = {"--role", "offsite"};
  peer_flags.insert(peer_flags.end(), site.peer_flags.begin(), site.peer_flags.end());
  ASSIGN_OR_RETURN(Node p, StartNode(Beside("custodyd"), cfg.dir + "/peer", cfg.dir + "/peer.port",
                                     absl::StrCat(cfg.dir, "/peer-run", run, ".log"), peer_flags));
  site.peer = std::make_unique<Node>(std::move(p));
  RETURN_IF_ERROR(StartNodeOf(cfg, &site, run, "", false));
  RETURN_IF_ERROR(PutAll(site, cfg, files));
  RETURN_IF_ERROR(Cli(site, cfg, {"snapshot", "create"}).status());
  auto sync = [&]() -> absl::StatusOr<uint64_t> {
    std::vector<std::string> args = {"offsite", "sync", "--peer", site.peer->address};
    if (cfg.streams > 0) args.insert(args.end(), {"--streams", std::to_string(cfg.streams)});
    ASSIGN_OR_RETURN(json r, Cli(site, cfg, args));
    return r["bytes_sent"].get<uint64_t>();
  };
  std::vector<Step> steps;
  ASSIGN_OR_RETURN(Step full, Measure("sync, full", cfg, site, files, sync));
  steps.push_back(full);
  RETURN_IF_ERROR(PutAll(site, cfg, delta));
  ASSIGN_OR_RETURN(Step part, Measure("sync, 10% delta", cfg, site, delta, sync));
  steps.push_back(part);
  // The key that signed the snapshots: the emptied node gets a new one.
  ASSIGN_OR_RETURN(json shown, Cli(site, cfg, {"snapshot", "show"}));
  const std::string key = shown["signer_key"];
  RETURN_IF_ERROR(site.node->child.Stop(std::chrono::seconds(10)));
  RETURN_IF_ERROR(StartNodeOf(cfg, &site, run, "-restore", false));  // an empty data folder
  std::vector<std::string> all = files;
  all.insert(all.end(), delta.begin(), delta.end());
  ASSIGN_OR_RETURN(Step restore,
                   Measure("restore", cfg, site, all, [&]() -> absl::StatusOr<uint64_t> {
                     ASSIGN_OR_RETURN(json r, Cli(site, cfg,
                                                  {"restore", "--from-offsite", site.peer->address,
                                                   "--trust-signer-key", key}));
                     return r["bytes"].get<uint64_t>();
                   }));
  steps.push_back(restore);
  RETURN_IF_ERROR(site.node->child.Stop(std::chrono::seconds(10)));
  RETURN_IF_ERROR(site.peer->child.Stop(std::chrono::seconds(10)));
  fs::remove_all(cfg.dir + "/node");
  fs::remove_all(cfg.dir + "/peer");
  return steps;
}

absl::Status RunAll(const Config& cfg) {
  fs::create_directories(cfg.dir);
  std::vector<std::string> files, delta;
  for (int i = 0; i < cfg.files; ++i) {
    files.push_back(absl::StrCat(cfg.dir, "/file-", i));
    RETURN_IF_ERROR(WriteRandomFile(files.back(), cfg.size / cfg.files, 31 + i).status());
    delta.push_back(absl::StrCat(cfg.dir, "/delta-", i));
    RETURN_IF_ERROR(WriteRandomFile(delta.back(), cfg.size / cfg.files / 10, 131 + i).status());
  }
  RETURN_IF_ERROR(TcpCopy(files, cfg.dir + "/tcp.sink").status());  // warm-up, untimed
  // The disk's durable write limit, as volumes are written (the peer writes
  // every byte it receives that way; the TCP copy's sink is page-cached).
  std::vector<double> dd;
  RETURN_IF_ERROR(MeasureDdDirect(cfg.dir + "/dd.out", 128, 2, cfg.dir + "/dd.log", &dd));
  const double disk_mbps = 128 * 4.194304 / *std::min_element(dd.begin(), dd.end());
  if (!cfg.json) std::cout << "dd direct+dsync: " << disk_mbps << " MB/s\n";
  for (int w = 1; w <= cfg.warmups; ++w) {
    if (!cfg.json) std::cout << "warm-up run " << w << " (untimed)\n";
    RETURN_IF_ERROR(OneRun(cfg, files, delta, -w).status());
  }
  json runs = json::array();
  for (int run = 1; run <= cfg.runs; ++run) {
    ASSIGN_OR_RETURN(std::vector<Step> steps, OneRun(cfg, files, delta, run));
    json r = json::array();
    for (const Step& s : steps) {
      r.push_back({{"step", s.name},
                   {"bytes", s.bytes},
                   {"seconds", s.seconds},
                   {"mb_s", s.mbps()},
                   {"tcp_copy_mb_s", s.tcp_mbps()},
                   {"ratio", s.mbps() / s.tcp_mbps()},
                   {"cold_tcp_copy_mb_s", s.cold_tcp_mbps()},
                   {"ratio_cold", s.mbps() / s.cold_tcp_mbps()},
                   {"disk_read_while_writing_mb_s", s.ceiling_mbps()},
                   {"ratio_disk", s.mbps() / s.ceiling_mbps()},
                   {"vs_dd", s.mbps() / disk_mbps},
                   {"node_cpu_s_per_gib", s.node_cpu * (1ull << 30) / s.bytes},
                   {"peer_cpu_s_per_gib", s.peer_cpu * (1ull << 30) / s.bytes},
                   {"tcp_copy_cpu_s_per_gib", s.tcp_cpu_per_gib}});
      if (s.disk) {
        r.back()["disk_read_bytes"] = s.disk->read_bytes;
        r.back()["disk_written_bytes"] = s.disk->written_bytes;
        r.back()["disk_busy_fraction"] = s.disk->busy_ms / 1e3 / s.seconds;
      }
      if (!cfg.json) {
        std::cout << "run " << run << ": " << s.name << ": " << FormatBytes(s.bytes) << " in "
                  << s.seconds << " s = " << s.mbps() << " MB/s; TCP copy " << s.tcp_mbps()
                  << " MB/s; ratio " << s.mbps() / s.tcp_mbps() << "; cold TCP copy "
                  << s.cold_tcp_mbps() << " MB/s; ratio " << s.mbps() / s.cold_tcp_mbps()
                  << "; disk read while writing " << s.ceiling_mbps() << " MB/s; ratio "
                  << s.mbps() / s.ceiling_mbps() << "; vs dd " << s.mbps() / disk_mbps
                  << "; CPU s per GiB: node " << s.node_cpu * (1ull << 30) / s.bytes << ", peer "
                  << s.peer_cpu * (1ull << 30) / s.bytes << "; TCP copy " << s.tcp_cpu_per_gib;
        if (s.disk) {
          std::cout << "; disk read " << FormatBytes(s.disk->read_bytes) << ", wrote "
                    << FormatBytes(s.disk->written_bytes) << ", busy "
                    << 100 * s.disk->busy_ms / 1e3 / s.seconds << "% of the step";
        }
        std::cout << "\n";
      }
    }
    runs.push_back(r);
  }
  if (cfg.json) {
    std::cout << json{{"size", cfg.size},
                      {"files", cfg.files},
                      {"tls", cfg.tls},
                      {"dd_mb_s", disk_mbps},
                      {"runs", runs}}
                     .dump()
              << "\n";
  }
  for (const auto& v : {files, delta}) {
    for (const std::string& f : v) fs::remove(f);
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace custody::bench

int main(int argc, char** argv) {
  custody::TuneMalloc();
  custody::bench::Config cfg;
  std::string size = "2GiB";
  CLI::App app{"custody_offsite_bench: offsite sync and restore against a loopback TCP copy"};
  app.add_option("--size", size, "bytes of the first snapshot, split over --files (default 2GiB)");
  app.add_option("--files", cfg.files, "files (default 8); the delta is as many, a tenth the size")
      ->check(CLI::Range(1, 64));
  app.add_option("--runs", cfg.runs, "timed runs (default 2)")->check(CLI::Range(1, 20));
  app.add_option("--warmups", cfg.warmups, "untimed whole runs before the timed ones (default 1)")
      ->check(CLI::Range(0, 5));
  app.add_option("--dir", cfg.dir, "scratch folder (default bench-tmp/offsite)");
  app.add_option("--streams", cfg.streams, "blobs in flight in a sync (default: the CLI's)")
      ->check(CLI::Range(1, 64));
  app.add_flag("--tls", cfg.tls, "node and peer with certificates (mutual TLS)");
  app.add_flag("--json", cfg.json, "print one JSON document");
  CLI11_PARSE(app, argc, argv);
  absl::StatusOr<uint64_t> bytes = custody::ParseByteSize(size);
  if (!bytes.ok()) {
    std::cerr << "custody_offsite_bench: --size: " << bytes.status().message() << "\n";
    return 2;
  }
  cfg.size = *bytes;
  custody::bench::InstallCleanupHandlers();
  absl::Status s = custody::bench::RunAll(cfg);
  if (!s.ok()) {
    std::cerr << "custody_offsite_bench: FAILED: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
