// Parsing and printing sizes and rates ("4MiB", "1.5 GB/s").
#ifndef CUSTODY_COMMON_UNITS_H_
#define CUSTODY_COMMON_UNITS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace custody {

// "4096", "4KiB", "4MiB", "1GiB", "10MB" (decimal), case-insensitive units.
absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text);
// A byte rate: a byte size, with or without "/s" ("50MiB/s", "50MiB");
// INVALID_ARGUMENT for zero or what does not parse.
absl::StatusOr<uint64_t> ParseByteRate(const std::string& text);
// "4.0 MiB" style.
std::string FormatBytes(double bytes);
// Current wall-clock time in Unix nanoseconds.
int64_t NowUnixNanos();
// RFC 3339 UTC with milliseconds, e.g. "2026-11-28T07:01:02.345Z".
std::string FormatUnixNanos(int64_t nanos);

}  // namespace custody

#endif  // CUSTODY_COMMON_UNITS_H_
