// UTF-8 validation (protobuf string fields must hold valid UTF-8).
#ifndef CUSTODY_COMMON_UTF8_H_
#define CUSTODY_COMMON_UTF8_H_

#include <string>

#include "absl/strings/string_view.h"

namespace custody {

// True if `s` is well-formed UTF-8 (no overlong forms, no surrogates).
bool IsValidUtf8(absl::string_view s);

// `s` with each byte that is not part of well-formed UTF-8 written as
// "\xNN": for names from the file system (not always UTF-8) that go into
// protobuf strings. Valid UTF-8 comes back unchanged.
std::string EscapeInvalidUtf8(absl::string_view s);

}  // namespace custody

#endif  // CUSTODY_COMMON_UTF8_H_
