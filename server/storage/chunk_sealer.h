// Encryption at rest (doc/security.md, "Encryption at rest"): chunk bytes in
// volumes are sealed with AES-256-GCM under the node's data key. A sealed
// chunk's volume payload is
//   "CSL1" | key id (8) | chunk id (32) | nonce (12) | ciphertext | tag (16)
// with the chunk id (SHA-256 of the plaintext) as additional authenticated
// data. The key id is the first 8 bytes of SHA-256 of the key, so old keys
// still open what they sealed after a rotation. Ids stay the SHA-256 of the
// plaintext; the index can be rebuilt without the key (the id is in clear).
#ifndef CUSTODY_SERVER_STORAGE_CHUNK_SEALER_H_
#define CUSTODY_SERVER_STORAGE_CHUNK_SEALER_H_

#include <array>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"

namespace custody {

// A 256-bit data key, kept in a file of 64 hex digits (mode 0600) outside
// the data folder.
struct DataKey {
  std::array<uint8_t, 32> bytes{};
  std::string id;  // 8 raw bytes: SHA-256(key)[0..8)

  // Refuses a file readable by group or others, or not 64 hex digits.
  static absl::StatusOr<DataKey> Load(const std::string& path);
  // Writes a new random key to `path` (0600); never overwrites.
  static absl::Status Generate(const std::string& path);
};

// A sealed payload in its three parts, so that sealing encrypts the chunk's
// bytes where they are instead of copying them: head ("CSL1" .. nonce),
// body (the ciphertext, in the plaintext's own buffer) and tail (the tag).
// head + body + tail is the sealed payload.
struct SealedParts {
  std::string head;
  std::string body;
  std::string tail;

  size_t size() const { return head.size() + body.size() + tail.size(); }
  std::string Joined() const { return head + body + tail; }
};

// Thread-safe (immutable once built).
class ChunkSealer {
 public:
  static constexpr char kMagic[4] = {'C', 'S', 'L', '1'};
  static constexpr size_t kOverhead = 4 + 8 + 32 + 12 + 16;

  // Seals with `current`; opens what `current` or any of `old` sealed.
  ChunkSealer(DataKey current, std::vector<DataKey> old = {});

  // Encrypts `plain` in place (no copy of the chunk's bytes). Without
  // randomness for the nonce the process stops (a repeated GCM nonce would
  // give the key away) rather than write anything.
  SealedParts Seal(const Digest& id, std::string plain) const;
  // The plaintext; DATA_LOSS if the payload is damaged, names another chunk,
  // or fails authentication; FAILED_PRECONDITION for an unknown key.
  // Decrypts in `sealed`'s own buffer.
  absl::StatusOr<std::string> Open(const Digest& id, std::string sealed) const;
  // The chunk id a sealed payload names (no key needed).
  static absl::StatusOr<Digest> IdOf(absl::string_view sealed);

 private:
  DataKey current_;
  std::map<std::string, DataKey> keys_;  // by key id
};

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_CHUNK_SEALER_H_
