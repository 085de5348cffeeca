#include "common/units.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace custody {

absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text) {
  std::string s = absl::AsciiStrToLower(text);
  size_t i = 0;
  while (i < s.size() && (absl::ascii_isdigit(s[i]) || s[i] == '.')) ++i;
  double value = 0;
  if (i == 0 || !absl::SimpleAtod(s.substr(0, i), &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a size (e.g. 4096, 4MiB, 1GiB)"));
  }
  std::string unit(absl::StripAsciiWhitespace(s.substr(i)));
  double mult;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kib")
    mult = 1024.0;
  else if (unit == "m" || unit == "mib")
    mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gib")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tib")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "kb")
    mult = 1e3;
  else if (unit == "mb")
    mult = 1e6;
  else if (unit == "gb")
    mult = 1e9;
  else if (unit == "tb")
    mult = 1e12;
  else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown size unit \"", unit, "\" in \"", text, "\""));
  }
  return static_cast<uint64_t>(std::llround(value * mult));
}

std::string FormatBytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  if (u == 0) return absl::StrFormat("%.0f B", bytes);
  return absl::StrFormat("%.1f %s", bytes, kUnits[u]);
}

int64_t NowUnixNanos() { return absl::ToUnixNanos(absl::Now()); }

std::string FormatUnixNanos(int64_t nanos) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixNanos(nanos), absl::UTCTimeZone());
}

absl::StatusOr<uint64_t> ParseByteRate(const std::string& text) {
  std::string size = text;
  if (absl::EndsWith(size, "/s")) size.resize(size.size() - 2);
  absl::StatusOr<uint64_t> r = ParseByteSize(size);
  if (!r.ok() || *r == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a byte rate such as 50MiB/s, not \"", text, "\""));
  }
  return *r;
}

}  // namespace custody
