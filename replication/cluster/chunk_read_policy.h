// Why another node may read a chunk from this one (doc/security.md, "Nodes
// are not readers"). A node certificate reads a chunk only
//  - to keep its own copies (READ_REPAIR): it is one of the chunk's R home
//    nodes by this node's cluster map;
//  - to relay a download (READ_DOWNLOAD): the named reader holds a live
//    access grant to the named object in this node's own ledger, and the
//    chunk is part of that object's manifest;
//  - for an offsite sync (READ_OFFSITE): the chunk is part of the named
//    object.
// Anything else is refused. Thread-safe.
#ifndef CUSTODY_REPLICATION_CLUSTER_CHUNK_READ_POLICY_H_
#define CUSTODY_REPLICATION_CLUSTER_CHUNK_READ_POLICY_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "custody/internal/v1/replica.pb.h"
#include "custody/v1/manifest.pb.h"
#include "replication/cluster/placement.h"

namespace custody {

class ChunkReadPolicy {
 public:
  // Whether `reader` holds a live grant to `purpose` object `object_id` (for
  // the object, or a record that holds it).
  using GrantFn = std::function<absl::StatusOr<bool>(
      const std::string& reader, const std::string& object_id, const std::string& purpose)>;
  // The manifest of an object, from this node or another, never from node
  // `not_from` (the node asking to read: it cannot vouch for itself).
  using ManifestFn = std::function<absl::StatusOr<v1::ObjectManifest>(const Digest& id,
                                                                      const std::string& not_from)>;

  // `placement` null: a cluster of one, where no node reads from another.
  ChunkReadPolicy(Placement* placement, GrantFn grant, ManifestFn manifest)
      : placement_(placement), grant_(std::move(grant)), manifest_(std::move(manifest)) {}

  // OK if node `peer` may read `chunk` for the reason `req` gives;
  // PERMISSION_DENIED saying why not.
  absl::Status Check(const std::string& peer, const Digest& chunk,
                     const internal::v1::GetBlobRequest& req);

 private:
  absl::Status CheckRepair(const std::string& peer, const Digest& chunk) const;
  absl::Status CheckGrant(const internal::v1::GetBlobRequest& req) const;
  // OK if `chunk` is part of object `object_id`.
  absl::Status CheckPartOf(const std::string& peer, const std::string& object_id,
                           const Digest& chunk);

  static constexpr size_t kCachedObjects = 256;

  Placement* placement_;
  GrantFn grant_;
  ManifestFn manifest_;
  absl::Mutex mu_;
  // The chunks of objects looked up lately (a download reads many chunks of one object).
  std::map<std::string, std::shared_ptr<const std::set<std::string>>> chunks_of_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_CHUNK_READ_POLICY_H_
