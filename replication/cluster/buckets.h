// Bucket digests for anti-entropy (doc/cluster.md, "Anti-entropy"): two nodes
// compare what they hold in common bucket by bucket instead of sending full
// listings. A key's bucket is its first byte; a bucket's digest is the XOR of
// its keys (they are SHA-256 values already) and their count.
#ifndef CUSTODY_REPLICATION_CLUSTER_BUCKETS_H_
#define CUSTODY_REPLICATION_CLUSTER_BUCKETS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "replication/cluster/cluster_map.h"

namespace custody {

// Not thread-safe; a value type.
class BucketTable {
 public:
  static constexpr int kBuckets = 256;

  static int BucketOf(const Digest& key) { return key.data()[0]; }

  void Add(const Digest& key);
  // The buckets whose digest or count differ from `other`'s.
  std::vector<int> Differing(const BucketTable& other) const;
  uint64_t total() const;

  // The wire form (BucketsResponse): 256 x 32 bytes of XORs, and counts.
  std::string xors() const;
  const std::array<uint64_t, kBuckets>& counts() const { return counts_; }
  static absl::StatusOr<BucketTable> FromWire(const std::string& xors,
                                              const std::vector<uint64_t>& counts);

 private:
  std::array<std::array<uint8_t, Digest::kSize>, kBuckets> xor_{};
  std::array<uint64_t, kBuckets> counts_{};
};

// The key's R home nodes (the first R of map.Rank(key)).
std::vector<const NodeInfo*> HomesOf(const ClusterMap& map, const Digest& key);
bool IsHome(const std::vector<const NodeInfo*>& homes, const std::string& node_id);

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_BUCKETS_H_
