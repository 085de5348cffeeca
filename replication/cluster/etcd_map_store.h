// The cluster map in etcd (doc/etcd.md, "The cluster map"): the key `map`
// holds the map's JSON text, as a map file holds it. The first node of a new
// cluster puts its file there; from then on etcd's copy is the map, changed
// only by Apply, a compare-and-swap on the version, so two admins cannot
// overwrite each other.
//
// Thread-safe.
#ifndef CUSTODY_REPLICATION_CLUSTER_ETCD_MAP_STORE_H_
#define CUSTODY_REPLICATION_CLUSTER_ETCD_MAP_STORE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "replication/cluster/cluster_map.h"
#include "replication/etcd/etcd_client.h"

namespace custody {

class EtcdMapStore {
 public:
  EtcdMapStore(EtcdClient* etcd, std::string root) : etcd_(etcd), key_(std::move(root) + "map") {}

  struct Stored {
    std::string json;
    ClusterMap map;
    int64_t revision = 0;  // etcd's mod revision of the key
  };
  // The map etcd holds, or nullopt before the first node put one. DATA_LOSS
  // if what it holds does not parse.
  absl::StatusOr<std::optional<Stored>> Get();
  // Puts `json` (a map file's text) if etcd holds no map yet; returns the map
  // etcd holds then.
  absl::StatusOr<Stored> Bootstrap(const std::string& json);
  // Installs `json` if it is the next version of the map etcd holds:
  // INVALID_ARGUMENT if it does not parse or is not that version,
  // FAILED_PRECONDITION if the map changed meanwhile, naming the versions.
  absl::StatusOr<Stored> Apply(const std::string& json);

 private:
  absl::StatusOr<Stored> Parse(const EtcdValue& v) const;

  EtcdClient* etcd_;
  const std::string key_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_ETCD_MAP_STORE_H_
