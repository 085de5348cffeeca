#include "server/records/record_query.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  if (book.Find(ref) != nullptr) return ref;
  for (const auto& [id, f] : book.records) {
    if (!f.record.archive_number().empty() && f.record.archive_number() == ref) return id;
  }
  if (ref.size() < kMinPrefix || !absl::StartsWith(ref, "rec-")) return RecordNotFound(ref);
  std::vector<std::string> matches;
  for (auto it = book.records.lower_bound(ref);
       it != book.records.end() && absl::StartsWith(it->first, ref); ++it) {
    matches.push_back(it->first);
  }
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

absl::Status PageRecords(std::vector<v1::Record> records, const v1::ListRecordsRequest& q,
                         v1::ListRecordsResponse* out) {
  size_t offset = 0;
  if (!q.page_token().empty() && !absl::SimpleAtoi(q.page_token(), &offset)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--page \"", q.page_token(), "\" is not a page token from a listing"));
  }
  std::sort(records.begin(), records.end(), [](const v1::Record& a, const v1::Record& b) {
    if (a.created_unix_nanos() != b.created_unix_nanos()) {
      return a.created_unix_nanos() < b.created_unix_nanos();
    }
    return a.id() < b.id();
  });
  out->set_total(static_cast<uint32_t>(records.size()));
  const size_t end =
      q.page_size() == 0 ? records.size() : std::min(records.size(), offset + q.page_size());
  for (size_t i = offset; i < end; ++i) *out->add_records() = std::move(records[i]);
  if (end < records.size()) out->set_next_page_token(std::to_string(end));
  return absl::OkStatus();
}

}  // namespace custody
