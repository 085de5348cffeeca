// The cluster map: which nodes form the cluster, where they listen, in which
// zone, and how many replicas (R) every object needs. Every node loads the
// same versioned file (`custodyd --cluster FILE`); see doc/cluster.md.
#ifndef CUSTODY_REPLICATION_CLUSTER_CLUSTER_MAP_H_
#define CUSTODY_REPLICATION_CLUSTER_CLUSTER_MAP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/digest.h"

namespace custody {

struct NodeInfo {
  std::string id;       // [A-Za-z0-9._-]{1,64}, unique in the map
  std::string address;  // host:port, unique in the map
  std::string zone;     // failure domain (room, rack, building); may repeat
};

// Immutable once loaded; safe to share between threads.
class ClusterMap {
 public:
  // Parses and checks a map file (JSON). Errors are INVALID_ARGUMENT and
  // name the field that is wrong.
  static absl::StatusOr<ClusterMap> Load(const std::string& path);
  static absl::StatusOr<ClusterMap> Parse(const std::string& json_text);
  // A node without a map: a cluster of one, R = 1, version 0.
  static ClusterMap Single(const std::string& node_id, const std::string& address);

  uint64_t version() const { return version_; }
  int replication_factor() const { return replication_factor_; }
  uint64_t chunk_size() const { return chunk_size_; }  // 0: the node's own
  const std::string& offsite_address() const { return offsite_address_; }
  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  // The node with `id`, or nullptr.
  const NodeInfo* Find(const std::string& id) const;

  // Every node in rendezvous (highest random weight) order for `key`: the
  // first R are the key's home replicas, in distinct zones as far as the map
  // has zones; the rest, in score order, are where handoff copies go.
  std::vector<const NodeInfo*> Rank(const Digest& key) const;

 private:
  uint64_t version_ = 0;
  int replication_factor_ = 1;
  uint64_t chunk_size_ = 0;
  std::string offsite_address_;
  std::vector<NodeInfo> nodes_;
};

// The rendezvous score of `node_id` for `key`: the first 8 bytes of
// SHA-256(key bytes || node id), big-endian.
uint64_t RendezvousScore(const Digest& key, const std::string& node_id);

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_CLUSTER_MAP_H_
