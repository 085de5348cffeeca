#include "client/package_digests.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"
#include "common/files.h"
#include "common/sm3.h"

namespace custody {
namespace {

struct Both {
  std::string sha256, sm3;
};

// Both digests of a file (two reads: exports are written once, verified
// rarely).
absl::StatusOr<Both> HashBoth(const std::string& path) {
  absl::StatusOr<Digest> sha = Digest::OfFile(path);
  if (!sha.ok()) return sha.status();
  absl::StatusOr<Sm3::Value> sm3 = Sm3::OfFile(path);
  if (!sm3.ok()) return sm3.status();
  return Both{sha->ToString(), Sm3::ToString(*sm3)};
}

}  // namespace

absl::Status WritePackageDigests(const std::string& folder, const std::vector<std::string>& files) {
  std::string text =
      "# Every other file of this package with its SHA-256 and its SM3 (GB/T 32905-2016).\n"
      "# Check one with: sha256sum FILE; openssl dgst -sm3 FILE\n";
  for (const std::string& name : files) {
    absl::StatusOr<Both> d = HashBoth(folder + "/" + name);
    if (!d.ok()) return d.status();
    absl::StrAppend(&text, d->sha256, "  ", d->sm3, "  ", name, "\n");
  }
  return WriteNewFile(folder + "/" + kPackageDigests, text);
}

absl::StatusOr<DigestsCheck> CheckPackageDigests(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  const std::string folder = std::filesystem::path(path).parent_path().string();
  DigestsCheck check;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits("  ", 2));
    if (f.size() != 3 || f[0].rfind("sha256:", 0) != 0 || f[1].rfind("sm3:", 0) != 0) {
      check.problems.push_back(absl::StrCat(kPackageDigests, ": a malformed line: ", line));
      continue;
    }
    ++check.files;
    absl::StatusOr<Both> d = HashBoth(folder.empty() ? f[2] : folder + "/" + f[2]);
    if (!d.ok()) {
      check.problems.push_back(absl::StrCat(f[2], ": ", d.status().message()));
      continue;
    }
    if (d->sha256 != f[0]) {
      check.problems.push_back(absl::StrCat(f[2], ": its SHA-256 is ", d->sha256, ", ",
                                            kPackageDigests, " says ", f[0]));
    }
    if (d->sm3 != f[1]) {
      check.problems.push_back(
          absl::StrCat(f[2], ": its SM3 is ", d->sm3, ", ", kPackageDigests, " says ", f[1]));
    }
  }
  return check;
}

}  // namespace custody
