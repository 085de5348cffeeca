// The regulation's rules for changing a record (doc/records.md), as pure
// checks: each returns OK or the clear status the caller gets. Used by
// server/records/record_keeper.cc before it appends anything.
#ifndef CUSTODY_SERVER_RECORDS_RECORD_CHECKS_H_
#define CUSTODY_SERVER_RECORDS_RECORD_CHECKS_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "custody/v1/access.pb.h"
#include "custody/v1/manifest.pb.h"
#include "custody/v1/records.pb.h"
#include "server/records/catalog.h"
#include "server/records/record_book.h"
#include "server/records/record_rules.h"

namespace custody {

// The one answer for a record that does not exist or is above the caller's
// clearance.
absl::Status RecordNotFound(const std::string& id);

// Each comma-separated id is 1-64 of [A-Za-z0-9._-].
absl::Status CheckIdList(const std::string& what, const std::string& joined);
absl::Status CheckNewRecord(const v1::CreateRecordRequest& req, const Catalog& catalog);
// The ledger fields of attaching `object` to `r`: kind, device and times
// (from the request, else the object's metadata), clock skew.
absl::StatusOr<std::map<std::string, std::string>> AttachFields(const v1::Record& r,
                                                                const v1::AttachRequest& req,
                                                                const v1::ObjectManifest& object,
                                                                const RecordRules& rules);
// Gap `number` of `f` if it is still unexplained.
absl::StatusOr<v1::Gap> OpenGap(const FoldedRecord& f, uint32_t number, const RecordRules& rules);
// Missing file `number` of the evaluated record `r` if it is still
// unexplained (server/records/record_missing.h).
absl::StatusOr<v1::MissingFile> OpenMissing(const v1::Record& r, uint32_t number);
// The value to record for a correction (times as unix nanoseconds).
absl::StatusOr<std::string> CheckCorrection(const v1::Record& r, const v1::CorrectRequest& req);
absl::Status CheckExemption(const v1::ExemptRequest& req);
// OK if `by` may approve `what` of `r` (requested by `requested_by`, "" =
// none; approved by `approved_by`, "" = pending): a leader of the record's
// agency, not the requester, once.
absl::Status CheckLeaderApproval(const v1::Record& r, const v1::Principal& by,
                                 absl::string_view what, const std::string& requested_by,
                                 const std::string& approved_by);
absl::Status CheckExemptionApproval(const v1::Record& r, const v1::Principal& by);
// OK if `by` may approve `r`'s reported late hand-over: a leader of its
// agency, not the reporter, once (record_holds.cc).
absl::Status CheckLateApproval(const v1::Record& r, const v1::Principal& by);
// OK if `by` may approve purge request `p`: an archive-head, not the
// requester, while it is pending.
absl::Status CheckPurgeApprover(const v1::PurgePlan& p, const v1::Principal& by);
// OK if `by` may set or release a legal hold on `r`: an archive-head, or a
// leader of the record's agency.
absl::Status CheckHoldDecider(const v1::Record& r, const v1::Principal& by);
// Retention is extended, never shortened (article 19).
absl::Status CheckRetention(const v1::Record& r, const v1::RetainRequest& req, absl::Time now);

// Of `records`, the open (unarchived) one of `agency` and `matter` that lists
// `device` and whose time covers `t`, or "" (the latest one if several).
std::string BestOpenRecord(const std::vector<v1::Record>& records, const std::string& agency,
                           uint32_t matter, const std::string& device, int64_t t);
// A new record for footage that names no open record (ingest).
v1::CreateRecordRequest RecordFromMetadata(const v1::ObjectManifest& m, const std::string& agency,
                                           uint32_t matter, int64_t start);

// A metadata time (RFC 3339) as unix nanoseconds; 0 when absent.
absl::StatusOr<int64_t> MetaTime(const v1::ObjectManifest& m, const std::string& key);
std::string MetaValue(const v1::ObjectManifest& m, const std::string& key);
// video, audio, photo or document, from a media type.
std::string KindOfMediaType(const std::string& media_type);

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_RECORD_CHECKS_H_
