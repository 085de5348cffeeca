#include "common/random.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace custody {

absl::Status FillRandom(void* out, size_t n, absl::string_view what) {
  if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1) {
    return absl::InternalError(absl::StrCat("no random bytes for ", what, " (OpenSSL)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RandomBytes(size_t n, absl::string_view what) {
  std::string out(n, '\0');
  absl::Status s = FillRandom(out.data(), n, what);
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::string> RandomHex(size_t n, absl::string_view what) {
  absl::StatusOr<std::string> raw = RandomBytes(n, what);
  if (!raw.ok()) return raw.status();
  return absl::BytesToHexString(*raw);
}

}  // namespace custody
