// RecordKeeper's legal holds (several per record, each released on its own)
// and late hand-overs (article 17): the officer reports, a leader of the
// agency approves, and the record is then due 24 h after the return.
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "server/records/record_checks.h"
#include "server/records/record_keeper.h"
#include "server/security/decisions.h"
#include "server/security/ledger.h"

namespace custody {

namespace {

const v1::LegalHold* FindHold(const v1::Record& r, const std::string& id) {
  for (const v1::LegalHold& h : r.retention().legal_holds()) {
    if (h.id() == id) return &h;
  }
  return nullptr;
}

std::string HoldIds(const v1::Record& r) {
  std::vector<std::string> ids;
  for (const v1::LegalHold& h : r.retention().legal_holds()) ids.push_back(h.id());
  return absl::StrJoin(ids, ", ");
}

// The hold a release ends: the one named, or the only one in force.
absl::StatusOr<std::string> HoldToRelease(const v1::Record& r, const std::string& named) {
  const int n = r.retention().legal_holds_size();
  if (n == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("record ", r.id(), " is under no legal hold"));
  }
  if (named.empty() && n > 1) {
    return absl::FailedPreconditionError(absl::StrCat("record ", r.id(), " is under ", n,
                                                      " legal holds (", HoldIds(r),
                                                      "); name the one to release with --hold"));
  }
  if (named.empty()) return r.retention().legal_holds(0).id();
  if (FindHold(r, named) == nullptr) {
    return absl::NotFoundError(absl::StrCat("record ", r.id(), " has no legal hold ", named,
                                            " in force (in force: ", HoldIds(r), ")"));
  }
  return named;
}

// A new hold's id: the one its setter signed, or (loopback) a fresh one.
absl::StatusOr<std::string> NewHoldId(const v1::Record& r, const v1::HoldRequest& req,
                                      bool signatures_required) {
  std::string id = req.hold_id();
  if (id.empty() && signatures_required) {
    return absl::InvalidArgumentError("a signed legal hold names its id (field hold)");
  }
  if (id.empty()) {
    ASSIGN_OR_RETURN(id, RandomHex(4, "a hold id"));
  }
  if (id.rfind("hold-", 0) != 0) id = "hold-" + id;
  static const std::regex* kId = new std::regex("hold-[0-9a-z]{1,32}");
  if (!std::regex_match(id, *kId)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a hold id is hold- and 1-32 of [0-9a-z]: ", id));
  }
  if (FindHold(r, id) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("record ", r.id(), " already has hold ", id));
  }
  return id;
}

}  // namespace

absl::Status CheckLateApproval(const v1::Record& r, const v1::Principal& by) {
  return CheckLeaderApproval(r, by, "late hand-over", r.late().requested_by(),
                             r.late().approved_by());
}

absl::StatusOr<v1::Record> RecordKeeper::Hold(const v1::Principal& by, const v1::HoldRequest& req) {
  if (req.reason().empty()) return absl::InvalidArgumentError("a legal hold needs --reason");
  absl::MutexLock l(&purge_mu_);
  ASSIGN_OR_RETURN(FoldedRecord f, Folded(req.record_id()));
  std::map<std::string, std::string> fields{{"reason", req.reason()}};
  if (req.release()) {
    ASSIGN_OR_RETURN(fields["hold"], HoldToRelease(f.record, req.hold_id()));
  } else {
    const bool signed_only = d_.ledger->verifier().signatures_required();
    ASSIGN_OR_RETURN(fields["hold"], NewHoldId(f.record, req, signed_only));
    if (!req.authority().empty()) fields["authority"] = req.authority();
  }
  ASSIGN_OR_RETURN(
      v1::LedgerEntry e,
      Signed(by, req.signed_(), req.release() ? "record.hold-released" : "record.hold-set",
             "record:" + req.record_id(), fields));
  RETURN_IF_ERROR(CheckHoldDecider(f.record, d_.ledger->verifier().Signer(e)));
  if (f.record.retention().purged()) {
    return absl::FailedPreconditionError(
        absl::StrCat("record ", f.record.id(), " was purged; there is nothing left to hold"));
  }
  RETURN_IF_ERROR(AppendHold(req.record_id(), fields["hold"], req.release(), std::move(e)));
  return Get(req.record_id());
}

// A new hold is registered before its entry is written, so that a purge
// beginning on another node meanwhile is refused; a released one is
// forgotten first, and registered again if its release is not written.
absl::Status RecordKeeper::AppendHold(const std::string& record, const std::string& hold,
                                      bool release, v1::LedgerEntry e) {
  if (d_.holds == nullptr) return AppendDecision(std::move(e));
  RETURN_IF_ERROR(release ? d_.holds->RemoveHold(record, hold) : d_.holds->AddHold(record, hold));
  absl::Status s = AppendDecision(std::move(e));
  if (!s.ok()) {
    absl::Status undo =
        release ? d_.holds->AddHold(record, hold) : d_.holds->RemoveHold(record, hold);
    if (!undo.ok()) {
      LOG(WARNING) << "hold " << hold << " of " << record << " not written (" << s
                   << "), and etcd could not be set back: " << undo;
    }
  }
  return s;
}

absl::StatusOr<v1::Record> RecordKeeper::Late(const Actor& by, const v1::LateRequest& req) {
  if (req.reason().empty()) {
    return absl::InvalidArgumentError(
        "a late hand-over needs --reason (continuous duty, travel, weather...)");
  }
  ASSIGN_OR_RETURN(FoldedRecord f, Folded(req.record_id()));
  const v1::Record& r = f.record;
  if (!r.archive_number().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("record ", r.id(), " is archived already (", r.archive_number(), ")"));
  }
  if (req.until_unix_nanos() <= r.start_unix_nanos()) {
    return absl::InvalidArgumentError(
        "--until (when the officer is back) must be after the "
        "record's start");
  }
  if (absl::FromUnixNanos(req.until_unix_nanos()) > absl::Now() + absl::Hours(24 * 90)) {
    return absl::InvalidArgumentError("--until is more than 90 days ahead");
  }
  RETURN_IF_ERROR(
      Append(by, "record.late-reported", "record:" + r.id(),
             {{"reason", req.reason()}, {"until", std::to_string(req.until_unix_nanos())}}));
  return Get(r.id());
}

absl::StatusOr<v1::Record> RecordKeeper::ApproveLate(const v1::Principal& by, const std::string& id,
                                                     const v1::SignedDecision& s) {
  ASSIGN_OR_RETURN(FoldedRecord f, Folded(id));
  ASSIGN_OR_RETURN(v1::LedgerEntry e, Signed(by, s, "record.late-approved", "record:" + id, {}));
  RETURN_IF_ERROR(CheckLateApproval(f.record, d_.ledger->verifier().Signer(e)));
  RETURN_IF_ERROR(AppendDecision(std::move(e)));
  return Get(id);
}

}  // namespace custody
