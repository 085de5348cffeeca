// Signed checkpoints of an audit log, in the C2SP tlog-checkpoint format
// (https://c2sp.org/tlog-checkpoint) inside a C2SP signed note
// (https://c2sp.org/signed-note) with an Ed25519 signature:
//
//   custody-node-<node id>          origin (also the key name)
//   1234                            tree size
//   <base64 root hash>
//   time 1764316800000000000        extension line: Unix ns when signed
//
//   — custody-node-<node id> <base64(key id (4 bytes) || signature (64))>
#ifndef CUSTODY_COMMON_CHECKPOINT_H_
#define CUSTODY_COMMON_CHECKPOINT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "common/ed25519.h"

namespace custody {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Digest root;
  int64_t time_unix_nanos = 0;

  // The note body: the text that is signed.
  std::string Body() const;
  static absl::StatusOr<Checkpoint> ParseBody(absl::string_view body);
};

// The note key id: the first 4 bytes of SHA-256(name || "\n" || 0x01 || key).
uint32_t NoteKeyId(absl::string_view name, absl::string_view public_raw);

// The signed note of `c`, signed by `key` under the name c.origin.
absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& c, const Ed25519Key& key);

// Checks that `note` carries a valid signature by `public_raw` under its
// origin's name, and returns the checkpoint. DATA_LOSS names what is wrong.
absl::StatusOr<Checkpoint> VerifyCheckpoint(absl::string_view note, absl::string_view public_raw);

}  // namespace custody

#endif  // CUSTODY_COMMON_CHECKPOINT_H_
