// custody_ingest_bench: a docking station's folder through custody-ingestd
// into a real custodyd, against the machine's own limits, in one run:
//   1. generates --files random files of --size each (with sidecars) in a
//      staging folder, spread over three device folders;
//   2. SHA-256 limit: `openssl dgst -sha256` of one of them (untimed
//      warm-up, then best of --runs); disk limit: dd direct,dsync of --size;
//   3. per run: a fresh node and a fresh daemon (--parallel, --settle 0.2);
//      an untimed warm-up file goes through first; then the files are moved
//      into the watched folder at once (renames), and the time runs until the
//      daemon's status says all are done. Files go back to staging after.
// Rates are MB/s with MB = 1e6 bytes.
#include <sys/statvfs.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/bench_node.h"
#include "bench/bench_process.h"
#include "bench/e2e_report.h"
#include "bench/test_data.h"
#include "common/status_macros.h"
#include "common/units.h"

namespace custody::bench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Config {
  uint64_t size = 256ull << 20;
  int files = 20, parallel = 2, runs = 2;
  std::string dir = "./bench-tmp", custodyd, ingestd;
  std::string Path(const std::string& name) const { return dir + "/" + name; }
  std::string Log(const std::string& name) const { return dir + "/logs/" + name + ".log"; }
};

void Say(const std::string& msg) { std::cerr << "[ingest] " << msg << std::endl; }

// "CAM-<i % 3>/clip-<i>.mp4"
std::string Rel(int i) { return absl::StrCat("CAM-", i % 3, "/clip-", i, ".mp4"); }

absl::Status WriteSidecar(const std::string& path) {
  std::ofstream(path + ".json") << R"({"agency": "A", "officers": ["A1023"], "matter": 4, )"
                                << R"("start": "2026-11-26T09:30:00+08:00"})";
  return absl::OkStatus();
}

// The files in staging/, and the one id openssl is checked against.
absl::StatusOr<std::string> MakeInputs(const Config& cfg) {
  Say(absl::StrCat("generating ", cfg.files, " x ", FormatBytes(cfg.size), " in ", cfg.dir));
  std::string first_id;
  for (int i = -1; i < cfg.files; ++i) {  // -1: the warm-up file
    std::string rel = i < 0 ? "CAM-0/warmup.mp4" : Rel(i);
    std::string path = cfg.Path("staging/" + rel);
    fs::create_directories(fs::path(path).parent_path());
    ASSIGN_OR_RETURN(std::string id,
                     WriteRandomFile(path, i < 0 ? 16ull << 20 : cfg.size, 1000 + i));
    RETURN_IF_ERROR(WriteSidecar(path));
    if (i == 0) first_id = id;
  }
  return first_id;
}

// Moves a recording and its sidecar from one tree to another.
absl::Status MoveFile(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(fs::path(to).parent_path(), ec);
  fs::rename(from, to, ec);
  if (!ec) fs::rename(from + ".json", to + ".json", ec);
  if (ec) return absl::InternalError(absl::StrCat("moving ", from, ": ", ec.message()));
  return absl::OkStatus();
}

// Waits until the daemon's status reports `done` files done.
absl::Status WaitDone(const Config& cfg, Child* daemon, uint64_t done) {
  for (;;) {
    std::ifstream in(cfg.Path("state/status.json"));
    json j = json::parse(in, nullptr, false);
    if (!j.is_discarded() && j.value("quarantined", 0) > 0) {
      return absl::InternalError("a file was quarantined: see " + cfg.Path("station/quarantine"));
    }
    if (!j.is_discarded() && j.value("done", uint64_t{0}) >= done) return absl::OkStatus();
    if (daemon->Exited()) return absl::InternalError("custody-ingestd exited");
    if (Interrupted()) return absl::CancelledError("interrupted");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

absl::StatusOr<double> RunOnce(const Config& cfg, int run) {
  Say(absl::StrCat("run ", run + 1, "/", cfg.runs, ": fresh node and daemon"));
  std::error_code ec;
  fs::remove_all(cfg.Path("station"), ec);
  fs::remove_all(cfg.Path("state"), ec);
  fs::create_directories(cfg.Path("station"), ec);
  ASSIGN_OR_RETURN(Node node, StartNode(cfg.custodyd, cfg.Path("node-data"), cfg.Path("port"),
                                        cfg.Log(absl::StrCat("node-", run + 1))));
  ASSIGN_OR_RETURN(Child daemon,
                   Child::Start({cfg.ingestd, "--watch", cfg.Path("station"), "--server",
                                 node.address, "--state", cfg.Path("state"), "--parallel",
                                 std::to_string(cfg.parallel), "--settle", "0.2", "--poll", "0.1"},
                                cfg.Log(absl::StrCat("ingestd-", run + 1))));
  const std::string warm = "CAM-0/warmup.mp4";
  RETURN_IF_ERROR(MoveFile(cfg.Path("staging/" + warm), cfg.Path("station/" + warm)));
  RETURN_IF_ERROR(WaitDone(cfg, &daemon, 1));
  RETURN_IF_ERROR(MoveFile(cfg.Path("station/done/" + warm), cfg.Path("staging/" + warm)));
  ASSIGN_OR_RETURN(
      double secs, Timed([&]() -> absl::Status {
        for (int i = 0; i < cfg.files; ++i) {
          RETURN_IF_ERROR(MoveFile(cfg.Path("staging/" + Rel(i)), cfg.Path("station/" + Rel(i))));
        }
        return WaitDone(cfg, &daemon, cfg.files + 1);
      }));
  for (int i = 0; i < cfg.files; ++i) {
    RETURN_IF_ERROR(MoveFile(cfg.Path("station/done/" + Rel(i)), cfg.Path("staging/" + Rel(i))));
  }
  RETURN_IF_ERROR(daemon.Stop(std::chrono::seconds(30)));
  RETURN_IF_ERROR(node.child.Stop(std::chrono::seconds(30)));
  fs::remove_all(node.data_dir, ec);
  return secs;
}

absl::Status CheckSetup(const Config& cfg) {
  for (const std::string& tool : {cfg.custodyd, cfg.ingestd}) {
    if (access(tool.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(tool, " is not an executable"));
    }
  }
  std::error_code ec;
  fs::create_directories(cfg.dir + "/logs", ec);
  struct statvfs st;
  const uint64_t need = 2 * cfg.size * cfg.files + (256ull << 20);
  if (statvfs(cfg.dir.c_str(), &st) == 0 && uint64_t{st.f_bavail} * st.f_frsize < need) {
    return absl::ResourceExhaustedError(
        absl::StrCat(cfg.dir, " needs ", FormatBytes(need), " free (inputs and node data)"));
  }
  return absl::OkStatus();
}

absl::Status RunAll(const Config& cfg) {
  RETURN_IF_ERROR(CheckSetup(cfg));
  ASSIGN_OR_RETURN(std::string id, MakeInputs(cfg));
  Measure hash{"sha256_limit", "sha256 limit (openssl, 1 core)"};
  Measure ingest{"ingest", absl::StrCat("ingest, --parallel ", cfg.parallel)};
  hash.bytes = cfg.size;
  ingest.bytes = cfg.size * cfg.files;
  Say("measuring the SHA-256 limit with openssl");
  RETURN_IF_ERROR(MeasureOpensslSha256(cfg.Path("staging/" + Rel(0)), id, cfg.runs,
                                       cfg.Log("openssl"), &hash.seconds));
  Measure disk{"disk_limit", "disk limit (dd direct,dsync)"};
  disk.bytes = cfg.size / (4 << 20) * (4 << 20);
  Say("measuring the durable write limit with dd");
  RETURN_IF_ERROR(MeasureDdDirect(cfg.Path("ddtest"), cfg.size / (4 << 20), cfg.runs, cfg.Log("dd"),
                                  &disk.seconds));
  for (int r = 0; r < cfg.runs; ++r) {
    ASSIGN_OR_RETURN(double secs, RunOnce(cfg, r));
    ingest.seconds.push_back(secs);
  }
  std::cout << "custody ingest bench: " << cfg.files << " x " << cfg.size << "-byte files through "
            << "custody-ingestd --parallel " << cfg.parallel << " into one custodyd, " << cfg.runs
            << " run(s); MB = 1e6 bytes\n"
            << "sha256 limit (openssl, 1 core): best " << hash.BestMBps() << " MB/s\n"
            << "disk limit (dd direct,dsync 4M): best " << disk.BestMBps() << " MB/s\n"
            << "ingest: best " << ingest.BestMBps() << " MB/s, median " << ingest.MedianMBps()
            << " MB/s; best / sha256 limit = " << ingest.BestMBps() / hash.BestMBps()
            << ", median / sha256 limit = " << ingest.MedianMBps() / hash.BestMBps()
            << ", best / disk limit = " << ingest.BestMBps() / disk.BestMBps() << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace custody::bench

int main(int argc, char** argv) {
  custody::bench::Config cfg;
  cfg.custodyd = custody::bench::Beside("custodyd");
  cfg.ingestd = custody::bench::Beside("custody-ingestd");
  CLI::App app{"custody_ingest_bench: a station folder through custody-ingestd vs SHA-256"};
  std::string size = "256MiB";
  app.add_option("--files", cfg.files, "files")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--size", size, "bytes per file")->capture_default_str();
  app.add_option("--parallel", cfg.parallel, "the daemon's --parallel")->capture_default_str();
  app.add_option("--runs", cfg.runs, "timed runs")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--dir", cfg.dir, "work folder (not tmpfs: the node uses O_DIRECT)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  absl::StatusOr<uint64_t> bytes = custody::ParseByteSize(size);
  if (!bytes.ok()) {
    std::cerr << "custody_ingest_bench: --size: " << bytes.status().message() << "\n";
    return 2;
  }
  cfg.size = *bytes;
  custody::bench::InstallCleanupHandlers();
  absl::Status s = custody::bench::RunAll(cfg);
  std::error_code ec;
  for (const char* d : {"staging", "station", "state", "node-data", "port", "ddtest"}) {
    std::filesystem::remove_all(cfg.Path(d), ec);
  }
  if (!s.ok()) {
    std::cerr << "custody_ingest_bench: FAILED: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
