#include "server/storage/local_blob_store.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/storage/chunk_io.h"

namespace custody {

absl::StatusOr<std::string> LocalBlobStore::Get(const Digest& digest) {
  ASSIGN_OR_RETURN(std::optional<Location> loc, index_->FindChunk(digest));
  if (!loc) return absl::NotFoundError(absl::StrCat("chunk ", digest.ToString(), " not held"));
  return ReadChunk(*volumes_, *loc, digest, sealer_);
}

void LocalBlobStore::Put(const Digest& digest, std::string data,
                         absl::AnyInvocable<void(absl::Status) &&> done) {
  WriteRequest r = ChunkWrite(digest, std::move(data), sealer_);
  r.done = [done = std::move(done)](absl::StatusOr<WriteResult> res) mutable {
    std::move(done)(res.status());
  };
  committer_->Submit(std::move(r));
}

absl::StatusOr<std::vector<Digest>> LocalBlobStore::FindMissing(absl::Span<const Digest> digests) {
  std::vector<Digest> missing;
  for (const Digest& d : digests) {
    ASSIGN_OR_RETURN(std::optional<Location> loc, index_->FindChunk(d));
    if (!loc) missing.push_back(d);
  }
  return missing;
}

}  // namespace custody
