#include "server/records/record_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/roles.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "server/security/principals.h"

namespace custody {

namespace {

bool IsId(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

// Text that goes into archive numbers: 1-64 bytes, no control characters,
// braces or slashes.
absl::Status CheckText(const std::string& what, const std::string& v) {
  if (v.empty() || v.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat("--", what, " must be 1 to 64 bytes"));
  }
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f || c == '{' || c == '}' || c == '/' || c == ' ') {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", what, " \"", v, "\" may not hold spaces, control characters, braces or '/'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckIdList(const std::string& what, const std::string& joined) {
  for (absl::string_view id : absl::StrSplit(joined, ',', absl::SkipEmpty())) {
    if (!IsId(std::string(id))) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " \"", id, "\" is not an id (1 to 64 of letters, digits, '.', '_', '-')"));
    }
  }
  return absl::OkStatus();
}

namespace {

const std::set<std::string>& ExemptionReasons() {
  static const auto* s =
      new std::set<std::string>{"explosion-zone", "secret", "emergency", "objective"};
  return *s;
}

}  // namespace

absl::Status RecordNotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("no record ", id));
}

absl::Status CheckNewRecord(const v1::CreateRecordRequest& req, const Catalog& catalog) {
  if (!IsId(req.agency())) {
    return absl::InvalidArgumentError("--agency must be an id (1 to 64 of [A-Za-z0-9._-])");
  }
  if (catalog.Find(req.matter()) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("matter ", req.matter(),
                                                   " is not in the catalog (", catalog.source(),
                                                   "); see custody catalog list"));
  }
  RETURN_IF_ERROR(CheckText("target", req.target()));
  RETURN_IF_ERROR(CheckText("stage", req.stage()));
  RETURN_IF_ERROR(CheckIdList("officer", absl::StrJoin(req.officers(), ",")));
  RETURN_IF_ERROR(CheckIdList("device", absl::StrJoin(req.devices(), ",")));
  if (req.start_unix_nanos() == 0) return absl::InvalidArgumentError("a record needs --start");
  if (req.end_unix_nanos() != 0 && req.end_unix_nanos() < req.start_unix_nanos()) {
    return absl::InvalidArgumentError("--end is before --start");
  }
  if (!req.classification().empty() && LevelRank(req.classification()) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown classification \"", req.classification(), "\""));
  }
  return absl::OkStatus();
}

std::string MetaValue(const v1::ObjectManifest& m, const std::string& key) {
  auto it = m.metadata().find(key);
  return it == m.metadata().end() ? "" : it->second;
}

absl::StatusOr<int64_t> MetaTime(const v1::ObjectManifest& m, const std::string& key) {
  std::string v = MetaValue(m, key);
  if (v.empty()) return 0;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, v, &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the object's metadata ", key, " \"", v, "\" is not an RFC 3339 time"));
  }
  return absl::ToUnixNanos(t);
}

std::string KindOfMediaType(const std::string& media_type) {
  if (media_type.rfind("video/", 0) == 0) return "video";
  if (media_type.rfind("audio/", 0) == 0) return "audio";
  if (media_type.rfind("image/", 0) == 0) return "photo";
  return "document";
}

absl::StatusOr<std::map<std::string, std::string>> AttachFields(const v1::Record& r,
                                                                const v1::AttachRequest& req,
                                                                const v1::ObjectManifest& object,
                                                                const RecordRules& rules) {
  static const std::set<std::string> kKinds = {"video", "audio", "photo", "document"};
  if (kKinds.count(req.kind()) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--kind \"", req.kind(), "\" is not one of video, audio, photo, document"));
  }
  const std::string object_id = Digest::FromRaw(object.sha256())->ToString();
  for (const v1::Segment& s : r.segments()) {
    if (s.object_id() == object_id) {
      return absl::AlreadyExistsError(
          absl::StrCat(object_id, " is already attached to record ", r.id()));
    }
  }
  std::map<std::string, std::string> f{{"object", object_id}, {"kind", req.kind()}};
  f["classification"] = MetaValue(object, "classification").empty()
                            ? "internal"
                            : MetaValue(object, "classification");
  f["device"] = req.device().empty() ? MetaValue(object, "device") : req.device();
  RETURN_IF_ERROR(CheckIdList("device", f["device"]));
  ASSIGN_OR_RETURN(int64_t start, MetaTime(object, "start"));
  ASSIGN_OR_RETURN(int64_t end, MetaTime(object, "end"));
  if (req.start_unix_nanos() != 0) start = req.start_unix_nanos();
  if (req.end_unix_nanos() != 0) end = req.end_unix_nanos();
  if (start != 0 && end != 0 && end < start) {
    return absl::InvalidArgumentError("the segment ends before it starts");
  }
  f["start"] = std::to_string(start);
  f["end"] = std::to_string(end);
  double skew = 0;
  if (absl::SimpleAtod(MetaValue(object, "device_clock_skew_s"), &skew)) {
    f["clock_skew_seconds"] = std::to_string(std::llround(skew));
    if (std::fabs(skew) > absl::ToDoubleSeconds(rules.clock_tolerance)) {
      f["clock_flagged"] = "true";
    }
  }
  if (req.note_for_gap() != 0) f["note_for_gap"] = std::to_string(req.note_for_gap());
  // What dock manifests are matched against (doc/records.md).
  if (!object.file_name().empty()) f["file"] = object.file_name();
  f["size"] = std::to_string(object.size());
  uint64_t sequence = 0;
  if (absl::SimpleAtoi(MetaValue(object, "sequence"), &sequence) && sequence != 0) {
    f["sequence"] = std::to_string(sequence);
  }
  // Streamed live (doc/live.md): what the record shows of it.
  for (const auto& [field, key] : std::initializer_list<std::pair<const char*, const char*>>{
           {"live", "live"},
           {"live_id", "live_id"},
           {"live_truncated_reason", "live_truncated_reason"},
           {"live_extends", "live_extends"},
           {"altered_after_upload", "live_altered"}}) {
    const std::string v = MetaValue(object, key);
    if (!v.empty()) f[field] = v;
  }
  return f;
}

absl::StatusOr<v1::MissingFile> OpenMissing(const v1::Record& r, uint32_t number) {
  if (number == 0 || number > static_cast<uint32_t>(r.missing_size())) {
    return absl::InvalidArgumentError(absl::StrCat("record ", r.id(), " has ", r.missing_size(),
                                                   " missing file(s); there is no missing file ",
                                                   number));
  }
  const v1::MissingFile& m = r.missing(static_cast<int>(number) - 1);
  if (!m.explained_by().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("missing file ", number, " of record ",
                                                      r.id(), " is explained: ", m.explained_by()));
  }
  return m;
}

absl::StatusOr<v1::Gap> OpenGap(const FoldedRecord& f, uint32_t number, const RecordRules& rules) {
  std::vector<v1::Gap> gaps = FindGaps(f.record, rules);
  if (number == 0 || number > gaps.size()) {
    return absl::InvalidArgumentError(absl::StrCat("record ", f.record.id(), " has ", gaps.size(),
                                                   " gap(s); there is no gap ", number));
  }
  const v1::Gap& g = gaps[number - 1];
  for (const GapNote& n : f.notes) {
    if (n.device == g.device() && n.from_unix_nanos == g.from_unix_nanos()) {
      return absl::FailedPreconditionError(
          absl::StrCat("gap ", number, " is already explained (", n.explanation, ")"));
    }
  }
  return g;
}

absl::StatusOr<std::string> CheckCorrection(const v1::Record& r, const v1::CorrectRequest& req) {
  if (req.reason().empty()) return absl::InvalidArgumentError("a correction needs --reason");
  const std::string& f = req.field();
  if (f == "target" || f == "stage") {
    RETURN_IF_ERROR(CheckText(f, req.value()));
    return req.value();
  }
  if (f == "officers" || f == "devices") {
    RETURN_IF_ERROR(CheckIdList(f, req.value()));
    return req.value();
  }
  if (f == "start" || f == "end") {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, req.value(), &t, &err)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--value \"", req.value(), "\" is not an RFC 3339 time"));
    }
    int64_t n = absl::ToUnixNanos(t);
    int64_t start = f == "start" ? n : r.start_unix_nanos();
    int64_t end = f == "end" ? n : r.end_unix_nanos();
    if (end != 0 && end < start)
      return absl::InvalidArgumentError("the end would be before the start");
    return std::to_string(n);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--field \"", f,
                   "\" cannot be corrected; one of target, stage, start, end, officers, "
                   "devices"));
}

absl::Status CheckExemption(const v1::ExemptRequest& req) {
  if (ExemptionReasons().count(req.reason()) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--reason \"", req.reason(),
                     "\" is not one of explosion-zone, secret, emergency, "
                     "objective (article 10)"));
  }
  if (req.details().empty()) return absl::InvalidArgumentError("an exemption needs --details");
  return absl::OkStatus();
}

absl::Status CheckLeaderApproval(const v1::Record& r, const v1::Principal& by,
                                 absl::string_view what, const std::string& requested_by,
                                 const std::string& approved_by) {
  if (requested_by.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("record ", r.id(), " has no ", what));
  }
  if (!approved_by.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the ", what, " of ", r.id(), " was already approved by ", approved_by));
  }
  if (by.name() == requested_by) {
    return absl::PermissionDeniedError(absl::StrCat("nobody approves their own ", what));
  }
  if (!HasRole(by, "leader") ||
      (by.via() != "loopback" && (r.agency().empty() || by.agency() != r.agency()))) {
    return absl::PermissionDeniedError(absl::StrCat("only a leader of agency \"", r.agency(),
                                                    "\" approves this ", what, "; ", by.name(),
                                                    " leads \"", by.agency(), "\""));
  }
  return absl::OkStatus();
}

absl::Status CheckExemptionApproval(const v1::Record& r, const v1::Principal& by) {
  return CheckLeaderApproval(r, by, "exemption",
                             r.has_exemption() ? r.exemption().requested_by() : "",
                             r.exemption().approved_by());
}

absl::Status CheckPurgeApprover(const v1::PurgePlan& p, const v1::Principal& by) {
  if (p.state() != "pending") {
    return absl::FailedPreconditionError(
        absl::StrCat("purge request ", p.request_id(), " is ", p.state(), ", not pending"));
  }
  if (p.requested_by() == by.name()) {
    return absl::PermissionDeniedError("nobody approves their own purge request");
  }
  if (!HasRole(by, "archive-head")) {
    return absl::PermissionDeniedError(
        absl::StrCat("a purge is approved by an archive-head; ", by.name(), " is not one"));
  }
  return absl::OkStatus();
}

absl::Status CheckHoldDecider(const v1::Record& r, const v1::Principal& by) {
  if (HasRole(by, "archive-head")) return absl::OkStatus();
  if (HasRole(by, "leader") &&
      (by.via() == "loopback" || (!r.agency().empty() && by.agency() == r.agency()))) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "a legal hold on ", r.id(), " is set or released by an archive-head or a leader of agency \"",
      r.agency(), "\"; ", by.name(), " leads \"", by.agency(), "\""));
}

absl::Status CheckRetention(const v1::Record& r, const v1::RetainRequest& req, absl::Time now) {
  if (req.reason().empty()) return absl::InvalidArgumentError("retention needs --reason");
  if (req.permanent() == (req.until_unix_nanos() != 0)) {
    return absl::InvalidArgumentError("give exactly one of --permanent and --until");
  }
  if (req.permanent()) return absl::OkStatus();
  if (r.retention().permanent()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "record ", r.id(), " is kept permanently; retention is extended, never shortened"));
  }
  absl::Time floor =
      r.archive_number().empty() ? now : absl::FromUnixNanos(r.retention().until_unix_nanos());
  if (absl::FromUnixNanos(req.until_unix_nanos()) < floor) {
    return absl::FailedPreconditionError(absl::StrCat(
        "record ", r.id(), " is kept until ", FormatUnixNanos(absl::ToUnixNanos(floor)),
        "; retention is extended, never shortened (article 19)"));
  }
  return absl::OkStatus();
}

std::string BestOpenRecord(const std::vector<v1::Record>& records, const std::string& agency,
                           uint32_t matter, const std::string& device, int64_t t) {
  std::string best;
  int64_t best_start = 0;
  for (const v1::Record& r : records) {
    const std::string& id = r.id();
    if (r.agency() != agency || r.matter() != matter || !r.archive_number().empty()) continue;
    if (std::find(r.devices().begin(), r.devices().end(), device) == r.devices().end()) continue;
    if (t < r.start_unix_nanos() || (r.end_unix_nanos() != 0 && t > r.end_unix_nanos())) continue;
    if (best.empty() || r.start_unix_nanos() > best_start) {
      best = id;
      best_start = r.start_unix_nanos();
    }
  }
  return best;
}

v1::CreateRecordRequest RecordFromMetadata(const v1::ObjectManifest& m, const std::string& agency,
                                           uint32_t matter, int64_t start) {
  v1::CreateRecordRequest c;
  c.set_agency(agency);
  c.set_matter(matter);
  std::string target = MetaValue(m, "target"), stage = MetaValue(m, "stage");
  c.set_target(target.empty() ? "unstated" : target);
  c.set_stage(stage.empty() ? "unstated" : stage);
  for (absl::string_view o : absl::StrSplit(MetaValue(m, "officers"), ',', absl::SkipEmpty())) {
    c.add_officers(std::string(o));
  }
  c.add_devices(MetaValue(m, "device"));
  c.set_start_unix_nanos(start);
  // No end: the record stays open for the device's next segments, and ends
  // at the last one's end when the device is checked in or falls silent
  // (RecordKeeper::EndIngestRecords, IdleEnded).
  c.set_classification(MetaValue(m, "classification"));
  return c;
}

}  // namespace custody
