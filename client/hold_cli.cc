// `custody hold set|release|list` and `custody record late|approve-late`:
// legal holds (several per record, each with its reason and authority) and
// late hand-overs (article 17).
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli_errors.h"
#include "client/decision_signer.h"
#include "client/record_call.h"
#include "client/record_text.h"
#include "common/random.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;
using Stub = v1::Records::Stub;

// The hold a release ends: --hold, or the only one in force.
absl::StatusOr<std::string> HoldToRelease(const v1::Record& r, const std::string& named) {
  if (!named.empty()) return named;
  const auto& holds = r.retention().legal_holds();
  if (holds.size() == 1) return holds[0].id();
  if (holds.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("record ", r.id(), " is under no legal hold"));
  }
  std::vector<std::string> ids;
  for (const v1::LegalHold& h : holds) ids.push_back(h.id());
  return UsageError(absl::StrCat(r.id(), " is under ", holds.size(), " legal holds (",
                                 absl::StrJoin(ids, ", "), "): name one with --hold"));
}

json HoldJson(const v1::Record& r, const v1::LegalHold& h) {
  return {{"record", r.id()},
          {"archive_number", r.archive_number()},
          {"hold", h.id()},
          {"reason", h.reason()},
          {"authority", h.authority()},
          {"set_by", h.set_by()},
          {"set", TimeJson(h.set_unix_nanos())}};
}

}  // namespace

int HoldCommand(const RecordArgs& a, bool release) {
  v1::HoldRequest req;
  req.set_record_id(a.record);
  req.set_reason(a.reason);
  req.set_release(release);
  std::map<std::string, std::string> fields{{"reason", a.reason}};
  if (release) {
    absl::StatusOr<v1::Record> r = ShowRecord(a.server, a.record);
    if (!r.ok()) return PrintFailure(r.status());
    absl::StatusOr<std::string> hold = HoldToRelease(*r, a.hold);
    if (!hold.ok()) return PrintFailure(hold.status());
    req.set_hold_id(*hold);
  } else {
    absl::StatusOr<std::string> hex = RandomHex(4, "a hold id");
    if (!hex.ok()) return PrintFailure(hex.status());
    // Named as the node names it, so that the signature covers that name.
    const std::string named = a.hold.empty() ? *hex : a.hold;
    req.set_hold_id(named.rfind("hold-", 0) == 0 ? named : "hold-" + named);
    req.set_authority(a.authority);
    if (!a.authority.empty()) fields["authority"] = a.authority;
  }
  fields["hold"] = req.hold_id();
  absl::StatusOr<v1::SignedDecision> d = SignDecision(
      release ? "record.hold-released" : "record.hold-set", "record:" + a.record, fields);
  if (!d.ok()) return PrintFailure(d.status());
  *req.mutable_signed_() = *d;
  return RecordCall(a, &Stub::Hold, req, [&](const v1::Record& r) {
    return absl::StrCat(release ? "released legal hold " : "put legal hold ", req.hold_id(),
                        release ? " of " : " on ", r.id(), " (", r.retention().legal_holds_size(),
                        " in force)");
  });
}

int HoldListCommand(const RecordArgs& a) {
  v1::ListRecordsRequest req;
  req.set_agency(a.agency);
  req.set_held(true);
  json all = json::array();
  std::vector<std::vector<std::string>> rows;
  size_t held = 0;
  do {  // every page: holds are few, records many
    v1::ListRecordsResponse resp;
    absl::Status s = UnaryCall(a.server, &Stub::List, req, &resp);
    if (!s.ok()) return PrintFailure(s);
    held += resp.records_size();
    for (const v1::Record& r : resp.records()) {
      for (const v1::LegalHold& h : r.retention().legal_holds()) {
        all.push_back(HoldJson(r, h));
        rows.push_back({r.id(), r.archive_number().empty() ? "-" : r.archive_number(), h.id(),
                        ZonedTimeText(h.set_unix_nanos(), r.time_zone()), h.set_by(),
                        h.authority().empty() ? "-" : h.authority(), h.reason()});
      }
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (a.json) {
    std::cout << all.dump() << "\n";
    return 0;
  }
  PrintTable(std::cout, {"RECORD", "ARCHIVE NUMBER", "HOLD", "SET", "BY", "AUTHORITY", "REASON"},
             rows);
  std::cerr << rows.size() << " legal hold(s) on " << held << " record(s)\n";
  return 0;
}

int RecordLateCommand(const RecordArgs& a) {
  v1::LateRequest req;
  req.set_record_id(a.record);
  req.set_reason(a.reason);
  absl::StatusOr<int64_t> until = ParseTimeFlag("--until", a.until);
  if (!until.ok()) return PrintFailure(until.status());
  req.set_until_unix_nanos(*until);
  return RecordCall(a, &Stub::Late, req, [](const v1::Record& r) {
    return absl::StrCat("reported a late hand-over of ", r.id(), " until ",
                        ZonedTimeText(r.late().until_unix_nanos(), r.time_zone()),
                        "; a leader of agency \"", r.agency(),
                        "\" approves it (custody record approve-late ", r.id(), ")");
  });
}

int RecordApproveLateCommand(const RecordArgs& a) {
  v1::RecordRef ref;
  ref.set_record_id(a.record);
  absl::StatusOr<v1::SignedDecision> d =
      SignDecision("record.late-approved", "record:" + a.record, {});
  if (!d.ok()) return PrintFailure(d.status());
  *ref.mutable_signed_() = *d;
  return RecordCall(a, &Stub::ApproveLate, ref, [](const v1::Record& r) {
    return absl::StrCat("approved the late hand-over of ", r.id(), ": due 24 h after ",
                        ZonedTimeText(r.late().until_unix_nanos(), r.time_zone()));
  });
}

int RecordDone(const RecordArgs& a, const v1::Record& r, const std::string& confirmation) {
  if (a.json) {
    std::cout << RecordJson(r).dump() << "\n";
    return 0;
  }
  std::cout << confirmation << "\n";
  if (!r.flags().empty()) {
    std::cerr << "warning: " << r.id() << " is flagged " << absl::StrJoin(r.flags(), ", ") << "\n";
  }
  return 0;
}

bool IsRecordId(const std::string& ref) {
  static const std::regex* kId = new std::regex("rec-[0-9a-f]{12}");
  return std::regex_match(ref, *kId);
}

absl::StatusOr<v1::Record> ShowRecord(const std::string& server, const std::string& ref) {
  v1::RecordRef req;
  req.set_record_id(ref);
  v1::Record r;
  absl::Status s = UnaryCall(server, &Stub::Show, req, &r);
  if (!s.ok()) return s;
  return r;
}

}  // namespace custody
