// The byte layout of volume files. See doc/storage_format.md.
#ifndef CUSTODY_SERVER_STORAGE_VOLUME_FORMAT_H_
#define CUSTODY_SERVER_STORAGE_VOLUME_FORMAT_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/digest.h"

namespace custody {

enum class EntryType : uint8_t {
  kChunk = 1,        // payload: chunk bytes
  kManifest = 2,     // payload: a serialized ObjectManifest
  kSealedChunk = 3,  // payload: chunk bytes sealed with AES-256-GCM (server/storage/chunk_sealer.h)
  // payload: a serialized ObjectManifest sealed the same way; the header
  // names the object (the id the seal is bound to).
  kSealedManifest = 4,
};

inline bool IsChunkEntry(EntryType t) {
  return t == EntryType::kChunk || t == EntryType::kSealedChunk;
}

// Entries start on kAlign boundaries and are zero-padded to the next one,
// so that volumes can be written with O_DIRECT. The volume header takes the
// first block.
constexpr uint64_t kAlign = 4096;
constexpr uint64_t kFirstEntryOffset = kAlign;
inline uint64_t AlignUp(uint64_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }

// Where an entry lives: volume id, byte offset of the entry header, and the
// payload length.
struct Location {
  uint32_t volume = 0;
  uint64_t offset = 0;
  uint32_t length = 0;

  std::string Encode() const;  // 16 bytes
  static absl::StatusOr<Location> Decode(absl::string_view bytes);
};

// Fixed-size header that starts every entry.
struct EntryHeader {
  static constexpr uint32_t kMagic = 0x544E4543;  // "CENT"
  static constexpr size_t kSize = 48;

  EntryType type = EntryType::kChunk;
  uint32_t length = 0;
  Digest hash;  // SHA-256 of the payload, for every type

  // Writes kSize bytes, including the header check.
  void EncodeTo(char* out) const;
  // Bytes the entry takes in the volume: header, payload, padding.
  static uint64_t Span(uint32_t length) { return AlignUp(kSize + length); }
  // Checks magic, type and header check. DATA_LOSS when they do not hold.
  static absl::StatusOr<EntryHeader> Decode(const char* in);
};

// Fixed-size header that starts every volume file.
struct VolumeHeader {
  static constexpr char kMagic[8] = {'C', 'U', 'S', 'T', 'V', 'O', 'L', '1'};
  static constexpr size_t kSize = 64;
  static constexpr uint32_t kVersion = 1;

  uint32_t volume_id = 0;
  uint32_t chunk_size = 0;
  int64_t created_unix_nanos = 0;

  void EncodeTo(char* out) const;
  static absl::StatusOr<VolumeHeader> Decode(const char* in);
};

// Writes a whole entry (header, payload, zero padding: EntryHeader::Span
// bytes) at `out`; the payload is the concatenation of `parts`. `hash` names
// the entry (SHA-256 of the payload, or of what a sealed chunk seals).
void EncodeEntryTo(char* out, EntryType type, std::initializer_list<absl::string_view> parts,
                   const Digest& hash);
// The same, as a string (tests, tools).
std::string EncodeEntry(EntryType type, absl::string_view payload);

// The first 4 bytes of SHA-256(data), little-endian: the check of headers.
uint32_t HeaderCheck(const char* data, size_t n);

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_VOLUME_FORMAT_H_
