#include "server/records/record_keeper.h"

#include <openssl/rand.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dock_manifest.h"
#include "common/random.h"
#include "common/roles.h"
#include "common/status_macros.h"
#include "server/records/record_checks.h"
#include "server/records/record_query.h"
#include "server/security/decisions.h"
#include "server/security/ledger.h"

namespace custody {

RecordKeeper::RecordKeeper(RecordKeeperDeps deps, RecordRules rules, Catalog catalog)
    : d_(std::move(deps)), rules_(std::move(rules)), catalog_(std::move(catalog)) {}

absl::Status RecordKeeper::Append(const Actor& by, const std::string& kind,
                                  const std::string& subject,
                                  const std::map<std::string, std::string>& fields) {
  v1::LedgerEntry entry;
  entry.set_kind(kind);
  entry.set_subject(subject);
  entry.set_actor(by);
  for (const auto& [k, v] : fields) (*entry.mutable_fields())[k] = v;
  return AppendDecision(std::move(entry));
}

absl::StatusOr<v1::LedgerEntry> RecordKeeper::Signed(
    const v1::Principal& by, const v1::SignedDecision& s, const std::string& kind,
    const std::string& subject, const std::map<std::string, std::string>& fields) {
  return d_.ledger->verifier().FromClient(by, s, kind, subject, fields, absl::Now());
}

absl::Status RecordKeeper::AppendDecision(v1::LedgerEntry entry) {
  v1::AuditEvent event = EventOf(entry, entry.subject());
  return d_.ledger->Append(std::move(entry), std::move(event)).status();
}

absl::StatusOr<FoldedRecord> RecordKeeper::Folded(const std::string& id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  ASSIGN_OR_RETURN(std::optional<FoldedRecord> f, b->Find(id));
  if (!f) return RecordNotFound(id);
  return std::move(*f);
}

absl::StatusOr<v1::Record> RecordKeeper::Get(const std::string& id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  ASSIGN_OR_RETURN(std::optional<FoldedRecord> f, b->Find(id));
  if (!f) return RecordNotFound(id);
  return Evaluate(*f, *b, rules_, absl::Now());
}

absl::StatusOr<std::string> RecordKeeper::Resolve(const std::string& ref) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  return ResolveRecord(*b, ref);
}

absl::StatusOr<std::string> RecordKeeper::NewRecordId() {
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  for (;;) {
    ASSIGN_OR_RETURN(std::string hex, RandomHex(6, "a record id"));
    std::string id = "rec-" + hex;
    ASSIGN_OR_RETURN(std::optional<FoldedRecord> taken, b->Find(id));
    if (!taken) return id;
  }
}

absl::StatusOr<v1::Record> RecordKeeper::Create(const Actor& by,
                                                const v1::CreateRecordRequest& req) {
  return CreateWith(by, req, {});
}

absl::StatusOr<v1::Record> RecordKeeper::CreateWith(const Actor& by,
                                                    const v1::CreateRecordRequest& req,
                                                    std::map<std::string, std::string> fields) {
  RETURN_IF_ERROR(CheckNewRecord(req, catalog_));
  ASSIGN_OR_RETURN(std::string id, NewRecordId());
  fields.insert({{"agency", req.agency()},
                 {"matter", std::to_string(req.matter())},
                 {"target", req.target()},
                 {"stage", req.stage()},
                 {"officers", absl::StrJoin(req.officers(), ",")},
                 {"devices", absl::StrJoin(req.devices(), ",")},
                 {"start", std::to_string(req.start_unix_nanos())},
                 {"end", std::to_string(req.end_unix_nanos())},
                 {"classification",
                  req.classification().empty() ? std::string("internal") : req.classification()}});
  RETURN_IF_ERROR(Append(by, "record.created", "record:" + id, fields));
  return Get(id);
}

absl::StatusOr<v1::Record> RecordKeeper::Attach(const Actor& by, const v1::AttachRequest& req,
                                                const v1::ObjectManifest& object) {
  ASSIGN_OR_RETURN(FoldedRecord f, Folded(req.record_id()));
  ASSIGN_OR_RETURN(auto fields, AttachFields(f.record, req, object, rules_));
  if (req.note_for_gap() != 0) {
    ASSIGN_OR_RETURN(v1::Gap g, OpenGap(f, req.note_for_gap(), rules_));
    fields["gap_device"] = g.device();
    fields["gap_from"] = std::to_string(g.from_unix_nanos());
  }
  RETURN_IF_ERROR(Append(by, "record.attached", "record:" + req.record_id(), fields));
  return Get(req.record_id());
}

absl::StatusOr<v1::Record> RecordKeeper::Correct(const v1::Principal& by,
                                                 const v1::CorrectRequest& req) {
  ASSIGN_OR_RETURN(FoldedRecord f, Folded(req.record_id()));
  ASSIGN_OR_RETURN(std::string value, CheckCorrection(f.record, req));
  ASSIGN_OR_RETURN(v1::LedgerEntry e,
                   Signed(by, req.signed_(), "record.corrected", "record:" + req.record_id(),
                          {{"field", req.field()}, {"value", value}, {"reason", req.reason()}}));
  RETURN_IF_ERROR(AppendDecision(std::move(e)));
  return Get(req.record_id());
}

absl::StatusOr<v1::Record> RecordKeeper::Note(const Actor& by, const v1::NoteRequest& req) {
  if (req.reason().empty()) {
    return absl::InvalidArgumentError("an interruption note needs --reason");
  }
  if ((req.gap() != 0) == (req.missing() != 0)) {
    return absl::InvalidArgumentError(
        "a note explains either a gap (--gap N) or a missing file "
        "(--missing N), one of them");
  }
  if (req.missing() != 0) {
    ASSIGN_OR_RETURN(v1::Record r, Get(req.record_id()));
    ASSIGN_OR_RETURN(v1::MissingFile m, OpenMissing(r, req.missing()));
    RETURN_IF_ERROR(Append(by, "record.noted", "record:" + req.record_id(),
                           {{"missing", std::to_string(req.missing())},
                            {"missing_device", m.device()},
                            {"missing_key", MissingKey(m)},
                            {"reason", req.reason()}}));
    return Get(req.record_id());
  }
  ASSIGN_OR_RETURN(FoldedRecord f, Folded(req.record_id()));
  ASSIGN_OR_RETURN(v1::Gap g, OpenGap(f, req.gap(), rules_));
  RETURN_IF_ERROR(Append(by, "record.noted", "record:" + req.record_id(),
                         {{"gap", std::to_string(req.gap())},
                          {"gap_device", g.device()},
                          {"gap_from", std::to_string(g.from_unix_nanos())},
                          {"reason", req.reason()}}));
  return Get(req.record_id());
}

absl::StatusOr<v1::Record> RecordKeeper::Exempt(const Actor& by, const v1::ExemptRequest& req) {
  RETURN_IF_ERROR(CheckExemption(req));
  std::string id = req.record_id();
  if (id.empty()) {
    RETURN_IF_ERROR(CheckNewRecord(req.create(), catalog_));
    ASSIGN_OR_RETURN(v1::Record r, Create(by, req.create()));
    id = r.id();
  } else {
    ASSIGN_OR_RETURN(FoldedRecord f, Folded(id));
    if (f.record.has_exemption()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "record ", id, " already has an exemption (", f.record.exemption().reason(), ")"));
    }
  }
  RETURN_IF_ERROR(Append(by, "record.exempted", "record:" + id,
                         {{"reason", req.reason()}, {"details", req.details()}}));
  return Get(id);
}

absl::StatusOr<v1::Record> RecordKeeper::ApproveExemption(const v1::Principal& by,
                                                          const std::string& id,
                                                          const v1::SignedDecision& s) {
  ASSIGN_OR_RETURN(FoldedRecord f, Folded(id));
  ASSIGN_OR_RETURN(v1::LedgerEntry e,
                   Signed(by, s, "record.exemption-approved", "record:" + id, {}));
  RETURN_IF_ERROR(CheckExemptionApproval(f.record, d_.ledger->verifier().Signer(e)));
  RETURN_IF_ERROR(AppendDecision(std::move(e)));
  return Get(id);
}

absl::StatusOr<v1::Record> RecordKeeper::Retain(const v1::Principal& by,
                                                const v1::RetainRequest& req) {
  ASSIGN_OR_RETURN(FoldedRecord f, Folded(req.record_id()));
  RETURN_IF_ERROR(CheckRetention(f.record, req, absl::Now()));
  std::map<std::string, std::string> fields{{"reason", req.reason()}};
  if (req.permanent()) {
    fields["permanent"] = "true";
  } else {
    fields["until"] = std::to_string(req.until_unix_nanos());
  }
  ASSIGN_OR_RETURN(v1::LedgerEntry e, Signed(by, req.signed_(), "record.retained",
                                             "record:" + req.record_id(), fields));
  RETURN_IF_ERROR(AppendDecision(std::move(e)));
  return Get(req.record_id());
}

}  // namespace custody
