#include "server/storage/chunk_io.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace custody {

WriteRequest ChunkWrite(const Digest& id, std::string data, const ChunkSealer* sealer) {
  WriteRequest r;
  r.key = id;
  if (sealer == nullptr) {
    r.type = EntryType::kChunk;
    r.payload = std::move(data);
    return r;
  }
  r.type = EntryType::kSealedChunk;
  SealedParts sealed = sealer->Seal(id, std::move(data));
  r.head = std::move(sealed.head);
  r.payload = std::move(sealed.body);
  r.tail = std::move(sealed.tail);
  return r;
}

WriteRequest ChunkWrite(const Digest& id, std::shared_ptr<std::string> data,
                        const ChunkSealer* sealer) {
  if (sealer != nullptr && data.use_count() == 1) {
    std::atomic_thread_fence(std::memory_order_acquire);  // after the other holder let go
    return ChunkWrite(id, std::move(*data), sealer);
  }
  if (sealer != nullptr) return ChunkWrite(id, std::string(*data), sealer);
  WriteRequest r;
  r.key = id;
  r.type = EntryType::kChunk;
  r.shared_payload = std::move(data);
  return r;
}

absl::StatusOr<std::string> ReadChunk(const VolumeSet& volumes, const Location& loc,
                                      const Digest& id, const ChunkSealer* sealer) {
  ASSIGN_OR_RETURN(auto entry, volumes.ReadEntry(loc));
  auto& [header, payload] = entry;
  if (header.type == EntryType::kChunk) {
    if (header.hash != id) {
      return absl::DataLossError(absl::StrCat("volume ", loc.volume, " at ", loc.offset,
                                              ": entry is not ", id.ToString(),
                                              " (index and volume disagree)"));
    }
    return std::move(payload);
  }
  if (header.type != EntryType::kSealedChunk || header.hash != id) {
    return absl::DataLossError(
        absl::StrCat("volume ", loc.volume, " at ", loc.offset, ": entry is not a chunk"));
  }
  if (sealer == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "chunk ", id.ToString(), " is encrypted at rest and this node runs without --data-key"));
  }
  return sealer->Open(id, std::move(payload));
}

}  // namespace custody
