#include "replication/cluster/buckets.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace custody {

void BucketTable::Add(const Digest& key) {
  std::array<uint8_t, Digest::kSize>& x = xor_[BucketOf(key)];
  for (size_t i = 0; i < Digest::kSize; ++i) x[i] ^= key.data()[i];
  ++counts_[BucketOf(key)];
}

std::vector<int> BucketTable::Differing(const BucketTable& other) const {
  std::vector<int> out;
  for (int b = 0; b < kBuckets; ++b) {
    if (counts_[b] != other.counts_[b] || xor_[b] != other.xor_[b]) out.push_back(b);
  }
  return out;
}

uint64_t BucketTable::total() const {
  uint64_t n = 0;
  for (uint64_t c : counts_) n += c;
  return n;
}

std::string BucketTable::xors() const {
  std::string out;
  out.reserve(kBuckets * Digest::kSize);
  for (const auto& x : xor_) out.append(reinterpret_cast<const char*>(x.data()), x.size());
  return out;
}

absl::StatusOr<BucketTable> BucketTable::FromWire(const std::string& xors,
                                                  const std::vector<uint64_t>& counts) {
  if (xors.size() != kBuckets * Digest::kSize || counts.size() != kBuckets) {
    return absl::InvalidArgumentError(absl::StrCat("bucket digests need ", kBuckets,
                                                   " buckets; got ", xors.size() / Digest::kSize,
                                                   " digests and ", counts.size(), " counts"));
  }
  BucketTable t;
  for (int b = 0; b < kBuckets; ++b) {
    std::copy_n(xors.data() + b * Digest::kSize, Digest::kSize, t.xor_[b].begin());
    t.counts_[b] = counts[b];
  }
  return t;
}

std::vector<const NodeInfo*> HomesOf(const ClusterMap& map, const Digest& key) {
  std::vector<const NodeInfo*> rank = map.Rank(key);
  rank.resize(std::min<size_t>(rank.size(), map.replication_factor()));
  return rank;
}

bool IsHome(const std::vector<const NodeInfo*>& homes, const std::string& node_id) {
  for (const NodeInfo* n : homes) {
    if (n->id == node_id) return true;
  }
  return false;
}

}  // namespace custody
