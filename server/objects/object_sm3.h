// An object's SM3 (GB/T 32905-2016), for Chinese e-government and archival
// practice (doc/witness.md): computed once on request from the object's
// chunks, then kept in the index ("sm3/<sha256 id>" in the meta column
// family) with its event, object.sm3-computed. Ids stay SHA-256.
#ifndef CUSTODY_SERVER_OBJECTS_OBJECT_SM3_H_
#define CUSTODY_SERVER_OBJECTS_OBJECT_SM3_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "custody/v1/manifest.pb.h"
#include "server/audit/audited_write.h"
#include "server/storage/blob_store.h"
#include "server/storage/index.h"

namespace custody {

// Thread-safe; one computation at a time (each reads a whole object).
class ObjectSm3 {
 public:
  // `chunks` verifies what it reads (the cluster's chunks, this node's first).
  ObjectSm3(Index* index, AuditTrail* trail, BlobStore* chunks)
      : index_(index), trail_(trail), chunks_(chunks) {}

  // The "sm3:<hex>" kept for the object, or nullopt.
  absl::StatusOr<std::optional<std::string>> Kept(const std::string& id);
  // The kept one, or computed now from every chunk of `m` (one chunk in
  // memory at a time), kept and put on record as object.sm3-computed by
  // `actor`.
  absl::StatusOr<std::string> Compute(const v1::ObjectManifest& m, const std::string& actor);

 private:
  Index* index_;
  AuditTrail* trail_;
  BlobStore* chunks_;
  absl::Mutex mu_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_OBJECTS_OBJECT_SM3_H_
