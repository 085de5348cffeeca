// Random bytes from OpenSSL's generator, or an error: never a silent zero
// buffer (nonces, identifiers, tokens and serials all come from here).
#ifndef CUSTODY_COMMON_RANDOM_H_
#define CUSTODY_COMMON_RANDOM_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace custody {

// Fills `out[0, n)`; INTERNAL naming `what` when OpenSSL has no randomness.
absl::Status FillRandom(void* out, size_t n, absl::string_view what);
// `n` random bytes.
absl::StatusOr<std::string> RandomBytes(size_t n, absl::string_view what);
// `n` random bytes as 2n lowercase hex digits.
absl::StatusOr<std::string> RandomHex(size_t n, absl::string_view what);

}  // namespace custody

#endif  // CUSTODY_COMMON_RANDOM_H_
