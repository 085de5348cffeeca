// The narrow chunk-store interface (after bb-storage's BlobAccess): chunks
// are named by the SHA-256 of their bytes. Decorators add behaviour, one per
// file (verifying_blob_store.h; replication and encryption later).
#ifndef CUSTODY_SERVER_STORAGE_BLOB_STORE_H_
#define CUSTODY_SERVER_STORAGE_BLOB_STORE_H_

#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/digest.h"

namespace custody {

// Why a chunk is read. A node that serves a chunk to another node checks the
// reason (replication/cluster/chunk_read_policy.h): nodes are not readers.
struct ReadFor {
  enum class Purpose {
    kRepair,    // the node's own copies: scrub, repair, replication
    kDownload,  // a download a node relays for a person with a live grant
    kOffsite,   // an offsite sync of the object
  };
  Purpose purpose = Purpose::kRepair;
  std::string object_id;      // kDownload, kOffsite: the object the chunk is part of
  std::string reader;         // kDownload: who reads ("user:olga")
  std::string grant_purpose;  // kDownload: "view" or "export"
};

// Implementations are thread-safe.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // The chunk's bytes; NOT_FOUND if absent, DATA_LOSS if stored bytes are bad.
  virtual absl::StatusOr<std::string> Get(const Digest& digest) = 0;
  // Get, saying why to a store that reads from another node; a store on
  // this node's own disk ignores `why`.
  virtual absl::StatusOr<std::string> GetFor(const Digest& digest, const ReadFor& why) {
    (void)why;
    return Get(digest);
  }
  // Stores `data` under `digest` durably, then calls `done` (possibly on
  // another thread). Storing a chunk already held is a no-op.
  virtual void Put(const Digest& digest, std::string data,
                   absl::AnyInvocable<void(absl::Status) &&> done) = 0;
  // The subset of `digests` that this store does not hold.
  virtual absl::StatusOr<std::vector<Digest>> FindMissing(absl::Span<const Digest> digests) = 0;
  // Whether Get returns only bytes it has hashed to their name (else
  // DATA_LOSS), so that a decorator above it need not hash them again.
  virtual bool VerifiesReads() const { return false; }
};

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_BLOB_STORE_H_
