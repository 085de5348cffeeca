// UTF-8 validation (protobuf string fields must hold valid UTF-8).
#ifndef CUSTODY_COMMON_UTF8_H_
#define CUSTODY_COMMON_UTF8_H_

#include "absl/strings/string_view.h"

namespace custody {

// True if `s` is well-formed UTF-8 (no overlong forms, no surrogates).
bool IsValidUtf8(absl::string_view s);

}  // namespace custody

#endif  // CUSTODY_COMMON_UTF8_H_
