#include "server/records/record_rules.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/status_macros.h"
#include "server/records/record_missing.h"

namespace custody {

namespace {

bool IsFootage(const v1::Segment& s) {
  return (s.kind() == "video" || s.kind() == "audio") && s.note_for_gap() == 0 &&
         s.start_unix_nanos() != 0 && s.end_unix_nanos() != 0;
}

const std::regex& SeqPattern() {
  static const std::regex* re = new std::regex(R"(\{seq(?::([0-9]))?\})");
  return *re;
}

std::string Fill(const v1::Record& r, const std::string& format, const RecordRules& rules) {
  absl::Time start = absl::FromUnixNanos(r.start_unix_nanos());
  return absl::StrReplaceAll(
      format, {{"{agency}", r.agency()},
               {"{date}", absl::FormatTime("%Y%m%d", start, ZoneOf(rules, r.agency()))},
               {"{target}", r.target()},
               {"{stage}", r.stage()}});
}

// Whether documents state other times than the footage shows.
bool TimeMismatch(const v1::Record& r, const RecordRules& rules) {
  int64_t from = 0, to = 0;
  for (const v1::Segment& s : r.segments()) {
    if (!IsFootage(s)) continue;
    from = from == 0 ? s.start_unix_nanos() : std::min(from, s.start_unix_nanos());
    to = std::max(to, s.end_unix_nanos());
  }
  if (from == 0) return false;
  const int64_t tol = absl::ToInt64Nanoseconds(rules.time_tolerance);
  for (const v1::Segment& s : r.segments()) {
    if (s.kind() != "document") continue;
    if (s.start_unix_nanos() != 0 && std::llabs(s.start_unix_nanos() - from) > tol) return true;
    if (s.end_unix_nanos() != 0 && std::llabs(s.end_unix_nanos() - to) > tol) return true;
  }
  return false;
}

void AddFlags(const RecordRules& rules, absl::Time now, v1::Record* r) {
  const int64_t deadline = absl::ToInt64Nanoseconds(rules.archive_deadline);
  const int64_t due_from = DueFrom(*r, rules, now);
  if (due_from != 0) {
    if (r->archive_number().empty() && absl::ToUnixNanos(now) - due_from > deadline) {
      r->add_flags("overdue");
    }
    if (!r->archive_number().empty() && r->archived_unix_nanos() - due_from > deadline) {
      r->add_flags("archived-late");
    }
  }
  if (!r->late().requested_by().empty() && r->late().approved_by().empty()) {
    r->add_flags("late-pending");
  }
  for (const v1::Gap& g : r->gaps()) {
    if (g.explained_by().empty()) {
      r->add_flags("unexplained-gap");
      break;
    }
  }
  for (const v1::MissingFile& m : r->missing()) {
    if (m.explained_by().empty()) {
      r->add_flags("missing-footage");
      break;
    }
  }
  if (TimeMismatch(*r, rules)) r->add_flags("time-mismatch");
  for (const v1::Segment& s : r->segments()) {
    if (!s.altered_after_upload().empty()) {
      r->add_flags("altered-after-upload");
      break;
    }
  }
  for (const v1::Segment& s : r->segments()) {
    if (s.clock_flagged()) {
      r->add_flags("clock-skew");
      break;
    }
  }
  if (r->has_exemption() && r->exemption().approved_by().empty()) {
    r->add_flags("exemption-pending");
  }
}

}  // namespace

int64_t LastSegmentEnd(const v1::Record& r) {
  int64_t end = 0;
  for (const v1::Segment& s : r.segments()) {
    // A segment whose end is not known (a sidecar without "end") counts to
    // its start: the last instant known to be recorded.
    if ((s.kind() == "video" || s.kind() == "audio") && s.note_for_gap() == 0) {
      end = std::max({end, s.end_unix_nanos(), s.start_unix_nanos()});
    }
  }
  return end;
}

bool HasFootage(const v1::Record& r) {
  return std::any_of(r.segments().begin(), r.segments().end(), IsFootage);
}

bool IdleEnded(const v1::Record& r, const RecordRules& rules, absl::Time now) {
  const int64_t last = LastSegmentEnd(r);
  return r.opened_by_ingest() && r.end_unix_nanos() == 0 && last != 0 &&
         absl::ToUnixNanos(now) - last > absl::ToInt64Nanoseconds(rules.ingest_idle_close);
}

std::vector<v1::Gap> FindGaps(const v1::Record& r, const RecordRules& rules) {
  std::map<std::string, std::vector<const v1::Segment*>> by_device;
  for (const v1::Segment& s : r.segments()) {
    if (IsFootage(s)) by_device[s.device()].push_back(&s);
  }
  const int64_t tol = absl::ToInt64Nanoseconds(rules.gap_tolerance);
  std::vector<v1::Gap> gaps;
  for (auto& [device, segs] : by_device) {
    std::sort(segs.begin(), segs.end(), [](const v1::Segment* a, const v1::Segment* b) {
      return a->start_unix_nanos() < b->start_unix_nanos();
    });
    int64_t covered = segs.front()->end_unix_nanos();
    for (size_t i = 1; i < segs.size(); ++i) {
      if (segs[i]->start_unix_nanos() - covered > tol) {
        v1::Gap g;
        g.set_device(device);
        g.set_from_unix_nanos(covered);
        g.set_to_unix_nanos(segs[i]->start_unix_nanos());
        gaps.push_back(g);
      }
      covered = std::max(covered, segs[i]->end_unix_nanos());
    }
  }
  std::sort(gaps.begin(), gaps.end(), [](const v1::Gap& a, const v1::Gap& b) {
    return std::make_pair(a.from_unix_nanos(), a.device()) <
           std::make_pair(b.from_unix_nanos(), b.device());
  });
  for (size_t i = 0; i < gaps.size(); ++i) gaps[i].set_number(static_cast<uint32_t>(i + 1));
  return gaps;
}

std::string HolderAt(const v1::Device& device, int64_t t) {
  if (t == 0) return "";
  for (const v1::Device::Holding& h : device.holdings()) {
    if (h.from_unix_nanos() <= t && (h.to_unix_nanos() == 0 || t <= h.to_unix_nanos())) {
      return h.officer();
    }
  }
  return "";
}

const std::string& ZoneName(const RecordRules& rules, const std::string& agency) {
  auto it = rules.agency_time_zones.find(agency);
  return it == rules.agency_time_zones.end() ? rules.time_zone : it->second;
}

absl::TimeZone ZoneOf(const RecordRules& rules, const std::string& agency) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(ZoneName(rules, agency), &tz)) return absl::UTCTimeZone();
  return tz;
}

int64_t DueFrom(const v1::Record& r, const RecordRules& rules, absl::Time now) {
  // An ingest record whose device fell silent is due from its last segment.
  int64_t end = r.end_unix_nanos() != 0    ? r.end_unix_nanos()
                : IdleEnded(r, rules, now) ? LastSegmentEnd(r)
                                           : 0;
  if (end != 0 && !r.late().approved_by().empty()) end = std::max(end, r.late().until_unix_nanos());
  return end;
}

absl::StatusOr<v1::Record> Evaluate(const FoldedRecord& f, const RecordBook& book,
                                    const RecordRules& rules, absl::Time now) {
  v1::Record r = f.record;
  std::map<std::string, std::optional<v1::Device>> devices;
  for (v1::Segment& s : *r.mutable_segments()) {
    auto d = devices.find(s.device());
    if (d == devices.end()) {
      ASSIGN_OR_RETURN(std::optional<v1::Device> found, book.Device(s.device()));
      d = devices.emplace(s.device(), std::move(found)).first;
    }
    if (d->second) s.set_held_by(HolderAt(*d->second, s.start_unix_nanos()));
  }
  for (v1::Gap& g : FindGaps(r, rules)) {
    for (const GapNote& n : f.notes) {
      if (n.missing_key.empty() && n.device == g.device() &&
          n.from_unix_nanos == g.from_unix_nanos()) {
        g.set_explained_by(n.explanation);
        break;
      }
    }
    *r.add_gaps() = std::move(g);
  }
  ASSIGN_OR_RETURN(std::vector<v1::MissingFile> missing, FindMissing(r, book));
  for (v1::MissingFile& m : missing) *r.add_missing() = std::move(m);
  ExplainMissing(f, &r);
  AddFlags(rules, now, &r);
  if (IdleEnded(r, rules, now)) {
    // Shown as it counts: ended at its last segment (written at archiving).
    r.set_end_unix_nanos(LastSegmentEnd(r));
    r.add_flags("ended-idle");
  }
  r.set_time_zone(ZoneName(rules, r.agency()));
  return r;
}

absl::Status ValidateArchiveFormat(const std::string& format) {
  auto begin = std::sregex_iterator(format.begin(), format.end(), SeqPattern());
  if (std::distance(begin, std::sregex_iterator()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "archive format \"", format, "\" must hold {seq} or {seq:N} (N = 1-9 digits) once"));
  }
  return absl::OkStatus();
}

std::string ArchivePrefix(const v1::Record& r, const RecordRules& rules) {
  return std::regex_replace(Fill(r, rules.archive_format, rules), SeqPattern(), "#");
}

std::string ArchiveNumber(const v1::Record& r, const RecordRules& rules, uint64_t seq) {
  const std::string filled = Fill(r, rules.archive_format, rules);
  std::smatch m;
  std::regex_search(filled, m, SeqPattern());
  int width = m[1].matched ? m[1].str()[0] - '0' : 1;
  return absl::StrCat(m.prefix().str(), absl::StrFormat("%0*d", width, seq), m.suffix().str());
}

}  // namespace custody
