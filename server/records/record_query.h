// Finding records as archivists do (doc/records.md, "Finding records"): by
// id, a prefix of one or an archive number; and lists filtered by agency,
// matter, officer, device, period, flag, hold, target and free text, in
// pages.
#ifndef CUSTODY_SERVER_RECORDS_RECORD_QUERY_H_
#define CUSTODY_SERVER_RECORDS_RECORD_QUERY_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "custody/v1/records.pb.h"
#include "server/records/record_book.h"

namespace custody {

// The id of the record `ref` names in `book`: its id, its archive number, or
// a unique prefix of an id ("rec-" and at least 4 more characters).
// NOT_FOUND when none matches, INVALID_ARGUMENT (naming some) when several.
absl::StatusOr<std::string> ResolveRecord(const RecordBook& book, const std::string& ref);

// Whether `r` (evaluated: flags set) passes every filter of `q` (the paging
// fields aside).
bool RecordMatches(const v1::Record& r, const v1::ListRecordsRequest& q);

// The most records one page holds (a page_size of 0 asks for this many),
// and the most a page looks at: a filter few records pass gives short (even
// empty) pages with a next token rather than one long scan.
inline constexpr uint32_t kMaxRecordPage = 1000;
inline constexpr uint32_t kMaxRecordsScannedPerPage = 20000;

// One page of the records of `book` in creation order (then id), from the
// position `q`'s page token names: those `shown` turns into an answer
// (evaluated, redacted) and that pass `q`'s filters. Sets `out`'s records,
// the next page token ("" on the last page) and total (the records on this
// page). Reads only as far as the page goes, and at most
// kMaxRecordsScannedPerPage records. INVALID_ARGUMENT for a token
// that is not one this returned.
absl::Status ListRecords(
    const RecordBook& book, const v1::ListRecordsRequest& q,
    const std::function<absl::StatusOr<std::optional<v1::Record>>(const FoldedRecord&)>& shown,
    v1::ListRecordsResponse* out);

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_RECORD_QUERY_H_
