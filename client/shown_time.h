// The time zone the CLI shows times in (custody --time-zone, or
// CUSTODY_TIME_ZONE): an agency's local time instead of UTC everywhere a
// person reads a time, and the zone a date-only flag (--from 2026-11-01)
// starts its day in. UTC until set. Set once at start, before any thread.
#ifndef CUSTODY_CLIENT_SHOWN_TIME_H_
#define CUSTODY_CLIENT_SHOWN_TIME_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace custody {

// Sets the zone by its IANA name ("Asia/Shanghai"); "" or "UTC" is UTC.
// A usage error (exit 2) for a zone this machine does not know.
absl::Status SetShownTimeZone(const std::string& name);
absl::TimeZone ShownTimeZone();
// "UTC", or the IANA name: for table headers ("TIME (Asia/Shanghai)").
const std::string& ShownTimeZoneName();

// Unix nanoseconds as RFC 3339 in the shown zone: "2026-11-27T06:30:00.000+08:00"
// (UTC: "...Z", as FormatUnixNanos).
std::string ShownTime(int64_t nanos);

}  // namespace custody

#endif  // CUSTODY_CLIENT_SHOWN_TIME_H_
