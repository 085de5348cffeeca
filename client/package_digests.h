// DIGESTS.txt of an export package: every other file of the package with its
// SHA-256 and its SM3 (GB/T 32905-2016), which Chinese e-government and
// archival practice expects on evidence packages (issue 30). `custody audit
// verify` checks both when the file is beside the bundle.
//
// Format, one line per file after '#' comment lines:
//   sha256:<64 hex>  sm3:<64 hex>  <file name>
#ifndef CUSTODY_CLIENT_PACKAGE_DIGESTS_H_
#define CUSTODY_CLIENT_PACKAGE_DIGESTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace custody {

inline constexpr char kPackageDigests[] = "DIGESTS.txt";

// Writes `folder`/DIGESTS.txt (a new file) listing `files` (names in `folder`).
absl::Status WritePackageDigests(const std::string& folder, const std::vector<std::string>& files);

struct DigestsCheck {
  int files = 0;                      // lines checked
  std::vector<std::string> problems;  // empty: every file matches on both digests
};

// Checks every file DIGESTS.txt at `path` lists (in its folder) on both
// digests. An error only when the list itself cannot be read.
absl::StatusOr<DigestsCheck> CheckPackageDigests(const std::string& path);

}  // namespace custody

#endif  // CUSTODY_CLIENT_PACKAGE_DIGESTS_H_
