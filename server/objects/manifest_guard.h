// Checks a manifest another node places on this one (doc/security.md,
// "Manifests"): an object's manifest is fixed by its first upload, so a node
// cannot plant other metadata (a lower classification, another agency) for
// an object the cluster already holds.
#ifndef CUSTODY_SERVER_OBJECTS_MANIFEST_GUARD_H_
#define CUSTODY_SERVER_OBJECTS_MANIFEST_GUARD_H_

#include <functional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "custody/v1/audit.pb.h"
#include "custody/v1/manifest.pb.h"
#include "replication/cluster/placement.h"

namespace custody {

// Thread-safe.
class ManifestGuard {
 public:
  using RecordFn = std::function<absl::Status(v1::AuditEvent)>;
  // `placement` may be null (a cluster of one: nothing is placed here).
  ManifestGuard(Placement* placement, RecordFn record)
      : placement_(placement), record_(std::move(record)) {}

  // For a manifest `from` sends of an object this node does not hold: OK
  // unless one of the object's other home nodes (not `from`, not this one)
  // holds a different manifest; then PERMISSION_DENIED, and the sent
  // manifest is kept in a manifest.refused event naming `from`. Homes that
  // do not answer are skipped (the check is only as wide as the reachable
  // homes; doc/security.md says so).
  absl::Status CheckNew(const Digest& id, const v1::ObjectManifest& sent, const std::string& from);

  // For a manifest `from` sends of an object this node holds as `held`: OK
  // if they agree on the object's bytes and metadata (the held one is kept;
  // when, where, by whom and under which file name may differ between two
  // honest uploads of one file), else refused and kept like CheckNew's.
  // CheckNew compares the same way.
  absl::Status CheckHeld(const Digest& id, const v1::ObjectManifest& sent,
                         const v1::ObjectManifest& held, const std::string& from);

  // The fields in which `a` and `b` differ, comma separated; "" if none.
  static std::string Differences(const v1::ObjectManifest& a, const v1::ObjectManifest& b);

 private:
  absl::Status Refuse(const Digest& id, const v1::ObjectManifest& sent, const std::string& from,
                      const std::string& holder, const std::string& differs);

  Placement* placement_;
  RecordFn record_;
  absl::Mutex mu_;
  std::set<std::string> refused_ ABSL_GUARDED_BY(mu_);  // hashes of refused manifests
};

}  // namespace custody

#endif  // CUSTODY_SERVER_OBJECTS_MANIFEST_GUARD_H_
