#include "ingest/metadata.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/utf8.h"

namespace custody::ingest {
namespace {

using json = nlohmann::json;

const std::set<std::string> kClassifications = {"public", "internal", "privacy", "trade-secret",
                                                "state-secret"};
constexpr int kMatters = 13;  // ../shared/reference/matters.csv

absl::Status Invalid(absl::string_view what) { return absl::InvalidArgumentError(what); }

// Device and officer ids: 1..64 of [A-Za-z0-9._-].
absl::Status CheckId(absl::string_view field, const std::string& v) {
  static const std::regex kId("[A-Za-z0-9._-]{1,64}");
  if (!std::regex_match(v, kId)) {
    return Invalid(absl::StrCat(field, " \"", v,
                                "\" is not an id (1 to 64 letters, digits, "
                                "'.', '_' or '-')"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> String(const json& j, absl::string_view field) {
  if (!j.is_string()) return Invalid(absl::StrCat(field, " must be a string"));
  std::string s = j.get<std::string>();
  if (!IsValidUtf8(s)) return Invalid(absl::StrCat(field, " is not UTF-8 text"));
  return s;
}

absl::StatusOr<absl::Time> Time(const json& j, absl::string_view field, absl::TimeZone zone) {
  ASSIGN_OR_RETURN(std::string s, String(j, field));
  absl::StatusOr<absl::Time> t = ParseTimestamp(s, zone);
  if (!t.ok()) return Invalid(absl::StrCat(field, ": ", t.status().message()));
  return *t;
}

absl::Status SetMatter(RecordingMeta* m, const std::string& s) {
  int n = 0;
  if (!absl::SimpleAtoi(s, &n) || n < 1 || n > kMatters) {
    return Invalid(
        absl::StrCat("matter \"", s, "\" is not one of the enforcement matters 1..", kMatters));
  }
  m->matter = n;
  return absl::OkStatus();
}

// A camera's file sequence number: decimal digits (leading zeros allowed, as
// in 0042), at most 18 of them.
absl::Status SetSequence(RecordingMeta* m, const std::string& s) {
  uint64_t n = 0;
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(s, &n)) {
    return Invalid(absl::StrCat("sequence \"", s, "\" is not a file sequence number (digits)"));
  }
  m->sequence = n;
  return absl::OkStatus();
}

absl::Status SetGps(RecordingMeta* m, const json& j) {
  double lat = 0, lon = 0;
  if (j.is_object() && j.size() == 2 && j.contains("lat") && j.contains("lon") &&
      j["lat"].is_number() && j["lon"].is_number()) {
    lat = j["lat"].get<double>();
    lon = j["lon"].get<double>();
  } else if (j.is_array() && j.size() == 2 && j[0].is_number() && j[1].is_number()) {
    lat = j[0].get<double>();
    lon = j[1].get<double>();
  } else {
    return Invalid("gps must be {\"lat\": N, \"lon\": N} or [lat, lon]");
  }
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180) {
    return Invalid(absl::StrCat("gps ", lat, ",", lon, " is not on Earth"));
  }
  m->gps = std::make_pair(lat, lon);
  return absl::OkStatus();
}

absl::Status SetOfficers(RecordingMeta* m, const json& j) {
  if (j.is_string()) {
    ASSIGN_OR_RETURN(std::string s, String(j, "officers"));
    m->officers = absl::StrSplit(s, ',', absl::SkipEmpty());
  } else if (j.is_array()) {
    for (const json& o : j) {
      ASSIGN_OR_RETURN(std::string s, String(o, "each officer"));
      m->officers.push_back(s);
    }
  } else {
    return Invalid("officers must be a list of ids");
  }
  for (const std::string& o : m->officers) RETURN_IF_ERROR(CheckId("officer", o));
  return absl::OkStatus();
}

// One sidecar field into `m`.
absl::Status SetField(RecordingMeta* m, const std::string& key, const json& v,
                      absl::TimeZone zone) {
  if (key == "device") {
    ASSIGN_OR_RETURN(m->device, String(v, key));
  } else if (key == "agency") {
    ASSIGN_OR_RETURN(m->agency, String(v, key));
    return CheckId(key, m->agency);
  } else if (key == "officers" || key == "officer") {
    return SetOfficers(m, v);
  } else if (key == "matter") {
    return SetMatter(m, v.is_number_integer() ? std::to_string(v.get<int64_t>())
                                              : (v.is_string() ? v.get<std::string>() : v.dump()));
  } else if (key == "target" || key == "stage" || key == "classification") {
    ASSIGN_OR_RETURN(std::string s, String(v, key));
    (key == "target" ? m->target : key == "stage" ? m->stage : m->classification) = s;
  } else if (key == "start") {
    ASSIGN_OR_RETURN(m->start, Time(v, key, zone));
  } else if (key == "end" || key == "device_clock" || key == "docked_at") {
    ASSIGN_OR_RETURN(absl::Time t, Time(v, key, zone));
    (key == "end" ? m->end : key == "device_clock" ? m->device_clock : m->docked_at) = t;
  } else if (key == "gps") {
    return SetGps(m, v);
  } else if (key == "sequence") {
    return SetSequence(m, v.is_number_unsigned()
                              ? std::to_string(v.get<uint64_t>())
                              : (v.is_string() ? v.get<std::string>() : v.dump()));
  } else {
    return Invalid(absl::StrCat("unknown field \"", key, "\""));
  }
  return absl::OkStatus();
}

// Metadata read so far, with every problem found in it: the fields that
// were refused (by name, "officer" counted as "officers"), and why.
struct Parsed {
  RecordingMeta meta;
  std::set<std::string> bad_fields;
  std::vector<std::string> problems;
  void Set(const std::string& key, const absl::Status& s) {
    if (s.ok()) return;
    bad_fields.insert(key == "officer" ? "officers" : key);
    problems.emplace_back(s.message());
  }
};

// INVALID_ARGUMENT only when the sidecar cannot be read at all (not JSON, not
// an object); a refused field is a problem of the result.
absl::StatusOr<Parsed> FromSidecar(const std::string& path, absl::TimeZone zone) {
  std::ifstream in(path);
  if (!in) return Invalid(absl::StrCat("cannot read the sidecar ", path));
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Invalid(absl::StrCat("the sidecar ", path, " is not valid JSON"));
  if (!j.is_object()) return Invalid("the sidecar must be a JSON object");
  Parsed p;
  p.meta.source = "sidecar";
  for (const auto& [key, value] : j.items()) p.Set(key, SetField(&p.meta, key, value, zone));
  if (!p.meta.docked_at) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0) p.meta.docked_at = absl::TimeFromTimespec(st.st_mtim);
  }
  return p;
}

// INVALID_ARGUMENT only when the name does not match the pattern.
absl::StatusOr<Parsed> FromName(const std::string& name, const NamePattern& pattern,
                                absl::TimeZone zone) {
  std::smatch match;
  if (!std::regex_match(name, match, pattern.re)) {
    return Invalid(absl::StrCat("no sidecar ", name,
                                ".json, and the file name does not match "
                                "the name pattern"));
  }
  Parsed p;
  p.meta.source = "file name";
  for (size_t i = 0; i < pattern.fields.size(); ++i) {
    const std::string& field = pattern.fields[i];
    std::string v = match[i + 1].str();
    p.Set(field, field == "matter"     ? SetMatter(&p.meta, v)
                 : field == "sequence" ? SetSequence(&p.meta, v)
                                       : SetField(&p.meta, field, v, zone));
  }
  return p;
}

// Adds what is missing or inconsistent to `p`, except for the fields already
// refused (a start time that does not parse is not also "missing").
void Validate(Parsed* p) {
  const RecordingMeta& m = p->meta;
  auto ok = [p](const char* field) { return !p->bad_fields.count(field); };
  if (ok("device")) {
    p->Set("device", m.device.empty()
                         ? Invalid("no device id (sidecar, file name or device folder)")
                         : CheckId("device", m.device));
  }
  if (ok("officers") && m.officers.empty()) p->Set("officers", Invalid("no officer id"));
  if (ok("start") && m.start == absl::InfinitePast()) p->Set("start", Invalid("no start time"));
  if (ok("start") && ok("end") && m.end && *m.end < m.start) {
    p->Set("end", Invalid("the end time is before the start time"));
  }
  if (ok("classification") && !kClassifications.count(m.classification)) {
    p->Set("classification",
           Invalid(absl::StrCat("classification \"", m.classification, "\" is not one of ",
                                absl::StrJoin(kClassifications, ", "))));
  }
}

}  // namespace

absl::StatusOr<absl::Time> ParseTimestamp(const std::string& s, absl::TimeZone zone) {
  // The compact form is rewritten as RFC 3339 first: absl's %Y would take
  // all eight digits of "20261126" as the year.
  static const std::regex kCompact(
      "([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})(Z|[+-][0-9]{2}:?[0-9]{2})?");
  std::string text = s;
  std::smatch m;
  if (std::regex_match(s, m, kCompact)) {
    std::string offset = m[7].matched ? m[7].str() : "";
    if (offset.size() == 5) offset.insert(3, ":");
    text = absl::StrCat(m[1].str(), "-", m[2].str(), "-", m[3].str(), "T", m[4].str(), ":",
                        m[5].str(), ":", m[6].str(), offset);
  }
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return t;
  // No offset: a local time of the station's zone (--time-zone).
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%S", text, zone, &t, &err)) return t;
  return Invalid(absl::StrCat("\"", s,
                              "\" is not a time (RFC 3339, e.g. "
                              "2026-11-26T09:30:00+08:00, or 20261126T093000Z)"));
}

absl::StatusOr<NamePattern> NamePattern::Parse(const std::string& regex,
                                               const std::string& fields_csv) {
  static const std::set<std::string> kFields = {"device", "agency", "officer", "matter",  "target",
                                                "stage",  "start",  "end",     "sequence"};
  NamePattern p;
  try {
    p.re = std::regex(regex);
  } catch (const std::regex_error& e) {
    return Invalid(absl::StrCat("--name-pattern is not a regular expression: ", e.what()));
  }
  p.fields = absl::StrSplit(fields_csv, ',', absl::SkipEmpty());
  for (const std::string& f : p.fields) {
    if (!kFields.count(f)) return Invalid(absl::StrCat("--name-fields: unknown field ", f));
  }
  if (p.fields.size() != p.re.mark_count()) {
    return Invalid(absl::StrCat("--name-pattern has ", p.re.mark_count(),
                                " groups but --name-fields names ", p.fields.size()));
  }
  return p;
}

std::string DescribeProblems(absl::string_view source, const std::vector<std::string>& problems) {
  if (problems.size() == 1) return absl::StrCat(source, ": ", problems[0]);
  std::string out = absl::StrCat(source, ": ", problems.size(), " problems: ");
  for (size_t i = 0; i < problems.size(); ++i) {
    absl::StrAppend(&out, i ? "; " : "", "(", i + 1, ") ", problems[i]);
  }
  return out;
}

absl::StatusOr<RecordingMeta> ReadMetadata(const std::string& recording,
                                           const std::string& folder_device,
                                           const std::optional<NamePattern>& pattern,
                                           absl::TimeZone zone) {
  std::string sidecar = recording + ".json";
  std::string name = std::filesystem::path(recording).filename().string();
  absl::StatusOr<Parsed> p;
  absl::StatusOr<bool> has_sidecar = PathExists(sidecar);
  if (!has_sidecar.ok()) return has_sidecar.status();
  if (*has_sidecar) {
    p = FromSidecar(sidecar, zone);
  } else if (pattern) {
    p = FromName(name, *pattern, zone);
  } else {
    return Invalid(absl::StrCat("no sidecar ", name, ".json and no --name-pattern"));
  }
  if (!p.ok()) return p.status();
  if (p->meta.device.empty() && !p->bad_fields.count("device")) p->meta.device = folder_device;
  Validate(&*p);
  if (!p->problems.empty()) return Invalid(DescribeProblems(p->meta.source, p->problems));
  return std::move(p->meta);
}

std::map<std::string, std::string> ToObjectMetadata(const RecordingMeta& m,
                                                    const std::string& station) {
  std::map<std::string, std::string> out;
  out["device"] = m.device;
  if (!m.agency.empty()) out["agency"] = m.agency;
  out["officers"] = absl::StrJoin(m.officers, ",");
  out["start"] = absl::FormatTime(absl::RFC3339_sec, m.start, absl::UTCTimeZone());
  if (m.end) out["end"] = absl::FormatTime(absl::RFC3339_sec, *m.end, absl::UTCTimeZone());
  if (m.matter) out["matter"] = std::to_string(*m.matter);
  if (!m.target.empty()) out["target"] = m.target;
  if (!m.stage.empty()) out["stage"] = m.stage;
  if (m.gps) out["gps"] = absl::StrCat(m.gps->first, ",", m.gps->second);
  if (m.sequence) out["sequence"] = std::to_string(*m.sequence);
  out["classification"] = m.classification;
  out["metadata_source"] = m.source;
  if (!station.empty()) out["station"] = station;
  if (m.device_clock && m.docked_at) {
    out["device_clock_skew_s"] =
        absl::StrCat(absl::ToDoubleSeconds(*m.device_clock - *m.docked_at));
  }
  return out;
}

}  // namespace custody::ingest
