#include "server/records/record_query.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "server/records/record_checks.h"

namespace custody {

namespace {

constexpr size_t kMinPrefix = 8;  // "rec-" and 4 hex digits

bool ContainsIgnoringCase(const std::string& text, const std::string& part) {
  return absl::StrContains(absl::AsciiStrToLower(text), absl::AsciiStrToLower(part));
}

bool Has(const google::protobuf::RepeatedPtrField<std::string>& list, const std::string& v) {
  return v.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

// The text a free-text search looks through.
std::string SearchText(const v1::Record& r) {
  std::string t =
      absl::StrCat(r.id(), "\n", r.target(), "\n", r.stage(), "\n",
                   absl::StrJoin(r.officers(), "\n"), "\n", absl::StrJoin(r.devices(), "\n"), "\n",
                   r.archive_number(), "\n", r.exemption().details(), "\n", r.late().reason());
  for (const v1::Correction& c : r.corrections()) absl::StrAppend(&t, "\n", c.reason());
  for (const v1::Gap& g : r.gaps()) absl::StrAppend(&t, "\n", g.explained_by());
  for (const v1::LegalHold& h : r.retention().legal_holds()) {
    absl::StrAppend(&t, "\n", h.reason(), "\n", h.authority());
  }
  return t;
}

}  // namespace

absl::StatusOr<std::string> ResolveRecord(const RecordBook& book, const std::string& ref) {
  ASSIGN_OR_RETURN(std::optional<FoldedRecord> exact, book.Find(ref));
  if (exact) return ref;
  ASSIGN_OR_RETURN(std::vector<std::string> archived, book.ByArchiveNumber(ref));
  if (!archived.empty()) return archived[0];
  if (!absl::StartsWith(ref, "rec-")) return RecordNotFound(ref);
  if (ref.size() < kMinPrefix) {
    return absl::InvalidArgumentError(
        absl::StrCat("no record ", ref, ", and \"", ref,
                     "\" is too short to stand for one: give \"rec-\" and at least ",
                     kMinPrefix - 4, " hex digits of its id, or its archive number"));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> matches, book.IdsStartingWith(ref, 6));
  if (matches.empty()) return RecordNotFound(ref);
  if (matches.size() > 1) {
    if (matches.size() > 5) matches.resize(5);
    return absl::InvalidArgumentError(
        absl::StrCat("\"", ref, "\" is the start of several record ids (",
                     absl::StrJoin(matches, ", "), "...); give more of it"));
  }
  return matches[0];
}

bool RecordMatches(const v1::Record& r, const v1::ListRecordsRequest& q) {
  if (!q.agency().empty() && r.agency() != q.agency()) return false;
  if (q.matter() != 0 && r.matter() != q.matter()) return false;
  if (!Has(r.officers(), q.officer()) || !Has(r.devices(), q.device())) return false;
  if (q.from_unix_nanos() != 0 && r.start_unix_nanos() < q.from_unix_nanos()) return false;
  if (q.to_unix_nanos() != 0 && r.start_unix_nanos() >= q.to_unix_nanos()) return false;
  if (!Has(r.flags(), q.flag())) return false;
  if (q.overdue() && !Has(r.flags(), "overdue")) return false;
  if (q.held() && r.retention().legal_holds_size() == 0) return false;
  if (!q.target().empty() && !ContainsIgnoringCase(r.target(), q.target())) return false;
  return q.text().empty() || ContainsIgnoringCase(SearchText(r), q.text());
}

absl::Status ListRecords(
    const RecordBook& book, const v1::ListRecordsRequest& q,
    const std::function<absl::StatusOr<std::optional<v1::Record>>(const FoldedRecord&)>& shown,
    v1::ListRecordsResponse* out) {
  const std::string& token = q.page_token();
  if (!token.empty() && (token.size() < 18 || token.size() % 2 != 0 ||
                         !std::all_of(token.begin(), token.end(), absl::ascii_isxdigit))) {
    return absl::InvalidArgumentError(
        absl::StrCat("--page \"", token, "\" is not a page token from a listing"));
  }
  const std::string after = absl::HexStringToBytes(token);
  const uint32_t size =
      q.page_size() == 0 ? kMaxRecordPage : std::min(q.page_size(), kMaxRecordPage);
  absl::Status failed;
  std::string last;  // the position of the last record looked at
  uint32_t scanned = 0;
  RETURN_IF_ERROR(
      book.ForEachRecordByCreation(after, [&](const std::string& key, const FoldedRecord& f) {
        if (static_cast<uint32_t>(out->records_size()) == size ||
            scanned == kMaxRecordsScannedPerPage) {
          out->set_next_page_token(absl::BytesToHexString(last));
          return false;
        }
        ++scanned;
        absl::StatusOr<std::optional<v1::Record>> r = shown(f);
        if (!r.ok()) failed = r.status();
        if (!failed.ok()) return false;
        if (*r && RecordMatches(**r, q)) *out->add_records() = std::move(**r);
        last = key;
        return true;
      }));
  RETURN_IF_ERROR(failed);
  out->set_total(static_cast<uint32_t>(out->records_size()));
  return absl::OkStatus();
}

}  // namespace custody
