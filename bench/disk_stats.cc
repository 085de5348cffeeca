#include "bench/disk_stats.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace custody::bench {

absl::StatusOr<DiskStats> ReadDiskStats(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    return absl::InternalError(absl::StrCat("stat ", dir, ": ", std::strerror(errno)));
  }
  const unsigned want_major = major(st.st_dev), want_minor = minor(st.st_dev);
  std::ifstream in("/proc/diskstats");
  // Fields: major minor name, reads merged sectors ms, writes merged
  // sectors ms, in-flight, io_ticks, ... (Documentation/admin-guide/iostats.rst)
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    unsigned maj = 0, min = 0;
    std::string name;
    uint64_t v[10] = {};
    f >> maj >> min >> name;
    for (uint64_t& x : v) f >> x;
    if (!f || maj != want_major || min != want_minor) continue;
    return DiskStats{v[2] * 512, v[6] * 512, v[9]};
  }
  return absl::NotFoundError(absl::StrCat("no /proc/diskstats line for ", dir, " (device ",
                                          want_major, ":", want_minor, ")"));
}

}  // namespace custody::bench
