#include "common/utf8.h"

#include <cstdint>

#include "absl/strings/str_format.h"

namespace custody {
namespace {

// The length of the well-formed UTF-8 sequence at s[i], or 0 if there is none.
size_t SequenceAt(absl::string_view s, size_t i) {
  uint8_t c = static_cast<uint8_t>(s[i]);
  int n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 1;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 2;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 3;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n >= s.size()) return 0;  // truncated sequence
  for (int k = 1; k <= n; ++k) {
    uint8_t d = static_cast<uint8_t>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return static_cast<size_t>(n + 1);
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  for (size_t i = 0, n; i < s.size(); i += n) {
    if ((n = SequenceAt(s, i)) == 0) return false;
  }
  return true;
}

std::string EscapeInvalidUtf8(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceAt(s, i);
    if (n == 0) {
      out += absl::StrFormat("\\x%02X", static_cast<uint8_t>(s[i]));
      n = 1;
    } else {
      out.append(s.data() + i, n);
    }
    i += n;
  }
  return out;
}

}  // namespace custody
