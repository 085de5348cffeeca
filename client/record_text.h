// Records (records.proto) as text for the CLI: times typed on the command
// line, and records, segments and gaps as JSON or readable lines.
#ifndef CUSTODY_CLIENT_RECORD_TEXT_H_
#define CUSTODY_CLIENT_RECORD_TEXT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "custody/v1/records.pb.h"

namespace custody {

// `text` given to `flag` as Unix nanoseconds: RFC 3339 with a zone
// ("2026-11-26T09:00:00Z", "2026-11-26T09:00:00+08:00") or a bare date
// ("2026-11-26", 00:00 UTC). "" is 0 (not given). INVALID_ARGUMENT otherwise.
absl::StatusOr<int64_t> ParseTimeFlag(absl::string_view flag, const std::string& text);

// FormatUnixNanos, or `none` for 0 (the protos' "not stated").
std::string TimeText(int64_t nanos, absl::string_view none = "-");

// A time for JSON: RFC 3339 text, or null for 0.
nlohmann::ordered_json TimeJson(int64_t nanos);

// Every field; times as RFC 3339 text (null when not stated), lists as arrays.
nlohmann::ordered_json RecordJson(const v1::Record& r);
nlohmann::ordered_json MatterJson(const v1::Matter& m);

// The multi-line view of `custody record show`.
void PrintRecord(std::ostream& out, const v1::Record& r);
// One line of `custody record list`: id, agency, matter, target, stage,
// start, archive number or "-", flags (a,b) or "-".
std::string RecordLine(const v1::Record& r);

}  // namespace custody

#endif  // CUSTODY_CLIENT_RECORD_TEXT_H_
