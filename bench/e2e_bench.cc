// custody_e2e_bench: end-to-end throughput of a real custodyd and the custody
// CLI, against the machine's own limits, in one run:
//   1. generates a random file of --size, four more of --size/4 each (so the
//      concurrent step moves the same bytes as the single one), and a small
//      warm-up file, all in --dir;
//   2. SHA-256 limit: `openssl dgst -sha256` of the file (untimed warm-up,
//      then best of --runs); its hash must be the id we computed;
//   3. disk limit: `dd ... oflag=direct,dsync` in 4 MiB blocks, as the node
//      writes volumes (short untimed warm-up, then best of --runs);
//   4. per run, a fresh node: warm-up put, then timed put, get, and four
//      concurrent puts; the node's VmHWM after the single put is its ingest
//      peak RSS. The node is stopped and its data deleted after each run.
// Rates are MB/s with MB = 1e6 bytes.
#include <sys/statvfs.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bench/bench_node.h"
#include "bench/bench_process.h"
#include "bench/e2e_report.h"
#include "bench/test_data.h"
#include "common/status_macros.h"
#include "common/units.h"

namespace custody::bench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kDdBlock = 4 * kMiB;  // dd bs=4M
constexpr uint64_t kWarmupBytes = 8 * kMiB;

struct Config {
  uint64_t size = 0;
  std::string dir, custodyd, custody;
  int runs = 3;
  bool json = false;
  // Also measure the node with TLS and encryption at rest, alternating with
  // the plain node run by run.
  bool secure = false;
  std::string Path(const std::string& name) const { return dir + "/" + name; }
  std::string Log(const std::string& name) const { return dir + "/logs/" + name + ".log"; }
};

struct TestFile {
  std::string path, id;
  uint64_t size = 0;
};

struct Inputs {
  TestFile single, warmup;
  std::vector<TestFile> quarters;
};

void Say(const std::string& msg) { std::cerr << "[e2e] " << msg << std::endl; }

// Checks the tools and the free space: inputs (2x size), node data (2x
// size), a get's output (1x size), and the node's 64 MiB reserve.
absl::Status CheckSetup(const Config& cfg) {
  if (cfg.size < kDdBlock) return absl::InvalidArgumentError("--size must be at least 4MiB");
  if (cfg.runs < 1) return absl::InvalidArgumentError("--runs must be at least 1");
  for (const std::string& tool : {cfg.custodyd, cfg.custody}) {
    if (access(tool.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(tool,
                                                        " is not an executable (build it, "
                                                        "or pass --custodyd / --custody)"));
    }
  }
  std::error_code ec;
  fs::create_directories(cfg.dir + "/logs", ec);
  if (ec) return absl::InternalError(absl::StrCat("creating ", cfg.dir, ": ", ec.message()));
  struct statvfs st;
  const uint64_t need = 5 * cfg.size + kWarmupBytes + 128 * kMiB;
  if (statvfs(cfg.dir.c_str(), &st) == 0 && uint64_t{st.f_bavail} * st.f_frsize < need) {
    return absl::ResourceExhaustedError(
        absl::StrCat(cfg.dir, " has ", FormatBytes(double(st.f_bavail) * st.f_frsize),
                     " free; need ", FormatBytes(double(need)), " (5x --size)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TestFile> MakeFile(const Config& cfg, const std::string& name, uint64_t size,
                                  uint64_t seed) {
  TestFile f{cfg.Path(name), "", size};
  ASSIGN_OR_RETURN(f.id, WriteRandomFile(f.path, size, seed));
  return f;
}

absl::StatusOr<Inputs> MakeInputs(const Config& cfg) {
  Say(absl::StrCat("generating test files in ", cfg.dir));
  Inputs in;
  ASSIGN_OR_RETURN(in.single, MakeFile(cfg, "input.bin", cfg.size, 1));
  ASSIGN_OR_RETURN(in.warmup, MakeFile(cfg, "warmup.bin", kWarmupBytes, 2));
  for (uint64_t i = 0; i < 4; ++i) {
    ASSIGN_OR_RETURN(TestFile q,
                     MakeFile(cfg, absl::StrCat("input-q", i + 1, ".bin"), cfg.size / 4, 3 + i));
    in.quarters.push_back(q);
  }
  return in;
}

// Every file the bench creates, except the logs, removed when it ends.
void RemoveScratch(const Config& cfg) {
  std::error_code ec;
  for (const char* name :
       {"input.bin", "warmup.bin", "input-q1.bin", "input-q2.bin", "input-q3.bin", "input-q4.bin",
        "ddtest", "out", "port", "port.tmp", "node-data", "tls"}) {
    fs::remove_all(cfg.Path(name), ec);
  }
}

absl::Status MeasureHash(const Config& cfg, const TestFile& f, Measure* m) {
  Say("measuring the SHA-256 limit with openssl");
  m->bytes = f.size;
  return MeasureOpensslSha256(f.path, f.id, cfg.runs, cfg.Log("openssl"), &m->seconds);
}

absl::Status MeasureDisk(const Config& cfg, Measure* m) {
  Say("measuring the durable write limit with dd");
  m->bytes = cfg.size / kDdBlock * kDdBlock;
  return MeasureDdDirect(cfg.Path("ddtest"), cfg.size / kDdBlock, cfg.runs, cfg.Log("dd"),
                         &m->seconds);
}

// A CA, node and user certificates and a data key for the secure runs,
// made once in DIR/tls with the tools themselves.
absl::Status MakeSecrets(const Config& cfg) {
  const std::string t = cfg.Path("tls");
  std::error_code ec;
  fs::remove_all(t, ec);
  fs::create_directories(t, ec);
  RETURN_IF_ERROR(Run({cfg.custody, "ca", "init", t + "/ca"}, cfg.Log("tls")).status());
  RETURN_IF_ERROR(Run({cfg.custody, "ca", "issue", "--ca", t + "/ca", "--node", "bench", "--host",
                       "127.0.0.1", "-o", t + "/node"},
                      cfg.Log("tls"))
                      .status());
  // The reader is an officer; the two who approve its viewing grant are an
  // archive-head and a leader (article 21).
  for (const auto& [name, role] : {std::pair<std::string, std::string>{"user", "officer"},
                                   {"head", "archive-head"},
                                   {"leader", "leader"}}) {
    RETURN_IF_ERROR(Run({cfg.custody, "ca", "issue", "--ca", t + "/ca", "--user",
                         absl::StrCat("bench-", name), "--role", role, "-o", t + "/" + name},
                        cfg.Log("tls"))
                        .status());
  }
  return Run({cfg.custodyd, "--generate-data-key", t + "/data.key"}, cfg.Log("tls")).status();
}

// The CLI's arguments before the subcommand.
std::vector<std::string> Cli(const Config& cfg, const Node& node, bool secure) {
  std::vector<std::string> a{cfg.custody, "--server", node.address};
  if (secure) a.insert(a.end(), {"--tls", cfg.Path("tls/user")});
  return a;
}

std::vector<std::string> With(std::vector<std::string> a, std::vector<std::string> more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

absl::StatusOr<Node> StartNode(const Config& cfg, int run, bool secure) {
  std::vector<std::string> extra;
  if (secure) {
    extra = {"--listen",           "127.0.0.1:0", "--tls",
             cfg.Path("tls/node"), "--data-key",  cfg.Path("tls/data.key")};
  }
  return bench::StartNode(cfg.custodyd, cfg.Path("node-data"), cfg.Path("port"),
                          cfg.Log(absl::StrCat(secure ? "secure-node-" : "node-", run + 1)), extra);
}

absl::StatusOr<Child> StartPut(const Config& cfg, const Node& node, bool secure, const TestFile& f,
                               const std::string& log) {
  return Child::Start(With(Cli(cfg, node, secure), {"put", f.path, "--json"}), cfg.Log(log));
}

// Checks a put's JSON: the id is the file's hash and the bytes were stored
// by this put (a dedup no-op would measure nothing).
absl::Status CheckPut(const std::string& out, const TestFile& f) {
  json j = json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("id")) {
    return absl::InternalError(absl::StrCat("put printed no JSON id: \"", out, "\""));
  }
  if (j["id"] != f.id) {
    return absl::DataLossError(
        absl::StrCat("put of ", f.path, " returned id ", j["id"].dump(), ", expected ", f.id));
  }
  if (j.value("already_stored", false) || j.value("size", uint64_t{0}) != f.size) {
    return absl::InternalError(absl::StrCat("put of ", f.path, " did not store it: ", out));
  }
  return absl::OkStatus();
}

absl::Status Put(const Config& cfg, const Node& node, bool secure, const TestFile& f,
                 const std::string& log) {
  ASSIGN_OR_RETURN(Child c, StartPut(cfg, node, secure, f, log));
  ASSIGN_OR_RETURN(std::string out, c.Finish());
  return CheckPut(out, f);
}

// Four puts at once; every one must succeed.
absl::Status PutConcurrently(const Config& cfg, const Node& node, bool secure,
                             const std::vector<TestFile>& files) {
  std::vector<Child> children;
  for (size_t i = 0; i < files.size(); ++i) {
    ASSIGN_OR_RETURN(Child c, StartPut(cfg, node, secure, files[i], absl::StrCat("put4-", i + 1)));
    children.push_back(std::move(c));
  }
  absl::Status status;
  for (size_t i = 0; i < children.size(); ++i) {
    absl::StatusOr<std::string> out = children[i].Finish();
    absl::Status s = out.ok() ? CheckPut(*out, files[i]) : out.status();
    if (status.ok()) status = s;
  }
  return status;
}

// A secure node reads footage only under a viewing grant: the reader asks,
// the archive-head and the leader approve (untimed).
absl::Status Grant(const Config& cfg, const Node& node, const TestFile& f) {
  ASSIGN_OR_RETURN(std::string out,
                   Run(With(Cli(cfg, node, true),
                            {"access", "request", f.id, "--reason", "benchmark", "--json"}),
                       cfg.Log("grant")));
  json j = json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("request")) {
    return absl::InternalError(absl::StrCat("access request printed no id: \"", out, "\""));
  }
  const std::string request = j["request"].get<std::string>();
  for (const char* approver : {"head", "leader"}) {
    RETURN_IF_ERROR(Run({cfg.custody, "--server", node.address, "--tls",
                         cfg.Path("tls/") + approver, "access", "approve", request},
                        cfg.Log("grant"))
                        .status());
  }
  return absl::OkStatus();
}

// The client checks the bytes against the id; we check the length.
absl::Status Get(const Config& cfg, const Node& node, bool secure, const TestFile& f) {
  const std::string out = cfg.Path("out");
  std::error_code ec;
  fs::remove(out, ec);
  absl::Status s =
      Run(With(Cli(cfg, node, secure), {"get", f.id, "-o", out, "--json"}), cfg.Log("get"))
          .status();
  if (s.ok() && fs::file_size(out, ec) != f.size) {
    s = absl::DataLossError(absl::StrCat("get wrote ", out, " of the wrong size"));
  }
  fs::remove(out, ec);
  return s;
}

// VmHWM of `pid`: the peak resident set since it started.
absl::StatusOr<double> PeakRssMib(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v(line);
    uint64_t kib = 0;
    if (absl::ConsumePrefix(&v, "VmHWM:") && absl::ConsumeSuffix(&v, "kB") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &kib)) {
      return static_cast<double>(kib) / 1024;
    }
  }
  return absl::InternalError(absl::StrCat("no VmHWM in /proc/", pid, "/status"));
}

std::string IoBackend(const Config& cfg, const Node& node, bool secure) {
  absl::StatusOr<std::string> out =
      Run(With(Cli(cfg, node, secure), {"status", "--json"}), cfg.Log("status"));
  if (!out.ok()) return "";
  json j = json::parse(*out, nullptr, false);
  return j.is_object() ? j.value("io_backend", "") : "";
}

absl::Status RunOnce(const Config& cfg, const Inputs& in, int run, bool secure, Results* r) {
  Say(absl::StrCat("run ", run + 1, "/", cfg.runs, secure ? " (TLS + encryption at rest)" : "",
                   ": fresh node, put, get, 4 x put"));
  ASSIGN_OR_RETURN(Node node, StartNode(cfg, run, secure));
  RETURN_IF_ERROR(Put(cfg, node, secure, in.warmup, "warmup"));
  ASSIGN_OR_RETURN(double put, Timed([&] { return Put(cfg, node, secure, in.single, "put"); }));
  ASSIGN_OR_RETURN(double rss, PeakRssMib(node.child.pid()));
  if (secure) RETURN_IF_ERROR(Grant(cfg, node, in.single));
  ASSIGN_OR_RETURN(double get, Timed([&] { return Get(cfg, node, secure, in.single); }));
  ASSIGN_OR_RETURN(double put4,
                   Timed([&] { return PutConcurrently(cfg, node, secure, in.quarters); }));
  if (r->io_backend.empty()) r->io_backend = IoBackend(cfg, node, secure);
  RETURN_IF_ERROR(node.child.Stop(std::chrono::seconds(30)));
  std::error_code ec;
  fs::remove_all(node.data_dir, ec);
  r->put.seconds.push_back(put);
  r->get.seconds.push_back(get);
  r->put4.seconds.push_back(put4);
  r->node_peak_rss_mib.push_back(rss);
  return absl::OkStatus();
}

absl::Status RunAll(const Config& cfg) {
  RETURN_IF_ERROR(CheckSetup(cfg));
  ASSIGN_OR_RETURN(Inputs in, MakeInputs(cfg));
  Results r;
  r.file_bytes = cfg.size;
  r.concurrent_bytes = cfg.size / 4;
  r.runs = cfg.runs;
  r.put.bytes = r.get.bytes = cfg.size;
  r.put4.bytes = 4 * r.concurrent_bytes;
  RETURN_IF_ERROR(MeasureHash(cfg, in.single, &r.hash));
  RETURN_IF_ERROR(MeasureDisk(cfg, &r.disk));
  Results secure = r;
  if (cfg.secure) RETURN_IF_ERROR(MakeSecrets(cfg));
  for (int i = 0; i < cfg.runs; ++i) {  // A/B: plain, then secure, run by run
    RETURN_IF_ERROR(RunOnce(cfg, in, i, false, &r));
    if (cfg.secure) RETURN_IF_ERROR(RunOnce(cfg, in, i, true, &secure));
  }
  if (cfg.json) {
    json out = ToJson(r);
    if (cfg.secure) out["tls_and_encryption_at_rest"] = ToJson(secure);
    std::cout << out.dump(2) << "\n";
  } else {
    PrintTable(r, std::cout);
    if (cfg.secure) {
      std::cout << "\nwith TLS (client and node) and AES-256-GCM encryption at rest:\n";
      PrintTable(secure, std::cout);
    }
  }
  return absl::OkStatus();
}

// Parses the flags into `cfg`; an exit code when the program should stop.
std::optional<int> ParseFlags(int argc, char** argv, Config* cfg) {
  CLI::App app{"custody_e2e_bench: end-to-end put/get throughput vs SHA-256 and disk limits"};
  std::string size = "1GiB";
  cfg->dir = "./bench-tmp";
  cfg->custodyd = Beside("custodyd");
  cfg->custody = Beside("custody");
  app.add_option("--size", size, "bytes of the single-stream file (64MiB, 2GiB, ...)")
      ->capture_default_str();
  app.add_option("--dir", cfg->dir, "work folder (not tmpfs: dd and the node use O_DIRECT)")
      ->capture_default_str();
  app.add_option("--custodyd", cfg->custodyd, "the node binary")->capture_default_str();
  app.add_option("--custody", cfg->custody, "the CLI binary")->capture_default_str();
  app.add_option("--runs", cfg->runs, "timed runs (best and median are reported)")
      ->capture_default_str();
  app.add_flag("--json", cfg->json, "print one JSON document instead of the table");
  app.add_flag("--secure", cfg->secure,
               "also run a node with --tls and --data-key (and the CLI with --tls), alternating "
               "with the plain node run by run");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  absl::StatusOr<uint64_t> bytes = ParseByteSize(size);
  if (!bytes.ok()) {
    std::cerr << "custody_e2e_bench: --size: " << bytes.status().message() << "\n";
    return 2;
  }
  cfg->size = *bytes;
  return std::nullopt;
}

}  // namespace
}  // namespace custody::bench

int main(int argc, char** argv) {
  custody::bench::Config cfg;
  if (std::optional<int> rc = custody::bench::ParseFlags(argc, argv, &cfg)) return *rc;
  custody::bench::InstallCleanupHandlers();
  absl::Status s = custody::bench::RunAll(cfg);
  custody::bench::RemoveScratch(cfg);
  if (int sig = custody::bench::Interrupted(); sig != 0) {
    std::cerr << "custody_e2e_bench: interrupted by signal " << sig << "; cleaned up\n";
    return 128 + sig;
  }
  if (!s.ok()) {
    std::cerr << "custody_e2e_bench: FAILED: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
