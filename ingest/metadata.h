// What a docked recording is: device, officers, matter, times... read from a
// sidecar file (NAME.json), or from the file name, or from the device's
// folder. See ingest/README.md for the sidecar format.
#ifndef CUSTODY_INGEST_METADATA_H_
#define CUSTODY_INGEST_METADATA_H_

#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace custody::ingest {

struct RecordingMeta {
  std::string device;
  // The agency the footage is filed for; "" leaves it to the device's
  // registration or the uploader's identity (doc/records.md, "Ingest").
  std::string agency;
  std::vector<std::string> officers;
  std::optional<int> matter;  // 1..13: the regulation's enforcement matters
  std::string target, stage;
  absl::Time start = absl::InfinitePast();
  std::optional<absl::Time> end;
  std::optional<std::pair<double, double>> gps;  // latitude, longitude
  std::string classification = "internal";
  // The device's own clock when it was docked, and the station's clock then.
  std::optional<absl::Time> device_clock, docked_at;
  std::string source;  // "sidecar", "file name"
  // The camera's own file sequence number, where its software numbers the
  // files it records (0041, 0042, ...): a gap across docks is flagged
  // (issue 31).
  std::optional<uint64_t> sequence;
};

// How names are read when a recording has no sidecar: a regular expression
// over the file name, and the field each capture group fills (device,
// agency, officer, matter, target, stage, start, end, sequence).
struct NamePattern {
  std::regex re;
  std::vector<std::string> fields;
  static absl::StatusOr<NamePattern> Parse(const std::string& regex, const std::string& fields_csv);
};

// The metadata of `recording`: from `recording + ".json"` when it exists
// (the sidecar's mtime is the station's docking time unless it says
// otherwise), else from `pattern`. `folder_device` (the device subfolder's
// name, or "") fills the device when nothing else does. Errors are
// INVALID_ARGUMENT and say exactly what is missing or wrong: every problem
// of the sidecar or name at once (DescribeProblems), not only the first.
// Times without an offset are local times of `zone` (the station's).
absl::StatusOr<RecordingMeta> ReadMetadata(const std::string& recording,
                                           const std::string& folder_device,
                                           const std::optional<NamePattern>& pattern,
                                           absl::TimeZone zone = absl::UTCTimeZone());

// One line naming every problem of the metadata from `source` ("sidecar",
// "file name"): "sidecar: no start time", or with several
// "sidecar: 3 problems: (1) ...; (2) ...; (3) ...". `problems` is not empty.
std::string DescribeProblems(absl::string_view source, const std::vector<std::string>& problems);

// The object metadata stored with the footage ("device", "agency" when
// known, "officers", "start"..., "sequence" and "device_clock_skew_s" when
// known).
std::map<std::string, std::string> ToObjectMetadata(const RecordingMeta& m,
                                                    const std::string& station);

// Parses RFC 3339 ("2026-11-26T09:30:00+08:00") or the compact
// "20261126T093000Z" / "20261126T093000+0800" forms; without an offset
// ("20261126T093000", "2026-11-26T09:30:00") a local time of `zone`.
absl::StatusOr<absl::Time> ParseTimestamp(const std::string& s,
                                          absl::TimeZone zone = absl::UTCTimeZone());

}  // namespace custody::ingest

#endif  // CUSTODY_INGEST_METADATA_H_
