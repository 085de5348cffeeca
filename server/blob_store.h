// The narrow chunk-store interface (after bb-storage's BlobAccess): chunks
// are named by the SHA-256 of their bytes. Decorators add behaviour, one per
// file (verifying_blob_store.h; replication and encryption later).
#ifndef CUSTODY_SERVER_BLOB_STORE_H_
#define CUSTODY_SERVER_BLOB_STORE_H_

#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/digest.h"

namespace custody {

// Implementations are thread-safe.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // The chunk's bytes; NOT_FOUND if absent, DATA_LOSS if stored bytes are bad.
  virtual absl::StatusOr<std::string> Get(const Digest& digest) = 0;
  // Stores `data` under `digest` durably, then calls `done` (possibly on
  // another thread). Storing a chunk already held is a no-op.
  virtual void Put(const Digest& digest, std::string data,
                   absl::AnyInvocable<void(absl::Status) &&> done) = 0;
  // The subset of `digests` that this store does not hold.
  virtual absl::StatusOr<std::vector<Digest>> FindMissing(
      absl::Span<const Digest> digests) = 0;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_BLOB_STORE_H_
