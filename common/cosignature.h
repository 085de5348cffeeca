// Witness cosignatures of checkpoints, in the C2SP tlog-cosignature format
// (https://c2sp.org/tlog-cosignature, "cosignature/v1", Ed25519): a note
// signature line appended to the checkpoint's signed note,
//
//   — <witness name> base64(key id (4) || timestamp (8, big-endian) || signature (64))
//
// where the key id is SHA-256(name || "\n" || 0x04 || public key)[:4] and the
// signature is over
//
//   cosignature/v1
//   time <timestamp, Unix seconds>
//   <the checkpoint's note body, with its final newline>
//
// A cosignature says: as of that time, this is the largest tree the witness
// has seen for the origin, and it is consistent with every earlier one.
#ifndef CUSTODY_COMMON_COSIGNATURE_H_
#define CUSTODY_COMMON_COSIGNATURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/ed25519.h"

namespace custody {

// The cosignature key id of `name` and the raw Ed25519 key `public_raw`.
uint32_t CosignatureKeyId(absl::string_view name, absl::string_view public_raw);

// The note body of a signed note (everything before the blank line, with its
// final newline); DATA_LOSS if `note` is not a signed note.
absl::StatusOr<std::string> NoteBody(absl::string_view note);
// The signature lines of a signed note, each without its newline.
std::vector<std::string> NoteSignatureLines(absl::string_view note);
// `note` with `line` appended as one more signature line, unless the note
// already carries it.
std::string AddNoteSignature(absl::string_view note, absl::string_view line);

// The cosignature line (with its newline) of `key`, named `name`, over the
// checkpoint note body `body` at `unix_seconds`.
absl::StatusOr<std::string> Cosign(absl::string_view body, absl::string_view name,
                                   const Ed25519Key& key, int64_t unix_seconds);

struct VerifiedCosignature {
  std::string name;      // the witness's name, as the line gives it
  int64_t unix_seconds;  // when the witness cosigned
};
// Finds in `note` a cosignature line by the witness key `public_raw` (under
// whatever name the line gives, as long as the key id matches) and checks it
// over the note's body. NOT_FOUND when the note has no line of that key;
// DATA_LOSS when one is there but does not verify.
absl::StatusOr<VerifiedCosignature> VerifyCosignature(absl::string_view note,
                                                      absl::string_view public_raw);

}  // namespace custody

#endif  // CUSTODY_COMMON_COSIGNATURE_H_
