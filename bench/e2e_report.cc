#include "bench/e2e_report.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace custody::bench {
namespace {

double MBps(uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0;
}

double Ratio(double a, double b) { return b > 0 ? a / b : 0; }

std::vector<const Measure*> Rows(const Results& r) {
  return {&r.hash, &r.disk, &r.put, &r.get, &r.put4};
}

double PeakRss(const Results& r) {
  double peak = 0;
  for (double v : r.node_peak_rss_mib) peak = std::max(peak, v);
  return peak;
}

}  // namespace

double Measure::BestMBps() const {
  if (seconds.empty()) return 0;
  return MBps(bytes, *std::min_element(seconds.begin(), seconds.end()));
}

double Measure::MedianMBps() const {
  if (seconds.empty()) return 0;
  std::vector<double> s = seconds;
  std::sort(s.begin(), s.end());
  size_t n = s.size();
  double mid = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return MBps(bytes, mid);
}

void PrintTable(const Results& r, std::ostream& out) {
  out << absl::StrFormat(
      "custody e2e bench: %d-byte file (%.1f MB), 4 x %d-byte files concurrently, "
      "%d run(s), node io backend %s\n"
      "rates in MB/s, MB = 1e6 bytes; ratios use the best run\n\n",
      r.file_bytes, r.file_bytes / 1e6, r.concurrent_bytes, r.runs,
      r.io_backend.empty() ? "?" : r.io_backend);
  out << absl::StrFormat("%-32s %10s %10s %10s %10s\n", "step", "best MB/s", "median", "vs sha256",
                         "vs disk");
  const double hash = r.hash.BestMBps(), disk = r.disk.BestMBps();
  for (const Measure* m : Rows(r)) {
    double best = m->BestMBps();
    out << absl::StrFormat("%-32s %10.1f %10.1f %9.0f%% %9.0f%%\n", m->label, best, m->MedianMBps(),
                           100 * Ratio(best, hash), 100 * Ratio(best, disk));
  }
  out << absl::StrFormat("\nnode peak RSS (VmHWM after the single put): %.1f MiB (max of runs)\n",
                         PeakRss(r));
}

nlohmann::ordered_json ToJson(const Results& r) {
  using json = nlohmann::ordered_json;
  const double hash = r.hash.BestMBps(), disk = r.disk.BestMBps();
  json steps = json::object();
  for (const Measure* m : Rows(r)) {
    double best = m->BestMBps();
    steps[m->key] = json{{"label", m->label},
                         {"bytes", m->bytes},
                         {"seconds", m->seconds},
                         {"best_mb_per_s", best},
                         {"median_mb_per_s", m->MedianMBps()},
                         {"vs_sha256", Ratio(best, hash)},
                         {"vs_disk", Ratio(best, disk)}};
  }
  return json{{"unit", "MB/s, MB = 1e6 bytes"},
              {"file_bytes", r.file_bytes},
              {"concurrent_file_bytes", r.concurrent_bytes},
              {"runs", r.runs},
              {"io_backend", r.io_backend},
              {"steps", steps},
              {"node_peak_rss_mib", PeakRss(r)},
              {"node_peak_rss_mib_per_run", r.node_peak_rss_mib}};
}

}  // namespace custody::bench
