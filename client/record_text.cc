#include "client/record_text.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/cli_errors.h"
#include "client/shown_time.h"
#include "common/units.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;

template <typename List>
json Array(const List& list) {
  json out = json::array();
  for (const auto& x : list) out.push_back(x);
  return out;
}

json SegmentJson(const v1::Segment& s) {
  return json{{"object_id", s.object_id()},
              {"kind", s.kind()},
              {"device", s.device()},
              {"start", TimeJson(s.start_unix_nanos())},
              {"end", TimeJson(s.end_unix_nanos())},
              {"held_by", s.held_by()},
              {"clock_skew_seconds", s.clock_skew_seconds()},
              {"clock_flagged", s.clock_flagged()},
              {"note_for_gap", s.note_for_gap()},
              {"file_name", s.file_name()},
              {"sequence", s.sequence()},
              {"size", s.size()},
              {"live", s.live()},
              {"live_id", s.live_id()},
              {"live_truncated_reason", s.live_truncated_reason()},
              {"live_extends", s.live_extends()},
              {"altered_after_upload", s.altered_after_upload()},
              {"attached_by", s.attached_by()},
              {"attached", TimeJson(s.attached_unix_nanos())}};
}

json LiveJson(const v1::RecordLive& l) {
  return json{{"live_id", l.live_id()},
              {"device", l.device()},
              {"file_name", l.file_name()},
              {"held", l.held()},
              {"opened", TimeJson(l.opened_unix_nanos())},
              {"last_segment", TimeJson(l.last_segment_unix_nanos())}};
}

json GapJson(const v1::Gap& g) {
  return json{{"number", g.number()},
              {"device", g.device()},
              {"from", TimeJson(g.from_unix_nanos())},
              {"to", TimeJson(g.to_unix_nanos())},
              {"explained_by", g.explained_by()}};
}

json MissingJson(const v1::MissingFile& m) {
  json j{{"number", m.number()},     {"device", m.device()},
         {"reason", m.reason()},     {"time", TimeJson(m.time_unix_nanos())},
         {"sequence", m.sequence()}, {"explained_by", m.explained_by()}};
  if (m.reason() == "sequence-gap") {
    j["sequence_last"] = m.sequence_last();
  } else if (m.reason() == "truncated") {
    j.update(json{{"name", m.name()},
                  {"size", m.size()},
                  {"object_id", m.object_id()},
                  {"truncated_reason", m.truncated_reason()}});
  } else {
    j.update(json{{"name", m.name()},
                  {"size", m.size()},
                  {"dock_id", m.dock_id()},
                  {"station", m.station()},
                  {"listed_by", m.listed_by()},
                  {"docked", TimeJson(m.docked_unix_nanos())}});
  }
  return j;
}

// A corrected start or end is a time, not its Unix nanoseconds.
json CorrectedValueJson(const std::string& field, const std::string& v) {
  int64_t n = 0;
  if ((field == "start" || field == "end") && absl::SimpleAtoi(v, &n)) return TimeJson(n);
  return v;
}

json CorrectionJson(const v1::Correction& c) {
  return json{{"field", c.field()},
              {"old_value", CorrectedValueJson(c.field(), c.old_value())},
              {"new_value", CorrectedValueJson(c.field(), c.new_value())},
              {"reason", c.reason()},
              {"by", c.by()},
              {"time", TimeJson(c.time_unix_nanos())}};
}

json ExemptionJson(const v1::Record& r) {
  if (!r.has_exemption()) return nullptr;
  const v1::Exemption& e = r.exemption();
  return json{{"reason", e.reason()},
              {"details", e.details()},
              {"requested_by", e.requested_by()},
              {"approved_by", e.approved_by()},
              {"approved", TimeJson(e.approved_unix_nanos())}};
}

json LegalHoldsJson(const v1::Retention& t) {
  json out = json::array();
  for (const v1::LegalHold& h : t.legal_holds()) {
    out.push_back({{"id", h.id()},
                   {"reason", h.reason()},
                   {"authority", h.authority()},
                   {"set_by", h.set_by()},
                   {"set", TimeJson(h.set_unix_nanos())}});
  }
  return out;
}

json LateJson(const v1::Record& r) {
  if (r.late().requested_by().empty()) return nullptr;
  const v1::LateHandover& l = r.late();
  return {{"reason", l.reason()},
          {"until", TimeJson(l.until_unix_nanos())},
          {"requested_by", l.requested_by()},
          {"requested", TimeJson(l.requested_unix_nanos())},
          {"approved_by", l.approved_by()},
          {"approved", TimeJson(l.approved_unix_nanos())}};
}

std::string LateText(const v1::Record& r) {
  const v1::LateHandover& l = r.late();
  std::string text =
      absl::StrCat(l.reason(), "; back ", ZonedTimeText(l.until_unix_nanos(), r.time_zone()),
                   "; reported by ", l.requested_by());
  if (l.approved_by().empty()) return absl::StrCat(text, "; approval PENDING");
  return absl::StrCat(text, "; approved by ", l.approved_by());
}

json RetentionJson(const v1::Retention& t) {
  return json{{"until", TimeJson(t.until_unix_nanos())},
              {"permanent", t.permanent()},
              {"reason", t.reason()},
              {"holds", Array(t.holds())},
              {"legal_holds", LegalHoldsJson(t)},
              {"purged", t.purged()}};
}

void Field(std::ostream& out, absl::string_view label, absl::string_view value) {
  out << absl::StrFormat("%-15s %s\n", label, value.empty() ? "-" : value);
}

std::string Span(int64_t from, int64_t to, const std::string& z) {
  return absl::StrCat(ZonedTimeText(from, z, "?"), " to ", ZonedTimeText(to, z, "?"));
}

std::string RetentionText(const v1::Retention& t, const std::string& z) {
  std::string text = t.permanent() ? "permanent"
                     : t.until_unix_nanos() != 0
                         ? absl::StrCat("until ", ZonedTimeText(t.until_unix_nanos(), z))
                         : "not set";
  if (!t.reason().empty()) absl::StrAppend(&text, " (", t.reason(), ")");
  if (t.purged()) absl::StrAppend(&text, ", PURGED");
  return text;
}

std::string ExemptionText(const v1::Record& r) {
  if (!r.has_exemption() || r.exemption().reason().empty()) return "none";
  const v1::Exemption& e = r.exemption();
  std::string text =
      absl::StrCat(e.reason(), ": ", e.details(), "; requested by ", e.requested_by());
  if (e.approved_by().empty()) return absl::StrCat(text, "; approval PENDING");
  return absl::StrCat(text, "; approved by ", e.approved_by(), " at ",
                      ZonedTimeText(e.approved_unix_nanos(), r.time_zone()));
}

std::string SegmentText(const v1::Segment& s, const std::string& z) {
  std::string text =
      absl::StrCat("  ", s.kind(), "  ", s.object_id(), "  ", s.device().empty() ? "-" : s.device(),
                   "  ", Span(s.start_unix_nanos(), s.end_unix_nanos(), z), "  held by ",
                   s.held_by().empty() ? "-" : s.held_by());
  if (s.clock_skew_seconds() != 0 || s.clock_flagged()) {
    absl::StrAppend(&text, "  clock skew ", s.clock_skew_seconds(), " s",
                    s.clock_flagged() ? " FLAGGED" : "");
  }
  if (s.note_for_gap() != 0) absl::StrAppend(&text, "  note for gap ", s.note_for_gap());
  if (!s.live().empty()) {
    absl::StrAppend(&text, "  live ", s.live(),
                    s.live() == "truncated" ? " (" + s.live_truncated_reason() + ")" : "");
  }
  if (!s.live_extends().empty()) absl::StrAppend(&text, "  extends ", s.live_extends());
  if (!s.altered_after_upload().empty()) {
    absl::StrAppend(&text, "  ALTERED AFTER UPLOAD (differs from ", s.altered_after_upload(), ")");
  }
  return text;
}

std::string LiveText(const v1::RecordLive& l, const std::string& z) {
  return absl::StrCat("  ", l.device(), "  ", l.file_name(), "  recording (live)  ", l.held(),
                      " bytes held, last segment ",
                      ZonedTimeText(l.last_segment_unix_nanos(), z, "none yet"), "  ", l.live_id());
}

std::string GapText(const v1::Gap& g, const std::string& z) {
  return absl::StrCat("  #", g.number(), "  ", g.device().empty() ? "-" : g.device(), "  ",
                      Span(g.from_unix_nanos(), g.to_unix_nanos(), z), "  ",
                      g.explained_by().empty() ? "UNEXPLAINED" : g.explained_by());
}

std::string MissingText(const v1::MissingFile& m, const std::string& z) {
  std::string what;
  if (m.reason() == "sequence-gap") {
    what = m.sequence() == m.sequence_last()
               ? absl::StrCat("file number ", m.sequence(), " never listed nor received")
               : absl::StrCat("file numbers ", m.sequence(), "-", m.sequence_last(),
                              " never listed nor received");
  } else if (m.reason() == "truncated") {
    what = absl::StrCat(m.name(), ": live upload truncated after ", m.size(), " bytes as ",
                        m.object_id(), " (", m.truncated_reason(),
                        "); the rest of the recording never arrived");
  } else {
    what = absl::StrCat(m.name(), " (", m.size(), " bytes",
                        m.sequence() != 0 ? absl::StrCat(", number ", m.sequence()) : "",
                        ") listed at ", m.station().empty() ? "a station" : m.station(), " ",
                        ZonedTimeText(m.docked_unix_nanos(), z), " by ", m.listed_by(), " (",
                        m.dock_id(), "), not received");
  }
  return absl::StrCat("  #", m.number(), "  ", m.device(), "  ",
                      ZonedTimeText(m.time_unix_nanos(), z), "  ", what, "  ",
                      m.explained_by().empty() ? "MISSING" : m.explained_by());
}

std::string CorrectionText(const v1::Correction& c, const std::string& z) {
  return absl::StrCat("  ", c.field(), ": \"", CorrectedValueText(c.field(), c.old_value(), z),
                      "\" -> \"", CorrectedValueText(c.field(), c.new_value(), z), "\" (",
                      c.reason(), ") by ", c.by(), " at ", ZonedTimeText(c.time_unix_nanos(), z));
}

std::string ArchiveText(const v1::Record& r) {
  if (r.archive_number().empty()) return "not archived";
  return absl::StrCat(r.archive_number(), " at ",
                      ZonedTimeText(r.archived_unix_nanos(), r.time_zone()), " by ",
                      r.archived_by());
}

std::string Joined(const google::protobuf::RepeatedPtrField<std::string>& list) {
  return list.empty() ? "-" : absl::StrJoin(list, ", ");
}

}  // namespace

absl::StatusOr<int64_t> ParseTimeFlag(absl::string_view flag, const std::string& text) {
  if (text.empty()) return 0;
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err) ||
      absl::ParseTime("%Y-%m-%d", text, ShownTimeZone(), &t, &err)) {  // a day in --time-zone
    return absl::ToUnixNanos(t);
  }
  return UsageError(absl::StrCat(
      flag, " \"", text,
      "\" is not a time: give RFC 3339 with a zone (2026-11-26T09:00:00Z, "
      "2026-11-26T09:00:00+08:00) or a date (2026-11-26: 00:00 in --time-zone, UTC by default)"));
}

absl::StatusOr<std::pair<int64_t, int64_t>> ParsePeriod(const std::string& from,
                                                        const std::string& to) {
  absl::StatusOr<int64_t> f = ParseTimeFlag("--from", from);
  if (!f.ok()) return f.status();
  absl::StatusOr<int64_t> t = ParseTimeFlag("--to", to);
  if (!t.ok()) return t.status();
  if (*f != 0 && *t != 0 && *t <= *f) {
    return UsageError(absl::StrCat("--to ", to, " is not after --from ", from));
  }
  return std::make_pair(*f, *t);
}

json TimeJson(int64_t nanos) { return nanos == 0 ? json(nullptr) : json(ShownTime(nanos)); }

std::string TimeText(int64_t nanos, absl::string_view none) {
  return nanos == 0 ? std::string(none) : ShownTime(nanos);
}

json RecordJson(const v1::Record& r) {
  json segments = json::array(), gaps = json::array(), corrections = json::array();
  json missing = json::array(), live = json::array();
  for (const v1::RecordLive& l : r.live()) live.push_back(LiveJson(l));
  for (const v1::Segment& s : r.segments()) segments.push_back(SegmentJson(s));
  for (const v1::Gap& g : r.gaps()) gaps.push_back(GapJson(g));
  for (const v1::MissingFile& m : r.missing()) missing.push_back(MissingJson(m));
  for (const v1::Correction& c : r.corrections()) corrections.push_back(CorrectionJson(c));
  return json{{"id", r.id()},
              {"agency", r.agency()},
              {"matter", r.matter()},
              {"target", r.target()},
              {"stage", r.stage()},
              {"officers", Array(r.officers())},
              {"devices", Array(r.devices())},
              {"start", TimeJson(r.start_unix_nanos())},
              {"end", TimeJson(r.end_unix_nanos())},
              {"opened_by_ingest", r.opened_by_ingest()},
              {"classification", r.classification()},
              {"created_by", r.created_by()},
              {"created", TimeJson(r.created_unix_nanos())},
              {"segments", segments},
              {"gaps", gaps},
              {"missing", missing},
              {"live", live},
              {"corrections", corrections},
              {"archive_number", r.archive_number()},
              {"archived", TimeJson(r.archived_unix_nanos())},
              {"archived_by", r.archived_by()},
              {"exemption", ExemptionJson(r)},
              {"retention", RetentionJson(r.retention())},
              {"late", LateJson(r)},
              {"time_zone", r.time_zone()},
              {"flags", Array(r.flags())}};
}

json MatterJson(const v1::Matter& m) {
  return json{{"number", m.number()},
              {"category", m.category()},
              {"matter", m.matter()},
              {"record_scope", m.record_scope()},
              {"place", m.place()},
              {"recorder", m.recorder()},
              {"start_trigger", m.start_trigger()},
              {"process", m.process()},
              {"end_trigger", m.end_trigger()},
              {"record_class", m.record_class()},
              {"category_en", m.category_en()},
              {"matter_en", m.matter_en()}};
}

void PrintRecord(std::ostream& out, const v1::Record& r) {
  const std::string& z = r.time_zone();
  Field(out, "record", r.id());
  Field(out, "agency", r.agency());
  Field(out, "matter", absl::StrCat(r.matter()));
  Field(out, "target", r.target());
  Field(out, "stage", r.stage());
  Field(out, "officers", Joined(r.officers()));
  Field(out, "devices", Joined(r.devices()));
  Field(out, "start", ZonedTimeText(r.start_unix_nanos(), z));
  Field(
      out, "end",
      ZonedTimeText(r.end_unix_nanos(), z,
                    r.opened_by_ingest() ? "open (opened by ingest: ends at its last segment when "
                                           "the device is checked in, or falls silent)"
                                         : "open"));
  Field(out, "time zone", z.empty() ? "UTC" : z);
  Field(out, "classification", r.classification());
  Field(out, "created",
        absl::StrCat(ZonedTimeText(r.created_unix_nanos(), z), " by ", r.created_by()));
  Field(out, "archive", ArchiveText(r));
  Field(out, "retention", RetentionText(r.retention(), z));
  for (const v1::LegalHold& h : r.retention().legal_holds()) {
    Field(out, "legal hold",
          absl::StrCat(h.id(), ": ", h.reason(),
                       h.authority().empty() ? "" : " (" + h.authority() + ")", "; set by ",
                       h.set_by(), " at ", ZonedTimeText(h.set_unix_nanos(), z)));
  }
  if (!r.late().requested_by().empty()) Field(out, "late hand-over", LateText(r));
  Field(out, "exemption", ExemptionText(r));
  Field(out, "segments", absl::StrCat(r.segments_size()));
  for (const v1::Segment& s : r.segments()) out << SegmentText(s, z) << "\n";
  Field(out, "gaps", absl::StrCat(r.gaps_size()));
  for (const v1::Gap& g : r.gaps()) out << GapText(g, z) << "\n";
  if (!r.missing().empty()) Field(out, "missing", absl::StrCat(r.missing_size()));
  for (const v1::MissingFile& m : r.missing()) out << MissingText(m, z) << "\n";
  if (!r.live().empty()) Field(out, "live", absl::StrCat(r.live_size()));
  for (const v1::RecordLive& l : r.live()) out << LiveText(l, z) << "\n";
  Field(out, "corrections", absl::StrCat(r.corrections_size()));
  for (const v1::Correction& c : r.corrections()) out << CorrectionText(c, z) << "\n";
  Field(out, "flags", r.flags().empty() ? "none" : absl::StrJoin(r.flags(), ", "));
}

std::vector<std::string> RecordHeader() {
  return {"RECORD", "AGENCY",         "MATTER", "TARGET", "STAGE",
          "START",  "ARCHIVE NUMBER", "HOLDS",  "FLAGS"};
}

std::vector<std::string> RecordRow(const v1::Record& r) {
  return {r.id(),
          r.agency().empty() ? "-" : r.agency(),
          absl::StrCat(r.matter()),
          r.target().empty() ? "-" : r.target(),
          r.stage().empty() ? "-" : r.stage(),
          ZonedTimeText(r.start_unix_nanos(), r.time_zone()),
          r.archive_number().empty() ? "-" : r.archive_number(),
          absl::StrCat(r.retention().legal_holds_size()),
          r.flags().empty() ? "-" : absl::StrJoin(r.flags(), ",")};
}

std::string CorrectedValueText(const std::string& field, const std::string& v,
                               const std::string& z) {
  int64_t n = 0;
  if ((field == "start" || field == "end") && absl::SimpleAtoi(v, &n)) return ZonedTimeText(n, z);
  return v;
}

std::string ZonedTimeText(int64_t nanos, const std::string& zone, absl::string_view none) {
  if (nanos == 0) return std::string(none);
  absl::TimeZone tz;
  if (zone.empty() || zone == "UTC" || !absl::LoadTimeZone(zone, &tz)) return ShownTime(nanos);
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", absl::FromUnixNanos(nanos), tz);
}

namespace {

// Columns a terminal gives `s` (UTF-8): two for East Asian wide characters.
size_t DisplayWidth(const std::string& s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
    width += len >= 3 ? 2 : 1;  // CJK and full-width forms are 3-byte sequences
    i += len;
  }
  return width;
}

}  // namespace

void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows, bool with_header) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - DisplayWidth(row[i]) + 2, ' ');
    }
    out << line << "\n";
  };
  if (with_header) print(header);
  for (const auto& row : rows) print(row);
}

}  // namespace custody
