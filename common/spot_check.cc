#include "common/spot_check.h"

#include <unordered_map>

#include "absl/base/internal/endian.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace custody {
namespace {

// A uniform integer in [0, bound) from the seed, the draw `j` and tries k.
uint64_t Uniform(const Digest& seed, uint64_t j, uint64_t bound) {
  // Values at or above the largest multiple of `bound` are rejected.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (uint64_t k = 0;; ++k) {
    char counters[16];
    absl::big_endian::Store64(counters, j);
    absl::big_endian::Store64(counters + 8, k);
    Digest d = Digest::Of(absl::StrCat(seed.Raw(), absl::string_view(counters, 16)));
    uint64_t v = absl::big_endian::Load64(d.data());
    if (v < limit) return v % bound;
  }
}

}  // namespace

Digest SpotCheckSeed(const std::string& agency, int64_t from_unix_nanos, int64_t to_unix_nanos,
                     const Checkpoint& checkpoint) {
  return Digest::Of(absl::StrCat("custody spot check v1\n", agency, "\n", from_unix_nanos, "\n",
                                 to_unix_nanos, "\n", checkpoint.origin, "\n", checkpoint.size,
                                 "\n", absl::Base64Escape(checkpoint.root.Raw()), "\n"));
}

std::vector<uint64_t> DrawSample(const Digest& seed, uint64_t population, uint64_t n) {
  n = std::min(n, population);
  // The shuffled positions that moved; the rest hold their own index.
  std::unordered_map<uint64_t, uint64_t> moved;
  auto at = [&](uint64_t i) {
    auto it = moved.find(i);
    return it == moved.end() ? i : it->second;
  };
  std::vector<uint64_t> out;
  out.reserve(n);
  for (uint64_t j = 0; j < n; ++j) {
    uint64_t pick = j + Uniform(seed, j, population - j);
    uint64_t chosen = at(pick);
    moved[pick] = at(j);
    out.push_back(chosen);
  }
  return out;
}

}  // namespace custody
