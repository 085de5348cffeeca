// custody_cluster_bench: a local three-node cluster (R = 2, zones a, b, a)
// on this machine, against the machine's own SHA-256 limit, in one run:
//   1. generates --files random files of --size / --files bytes each, and a
//      small warm-up file, in --dir;
//   2. limits: `openssl dgst -sha256` of one file, and `dd` direct+dsync of
//      512 MiB in 4 MiB blocks (untimed warm-up, then best of --runs each);
//   3. per run, a fresh cluster: an untimed warm-up put, then the files put
//      at once, each through a different node (ingest: bytes / seconds until
//      every put is acknowledged with two durable copies);
//   4. then n2 is killed (SIGKILL), its data folder deleted, and it is
//      started again empty; `Repair` on every node is timed until it reports
//      nothing left to copy (repair: chunk bytes copied / seconds).
// Client and nodes share the machine's two cores. MB = 1e6 bytes.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/bench_node.h"
#include "bench/test_data.h"
#include "client/client.h"
#include "common/grpc_status.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "common/units.h"

namespace custody::bench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct Config {
  uint64_t size = 1ull << 30;
  int files = 4, runs = 3;
  std::string dir = "bench-tmp/cluster";
  bool json = false;
};

struct Cluster {
  std::vector<std::unique_ptr<Node>> nodes;
  std::string map_file;
  std::vector<std::string> Flags(int i) const {
    return {"--cluster", map_file, "--node-id", absl::StrCat("n", i + 1), "--repair-interval", "0"};
  }
};

absl::StatusOr<Cluster> StartCluster(const Config& cfg, const std::string& custodyd, int run) {
  Cluster c;
  c.map_file = absl::StrCat(cfg.dir, "/map.json");
  WriteLocalClusterMap(c.map_file);
  for (int i = 0; i < 3; ++i) {
    std::string name = absl::StrCat("n", i + 1);
    ASSIGN_OR_RETURN(Node n,
                     StartNode(custodyd, absl::StrCat(cfg.dir, "/", name),
                               absl::StrCat(cfg.dir, "/", name, ".port"),
                               absl::StrCat(cfg.dir, "/", name, "-run", run, ".log"), c.Flags(i)));
    c.nodes.push_back(std::make_unique<Node>(std::move(n)));
  }
  return c;
}

absl::Status PutAll(const Cluster& c, const std::vector<std::string>& paths) {
  std::vector<absl::Status> results(paths.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < paths.size(); ++i) {
    threads.emplace_back([&, i] {
      PutOptions opts;
      opts.upload_id = absl::StrCat("bench-", i, "-", absl::ToUnixNanos(absl::Now()));
      auto r = CustodyClient::Connect(c.nodes[i % 3]->address)->Put(paths[i], opts);
      if (!r.ok())
        results[i] = r.status();
      else if (r->durable_replicas < 2)
        results[i] = absl::InternalError("fewer than 2 copies");
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) RETURN_IF_ERROR(s);
  return absl::OkStatus();
}

// Repair on every node until a round copies nothing and leaves nothing
// missing; returns the chunk bytes copied.
absl::StatusOr<uint64_t> RepairUntilClean(const Cluster& c) {
  auto stub = v1::Custody::NewStub(CustodyClient::NewChannel(c.nodes[0]->address));
  uint64_t bytes = 0;
  for (int round = 0; round < 20; ++round) {
    grpc::ClientContext ctx;
    v1::RepairResponse r;
    RETURN_IF_ERROR(FromGrpcStatus(stub->Repair(&ctx, v1::RepairRequest(), &r)));
    bool clean = true;
    for (const v1::RepairReport& n : r.reports()) {
      bytes += n.bytes_pushed();
      clean = clean && n.errors().empty() && n.under_replicated() == 0;
    }
    if (clean) return bytes;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a peer reconnecting
  }
  return absl::DeadlineExceededError("repair did not finish in 20 rounds");
}

struct RunResult {
  double ingest_s = 0, repair_s = 0;
  uint64_t repair_bytes = 0;
};

absl::StatusOr<RunResult> OneRun(const Config& cfg, const std::vector<std::string>& files,
                                 const std::string& warmup, int run) {
  const std::string custodyd = Beside("custodyd");
  ASSIGN_OR_RETURN(Cluster c, StartCluster(cfg, custodyd, run));
  RETURN_IF_ERROR(PutAll(c, {warmup}));
  RunResult out;
  ASSIGN_OR_RETURN(out.ingest_s, Timed([&] { return PutAll(c, files); }));
  // Wipe n2 and bring it back empty.
  const std::string n2_dir = c.nodes[1]->data_dir;
  kill(c.nodes[1]->child.pid(), SIGKILL);
  c.nodes[1].reset();  // reaps it
  fs::remove_all(n2_dir);
  ASSIGN_OR_RETURN(Node back,
                   StartNode(custodyd, n2_dir, absl::StrCat(cfg.dir, "/n2.port"),
                             absl::StrCat(cfg.dir, "/n2-run", run, "-back.log"), c.Flags(1)));
  c.nodes[1] = std::make_unique<Node>(std::move(back));
  ASSIGN_OR_RETURN(out.repair_s, Timed([&]() -> absl::Status {
                     ASSIGN_OR_RETURN(out.repair_bytes, RepairUntilClean(c));
                     return absl::OkStatus();
                   }));
  for (auto& n : c.nodes) RETURN_IF_ERROR(n->child.Stop(std::chrono::seconds(10)));
  for (auto& n : c.nodes) fs::remove_all(n->data_dir);
  return out;
}

absl::Status RunAll(const Config& cfg) {
  fs::create_directories(cfg.dir);
  const uint64_t each = cfg.size / cfg.files;
  std::vector<std::string> files, ids;
  for (int i = 0; i < cfg.files; ++i) {
    files.push_back(absl::StrCat(cfg.dir, "/file-", i));
    ASSIGN_OR_RETURN(std::string id, WriteRandomFile(files.back(), each, 77 + i));
    ids.push_back(id);
  }
  std::string warmup = cfg.dir + "/warmup";
  RETURN_IF_ERROR(WriteRandomFile(warmup, 8 << 20, 5).status());
  std::vector<double> sha;
  RETURN_IF_ERROR(MeasureOpensslSha256(files[0], ids[0], cfg.runs, cfg.dir + "/openssl.log", &sha));
  const double sha_mbps = each / 1e6 / *std::min_element(sha.begin(), sha.end());
  std::vector<double> dd;
  RETURN_IF_ERROR(MeasureDdDirect(cfg.dir + "/dd.out", 128, cfg.runs, cfg.dir + "/dd.log", &dd));
  const double disk_mbps = 128 * 4.194304 / *std::min_element(dd.begin(), dd.end());
  json runs = json::array();
  double best_ingest = 0, best_repair = 0;
  for (int run = 1; run <= cfg.runs; ++run) {
    ASSIGN_OR_RETURN(RunResult r, OneRun(cfg, files, warmup, run));
    double ingest = cfg.files * each / 1e6 / r.ingest_s;
    double repair = r.repair_bytes / 1e6 / r.repair_s;
    best_ingest = std::max(best_ingest, ingest);
    best_repair = std::max(best_repair, repair);
    runs.push_back({{"ingest_mb_s", ingest},
                    {"repair_mb_s", repair},
                    {"repair_bytes", r.repair_bytes},
                    {"repair_s", r.repair_s}});
    if (!cfg.json) {
      std::cout << "run " << run << ": ingest " << ingest << " MB/s (" << ingest / sha_mbps
                << "x SHA-256); repair after wipe " << FormatBytes(r.repair_bytes) << " in "
                << r.repair_s << " s = " << repair << " MB/s (" << repair / sha_mbps << "x)\n";
      std::cout << "  every ingested byte is written twice (R = 2) on this one disk: "
                << 2 * ingest / disk_mbps << "x the dd limit\n";
    }
  }
  json report{{"bytes_per_run", cfg.files * each},
              {"files", cfg.files},
              {"sha256_mb_s", sha_mbps},
              {"disk_mb_s", disk_mbps},
              {"best_ingest_mb_s", best_ingest},
              {"ingest_copies_vs_disk", 2 * best_ingest / disk_mbps},
              {"ingest_vs_sha256", best_ingest / sha_mbps},
              {"best_repair_mb_s", best_repair},
              {"repair_vs_sha256", best_repair / sha_mbps},
              {"runs", runs}};
  if (cfg.json) {
    std::cout << report.dump() << "\n";
  } else {
    std::cout << "openssl sha256: " << sha_mbps << " MB/s; dd direct: " << disk_mbps
              << " MB/s; best ingest " << best_ingest << " MB/s = " << best_ingest / sha_mbps
              << "x; best repair " << best_repair << " MB/s = " << best_repair / sha_mbps << "x\n";
  }
  for (const std::string& f : files) fs::remove(f);
  fs::remove(warmup);
  return absl::OkStatus();
}

}  // namespace
}  // namespace custody::bench

int main(int argc, char** argv) {
  custody::TuneMalloc();
  custody::bench::Config cfg;
  std::string size = "1GiB";
  CLI::App app{"custody_cluster_bench: ingest and repair on a local three-node cluster"};
  app.add_option("--size", size, "bytes put per run, split over --files (default 1GiB)");
  app.add_option("--files", cfg.files, "files put at once (default 4)")->check(CLI::Range(1, 64));
  app.add_option("--runs", cfg.runs, "timed runs (default 3)")->check(CLI::Range(1, 20));
  app.add_option("--dir", cfg.dir, "scratch folder (default bench-tmp/cluster)");
  app.add_flag("--json", cfg.json, "print one JSON document");
  CLI11_PARSE(app, argc, argv);
  absl::StatusOr<uint64_t> bytes = custody::ParseByteSize(size);
  if (!bytes.ok()) {
    std::cerr << "custody_cluster_bench: --size: " << bytes.status().message() << "\n";
    return 2;
  }
  cfg.size = *bytes;
  custody::bench::InstallCleanupHandlers();
  absl::Status s = custody::bench::RunAll(cfg);
  if (!s.ok()) {
    std::cerr << "custody_cluster_bench: FAILED: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
