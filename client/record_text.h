// Records (records.proto) as text for the CLI: times typed on the command
// line, and records, segments and gaps as JSON or readable lines.
#ifndef CUSTODY_CLIENT_RECORD_TEXT_H_
#define CUSTODY_CLIENT_RECORD_TEXT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "custody/v1/records.pb.h"

namespace custody {

// `text` given to `flag` as Unix nanoseconds: RFC 3339 with a zone
// ("2026-11-26T09:00:00Z", "2026-11-26T09:00:00+08:00") or a bare date
// ("2026-11-26", 00:00 UTC). "" is 0 (not given). INVALID_ARGUMENT otherwise.
absl::StatusOr<int64_t> ParseTimeFlag(absl::string_view flag, const std::string& text);
// --from and --to as Unix nanoseconds; a usage error when --to, both given,
// is not after --from.
absl::StatusOr<std::pair<int64_t, int64_t>> ParsePeriod(const std::string& from,
                                                        const std::string& to);

// FormatUnixNanos, or `none` for 0 (the protos' "not stated").
std::string TimeText(int64_t nanos, absl::string_view none = "-");

// `nanos` in time zone `zone` (an IANA name; "" or unknown = UTC) as RFC
// 3339 with its offset ("2026-11-27T06:00:00+08:00"), or `none` for 0.
std::string ZonedTimeText(int64_t nanos, const std::string& zone, absl::string_view none = "-");

// A corrected `field`'s value as people read it: a start or end (kept as
// Unix nanoseconds) as a time in `zone`; others as they are.
std::string CorrectedValueText(const std::string& field, const std::string& v,
                               const std::string& zone);

// A table: the header line (unless `with_header` is false: a later page),
// then the rows, columns padded to their widest cell (by display width, so
// Chinese text lines up).
void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows, bool with_header = true);

// A time for JSON: RFC 3339 text, or null for 0.
nlohmann::ordered_json TimeJson(int64_t nanos);

// Every field; times as RFC 3339 text (null when not stated), lists as arrays.
nlohmann::ordered_json RecordJson(const v1::Record& r);
nlohmann::ordered_json MatterJson(const v1::Matter& m);

// The multi-line view of `custody record show`.
void PrintRecord(std::ostream& out, const v1::Record& r);
// The columns of `custody record list`, and one record's row: id, agency,
// matter, target, stage, start (in the record's zone), archive number or "-",
// holds, flags (a,b) or "-".
std::vector<std::string> RecordHeader();
std::vector<std::string> RecordRow(const v1::Record& r);

}  // namespace custody

#endif  // CUSTODY_CLIENT_RECORD_TEXT_H_
