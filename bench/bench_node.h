// Pieces the end-to-end benchmarks share: finding the binaries, timing a
// step, the SHA-256 limit measured with openssl, and a fresh custodyd.
#ifndef CUSTODY_BENCH_BENCH_NODE_H_
#define CUSTODY_BENCH_BENCH_NODE_H_

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/bench_process.h"

namespace custody::bench {

// A tool that sits beside this binary, or in the folder above it (the
// bench binaries are built in build/bench/, the node and CLI in build/).
std::string Beside(const std::string& name);

// Seconds `f` took, or its error.
template <typename F>
absl::StatusOr<double> Timed(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  absl::Status s = f();
  std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
  if (!s.ok()) return s;
  return d.count();
}

// `openssl dgst -sha256 path`: one untimed warm-up, then `runs` timed runs,
// appended to `seconds`. Fails unless openssl's hash is `id`.
absl::Status MeasureOpensslSha256(const std::string& path, const std::string& id, int runs,
                                  const std::string& log, std::vector<double>* seconds);

// The disk's durable write limit, as the node writes volumes: `dd
// if=/dev/zero of=path bs=4M count=blocks oflag=direct,dsync`; a short
// untimed warm-up, then `runs` timed runs appended to `seconds`. `path` is
// removed after each.
absl::Status MeasureDdDirect(const std::string& path, uint64_t blocks, int runs,
                             const std::string& log, std::vector<double>* seconds);

struct Node {
  Child child;
  std::string address, data_dir;
};

// Starts `custodyd` on `data_dir` (emptied first unless `keep_data`) and
// waits for its port file. Without `extra` flags it listens on a port it
// picks; with them (e.g. --cluster and --node-id) where they say.
absl::StatusOr<Node> StartNode(const std::string& custodyd, const std::string& data_dir,
                               const std::string& port_file, const std::string& log,
                               const std::vector<std::string>& extra = {}, bool keep_data = false);

// CPU seconds (user + system) that process `pid` has used so far, from
// /proc/PID/stat; 0 if it cannot be read.
double CpuSeconds(pid_t pid);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// Writes the cluster map of three local nodes n1, n2, n3 (zones a, b, a;
// R = 2), each on a port free a moment ago, to `path`.
void WriteLocalClusterMap(const std::string& path);

}  // namespace custody::bench

#endif  // CUSTODY_BENCH_BENCH_NODE_H_
