// Results of the end-to-end benchmark and how they are printed.
#ifndef CUSTODY_BENCH_E2E_REPORT_H_
#define CUSTODY_BENCH_E2E_REPORT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace custody::bench {

// One measured step: the bytes it moves each time and how long each timed
// run took. Rates are in MB/s with MB = 1e6 bytes.
struct Measure {
  Measure(std::string k, std::string l) : key(std::move(k)), label(std::move(l)) {}

  std::string key;    // JSON key, e.g. "put_x4"
  std::string label;  // table label
  uint64_t bytes = 0;
  std::vector<double> seconds;

  double BestMBps() const;
  double MedianMBps() const;
};

struct Results {
  uint64_t file_bytes = 0;        // the single-stream file
  uint64_t concurrent_bytes = 0;  // each of the four concurrent files
  int runs = 0;
  std::string io_backend;  // what the node reported ("io_uring" / "pwrite")
  Measure hash{"sha256_limit", "sha256 limit (openssl, 1 core)"};
  Measure disk{"disk_limit", "disk limit (dd direct,dsync)"};
  Measure put{"put", "put, 1 stream"};
  Measure get{"get", "get, 1 stream"};
  Measure put4{"put_x4", "put, 4 concurrent streams"};
  std::vector<double> node_peak_rss_mib;  // per run, after the single put
};

// A fixed-width table with best and median MB/s and the ratio of the best
// to the best SHA-256 and disk limits.
void PrintTable(const Results& r, std::ostream& out);
nlohmann::ordered_json ToJson(const Results& r);

}  // namespace custody::bench

#endif  // CUSTODY_BENCH_E2E_REPORT_H_
