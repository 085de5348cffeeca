// custody_live_bench (issue 32): --cameras simulated cameras stream live to
// real custodyd nodes for --seconds. Each camera is a thread that appends
// --bitrate/8/8 bytes to its own file every 125 ms (8 Mbit/s by default);
// each file is streamed by the client library's StreamLive
// (client/live_uploader.h), as `custody live` does. For every
// acknowledgement, the latency is the time since the camera wrote the last
// byte acknowledged. Per run, a fresh node (R = 1) or a fresh local cluster
// of three nodes (R = 2), with --io-backend io_uring and pwrite: p50 and p99
// latency, the nodes' CPU (cores) and the coordinator's peak RSS.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/bench_node.h"
#include "client/live_uploader.h"
#include "common/process.h"
#include "common/status_macros.h"

namespace custody::bench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct Config {
  int cameras = 50, seconds = 120, replicas = 1;
  double bitrate = 8e6;
  std::vector<std::string> backends = {"io_uring", "pwrite"};
  std::string dir = "bench-tmp/live";
  // The cameras' own storage (an SD card), apart from the node's disk: on
  // the node's disk, the kernel's writeback of 50 cameras' unsynced files
  // every 30 s stalled the node's synced writes for up to 1 s.
  std::string camera_dir = "/dev/shm/custody-live-bench";
  bool json = false;
  // All cameras start at once, so every segment of every camera arrives in
  // the same instant (the worst case); else their starts spread evenly over
  // one segment's time, as cameras switched on by different people are.
  bool aligned = false;
};

// One camera's writes: the file's size after each, and when.
struct Camera {
  std::mutex mu;
  std::vector<std::pair<uint64_t, absl::Time>> writes;
  std::vector<double> latencies_ms;  // of its acknowledgements, in order
  absl::Time WrittenAt(uint64_t end) {
    std::lock_guard<std::mutex> l(mu);
    auto it = std::lower_bound(writes.begin(), writes.end(), end,
                               [](const auto& w, uint64_t e) { return w.first < e; });
    return it == writes.end() ? absl::Now() : it->second;
  }
};

void Record(const std::string& path, int seconds, uint64_t tick_bytes, Camera* cam) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::string buf(tick_bytes, '\0');
  uint64_t x = reinterpret_cast<uintptr_t>(cam), size = 0;
  absl::Time next = absl::Now();
  for (int i = 0; i < seconds * 8; ++i) {
    for (char& c : buf) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      c = static_cast<char>(x >> 56);
    }
    if (write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) break;
    size += buf.size();
    {
      std::lock_guard<std::mutex> l(cam->mu);
      cam->writes.emplace_back(size, absl::Now());
    }
    next += absl::Milliseconds(125);
    absl::SleepFor(next - absl::Now());
  }
  close(fd);
}

uint64_t PeakRssKiB(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

absl::StatusOr<std::vector<Node>> StartNodes(const Config& cfg, const std::string& backend,
                                             const std::string& run) {
  const std::string custodyd = Beside("custodyd");
  std::vector<Node> nodes;
  if (cfg.replicas == 1) {
    ASSIGN_OR_RETURN(Node n, StartNode(custodyd, cfg.dir + "/n1", cfg.dir + "/n1.port",
                                       cfg.dir + "/n1-" + run + ".log",
                                       {"--listen", "127.0.0.1:0", "--io-backend", backend}));
    nodes.push_back(std::move(n));
    return nodes;
  }
  const std::string map = cfg.dir + "/map.json";
  WriteLocalClusterMap(map);
  for (int i = 1; i <= 3; ++i) {
    const std::string name = absl::StrCat("n", i);
    ASSIGN_OR_RETURN(Node n,
                     StartNode(custodyd, cfg.dir + "/" + name, cfg.dir + "/" + name + ".port",
                               cfg.dir + "/" + name + "-" + run + ".log",
                               {"--cluster", map, "--node-id", name, "--io-backend", backend,
                                "--repair-interval", "0"}));
    nodes.push_back(std::move(n));
  }
  return nodes;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

absl::StatusOr<json> RunOnce(const Config& cfg, const std::string& backend) {
  ASSIGN_OR_RETURN(std::vector<Node> nodes, StartNodes(cfg, backend, backend));
  std::vector<double> cpu0;
  for (const Node& n : nodes) cpu0.push_back(CpuSeconds(n.child.pid()));
  const uint64_t tick = static_cast<uint64_t>(cfg.bitrate / 8 / 8);
  std::vector<std::unique_ptr<Camera>> cams;
  std::mutex lat_mu;
  std::vector<double> latencies_ms;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  const absl::Time t0 = absl::Now();
  const absl::Duration segment_time = absl::Seconds((1 << 20) * 8 / cfg.bitrate);
  for (int c = 0; c < cfg.cameras; ++c) {
    const absl::Duration phase =
        cfg.aligned ? absl::ZeroDuration() : segment_time * c / cfg.cameras;
    cams.push_back(std::make_unique<Camera>());
    const std::string path = absl::StrCat(cfg.camera_dir, "/cam-", backend, "-", c, ".mp4");
    Camera* cam = cams.back().get();
    threads.emplace_back([&, path, cam, phase] {
      absl::SleepFor(phase);
      Record(path, cfg.seconds, tick, cam);
    });
    threads.emplace_back([&, path, cam, c, phase] {
      absl::SleepFor(phase + absl::Milliseconds(50));  // the file exists
      LiveOptions o;
      o.path = path;
      o.device = absl::StrCat("CAM-", c);
      o.finish_after = absl::Seconds(2);
      o.progress = [&](uint64_t held, uint64_t) {
        double ms = absl::ToDoubleMilliseconds(absl::Now() - cam->WrittenAt(held));
        std::lock_guard<std::mutex> l(lat_mu);
        latencies_ms.push_back(ms);
        cam->latencies_ms.push_back(ms);
      };
      absl::StatusOr<LiveResult> r = StreamLive(nodes[0].address, o);
      if (!r.ok() || r->last.state() != "sealed") {
        std::cerr << path << ": " << (r.ok() ? r->last.state() : r.status().ToString()) << "\n";
        ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  double cpu = 0;
  for (size_t i = 0; i < nodes.size(); ++i) cpu += CpuSeconds(nodes[i].child.pid()) - cpu0[i];
  const uint64_t rss = PeakRssKiB(nodes[0].child.pid());
  for (Node& n : nodes) (void)n.child.Stop(std::chrono::milliseconds(10000));
  // While recording: without each camera's last segment, which waits for the
  // file to pause (250 ms) since nothing tells the client the camera stopped.
  std::vector<double> recording_ms;
  for (const auto& cam : cams) {
    if (cam->latencies_ms.empty()) continue;
    recording_ms.insert(recording_ms.end(), cam->latencies_ms.begin(), cam->latencies_ms.end() - 1);
  }
  if (failures > 0) return absl::InternalError(absl::StrCat(failures.load(), " cameras failed"));
  return json{{"backend", backend},
              {"replicas", cfg.replicas},
              {"acks", latencies_ms.size()},
              {"p50_ms", Percentile(latencies_ms, 0.50)},
              {"p99_ms", Percentile(latencies_ms, 0.99)},
              {"max_ms", Percentile(latencies_ms, 1.0)},
              {"recording_p50_ms", Percentile(recording_ms, 0.50)},
              {"recording_p99_ms", Percentile(recording_ms, 0.99)},
              {"recording_max_ms", Percentile(recording_ms, 1.0)},
              {"node_cpu_cores", cpu / secs},
              {"peak_rss_mib", rss / 1024.0},
              {"seconds", secs}};
}

absl::Status RunAll(const Config& cfg) {
  fs::create_directories(cfg.dir);
  fs::create_directories(cfg.camera_dir);
  json runs = json::array();
  for (const std::string& backend : cfg.backends) {
    ASSIGN_OR_RETURN(json r, RunOnce(cfg, backend));
    if (!cfg.json) std::cerr << r.dump() << "\n";
    runs.push_back(r);
  }
  json report{{"cameras", cfg.cameras},
              {"seconds", cfg.seconds},
              {"bitrate", cfg.bitrate},
              {"aligned", cfg.aligned},
              {"runs", runs}};
  std::cout << (cfg.json ? report.dump() : report.dump(2)) << "\n";
  for (const auto& e : fs::directory_iterator(cfg.camera_dir)) {
    if (e.path().extension() == ".mp4") fs::remove(e.path());
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace custody::bench

int main(int argc, char** argv) {
  custody::TuneMalloc();
  custody::bench::Config cfg;
  CLI::App app{"custody_live_bench: simulated cameras streaming live to custodyd"};
  app.add_option("--cameras", cfg.cameras, "cameras at once (default 50)")
      ->check(CLI::Range(1, 500));
  app.add_option("--seconds", cfg.seconds, "how long each records (default 120)")
      ->check(CLI::Range(1, 3600));
  app.add_option("--bitrate", cfg.bitrate, "bits per second per camera (default 8e6)");
  app.add_option("--replicas", cfg.replicas, "1: one node; 2: three local nodes, R = 2")
      ->check(CLI::IsMember({1, 2}));
  app.add_option("--backends", cfg.backends,
                 "io_uring and/or pwrite, comma-separated (default both)")
      ->delimiter(',');
  app.add_option("--dir", cfg.dir, "scratch folder (default bench-tmp/live)");
  app.add_option("--camera-dir", cfg.camera_dir,
                 "where the cameras write (default /dev/shm/custody-live-bench: not the node's "
                 "disk)");
  app.add_flag("--json", cfg.json, "print one JSON document");
  app.add_flag("--aligned", cfg.aligned,
               "start every camera at once (worst case); else spread over one segment's time");
  CLI11_PARSE(app, argc, argv);
  custody::bench::InstallCleanupHandlers();
  absl::Status s = custody::bench::RunAll(cfg);
  if (!s.ok()) {
    std::cerr << "custody_live_bench: FAILED: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
