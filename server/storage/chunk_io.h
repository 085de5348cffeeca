// Storing and reading one chunk in this node's volumes, sealed (encryption at
// rest, server/storage/chunk_sealer.h) or plain. Every path that writes or reads
// chunk bytes goes through these two functions.
#ifndef CUSTODY_SERVER_STORAGE_CHUNK_IO_H_
#define CUSTODY_SERVER_STORAGE_CHUNK_IO_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "server/storage/chunk_sealer.h"
#include "server/storage/committer.h"
#include "server/storage/volume_set.h"

namespace custody {

// The committer request that stores chunk `id` with bytes `data`: sealed
// under `sealer` when it is not null (sealed in place, here, on the caller's
// thread), plain otherwise. The caller adds on_index
// and done.
WriteRequest ChunkWrite(const Digest& id, std::string data, const ChunkSealer* sealer);
// The same for bytes another holder may share (and must not change): written
// from where they are when plain. Sealing encrypts in place, so they are
// sealed where they are once no one else holds them, else from a copy.
WriteRequest ChunkWrite(const Digest& id, std::shared_ptr<std::string> data,
                        const ChunkSealer* sealer);

// The bytes of chunk `id` stored at `loc`, sealed or plain. Does not hash
// plain bytes (VerifyingBlobStore does); a sealed chunk is authenticated.
// DATA_LOSS when the entry is damaged or names another chunk.
absl::StatusOr<std::string> ReadChunk(const VolumeSet& volumes, const Location& loc,
                                      const Digest& id, const ChunkSealer* sealer);

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_CHUNK_IO_H_
