// Chunks in this node's volumes, found through its index.
#ifndef CUSTODY_SERVER_STORAGE_LOCAL_BLOB_STORE_H_
#define CUSTODY_SERVER_STORAGE_LOCAL_BLOB_STORE_H_

#include "server/storage/blob_store.h"
#include "server/storage/chunk_sealer.h"
#include "server/storage/committer.h"
#include "server/storage/index.h"
#include "server/storage/volume_set.h"

namespace custody {

// Get checks the entry's header but does not hash its bytes: wrap it in a
// VerifyingBlobStore for that.
class LocalBlobStore : public BlobStore {
 public:
  // `sealer` (may be null) seals chunks as they are stored (encryption at
  // rest); sealed and plain chunks are both read.
  LocalBlobStore(Index* index, VolumeSet* volumes, Committer* committer,
                 const ChunkSealer* sealer = nullptr)
      : index_(index), volumes_(volumes), committer_(committer), sealer_(sealer) {}

  absl::StatusOr<std::string> Get(const Digest& digest) override;
  void Put(const Digest& digest, std::string data,
           absl::AnyInvocable<void(absl::Status) &&> done) override;
  absl::StatusOr<std::vector<Digest>> FindMissing(absl::Span<const Digest> digests) override;

 private:
  Index* index_;
  VolumeSet* volumes_;
  Committer* committer_;
  const ChunkSealer* sealer_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_LOCAL_BLOB_STORE_H_
