// Object manifests: look-up, listing, and their public ObjectInfo form.
#ifndef CUSTODY_SERVER_STORAGE_OBJECT_STORE_H_
#define CUSTODY_SERVER_STORAGE_OBJECT_STORE_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "custody/v1/custody.pb.h"
#include "custody/v1/manifest.pb.h"
#include "server/storage/index.h"

namespace custody {

// The one answer for an object that is not there, or that the caller may
// not know of (above its clearance): nobody can tell the two apart.
absl::Status ObjectNotFound(const Digest& id);

// Thread-safe. Read-only: objects are created by uploads only, and there is
// no way to change or remove one.
class ObjectStore {
 public:
  explicit ObjectStore(Index* index) : index_(index) {}

  // NOT_FOUND if the node does not hold `id`.
  absl::StatusOr<v1::ObjectManifest> GetManifest(const Digest& id);
  absl::StatusOr<v1::ObjectInfo> Stat(const Digest& id);
  // Objects in id order after `page_token` (an id, or empty for the start).
  absl::StatusOr<v1::ListResponse> List(const std::string& page_token, uint32_t page_size);
  // Approximate number of objects held.
  uint64_t ApproximateCount();

  static v1::ObjectInfo ToInfo(const v1::ObjectManifest& m);

 private:
  Index* index_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_OBJECT_STORE_H_
