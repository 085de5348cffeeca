#include "server/records/record_book.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/snapshot_format.h"
#include "common/status_macros.h"
#include "server/records/record_checks.h"
#include "server/security/decisions.h"

namespace custody {

namespace {

std::vector<std::string> List(const std::string& joined) {
  return absl::StrSplit(joined, ',', absl::SkipEmpty());
}

void Created(const v1::LedgerEntry& e, const std::string& id, RecordBook* b) {
  v1::Record& r = b->records[id].record;
  r.set_id(id);
  r.set_agency(EntryField(e, "agency"));
  r.set_matter(static_cast<uint32_t>(EntryInt(e, "matter")));
  r.set_target(EntryField(e, "target"));
  r.set_stage(EntryField(e, "stage"));
  for (const std::string& o : List(EntryField(e, "officers"))) r.add_officers(o);
  for (const std::string& d : List(EntryField(e, "devices"))) r.add_devices(d);
  r.set_start_unix_nanos(EntryInt(e, "start"));
  r.set_end_unix_nanos(EntryInt(e, "end"));
  r.set_classification(EntryField(e, "classification"));
  r.set_opened_by_ingest(EntryField(e, "opened_by") == "ingest");
  r.set_created_by(e.actor());
  r.set_created_unix_nanos(e.time_unix_nanos());
}

void Attached(const v1::LedgerEntry& e, FoldedRecord* f, RecordBook* b) {
  v1::Segment* s = f->record.add_segments();
  s->set_object_id(EntryField(e, "object"));
  s->set_kind(EntryField(e, "kind"));
  s->set_device(EntryField(e, "device"));
  s->set_start_unix_nanos(EntryInt(e, "start"));
  s->set_end_unix_nanos(EntryInt(e, "end"));
  s->set_clock_skew_seconds(EntryInt(e, "clock_skew_seconds"));
  s->set_clock_flagged(EntryField(e, "clock_flagged") == "true");
  s->set_note_for_gap(static_cast<uint32_t>(EntryInt(e, "note_for_gap")));
  s->set_classification(EntryField(e, "classification"));
  s->set_attached_by(e.actor());
  s->set_attached_unix_nanos(e.time_unix_nanos());
  if (!EntryField(e, "gap_device").empty()) {
    f->notes.push_back(
        {EntryField(e, "gap_device"), EntryInt(e, "gap_from"), "audio: " + s->object_id()});
  }
  std::vector<std::string>& of = b->object_records[s->object_id()];
  if (std::find(of.begin(), of.end(), f->record.id()) == of.end()) {
    of.push_back(f->record.id());
  }
}

// The field's value as text, and sets it from text.
std::string Get(const v1::Record& r, const std::string& field) {
  if (field == "target") return r.target();
  if (field == "stage") return r.stage();
  if (field == "start") return std::to_string(r.start_unix_nanos());
  if (field == "end") return std::to_string(r.end_unix_nanos());
  if (field == "officers") return absl::StrJoin(r.officers(), ",");
  if (field == "devices") return absl::StrJoin(r.devices(), ",");
  return "";
}

void Set(v1::Record* r, const std::string& field, const std::string& v) {
  int64_t n = 0;
  if (field == "target") r->set_target(v);
  if (field == "stage") r->set_stage(v);
  if (field == "start" && absl::SimpleAtoi(v, &n)) r->set_start_unix_nanos(n);
  if (field == "end" && absl::SimpleAtoi(v, &n)) r->set_end_unix_nanos(n);
  if (field == "officers") {
    r->clear_officers();
    for (const std::string& o : List(v)) r->add_officers(o);
  }
  if (field == "devices") {
    r->clear_devices();
    for (const std::string& d : List(v)) r->add_devices(d);
  }
}

void Corrected(const v1::LedgerEntry& e, v1::Record* r) {
  v1::Correction* c = r->add_corrections();
  c->set_field(EntryField(e, "field"));
  c->set_old_value(Get(*r, c->field()));
  c->set_new_value(EntryField(e, "value"));
  c->set_reason(EntryField(e, "reason"));
  c->set_by(e.actor());
  c->set_time_unix_nanos(e.time_unix_nanos());
  Set(r, c->field(), c->new_value());
}

void Archived(const v1::LedgerEntry& e, v1::Record* r, RecordBook* b) {
  if (!r->archive_number().empty()) return;  // the first number stands
  r->set_archive_number(EntryField(e, "number"));
  r->set_archived_unix_nanos(e.time_unix_nanos());
  r->set_archived_by(e.actor());
  v1::Retention* t = r->mutable_retention();
  if (!t->permanent()) {
    t->set_until_unix_nanos(std::max(t->until_unix_nanos(), EntryInt(e, "retention_until")));
  }
  uint64_t& seq = b->archive_sequences[EntryField(e, "prefix")];
  seq = std::max<uint64_t>(seq, static_cast<uint64_t>(EntryInt(e, "sequence")));
}

// Legal holds: each set adds one (its id chosen by its setter); a release
// names the one it ends (a release from before holds had ids ends all).
void HoldChanged(const v1::LedgerEntry& e, v1::Record* r) {
  v1::Retention* t = r->mutable_retention();
  auto* holds = t->mutable_legal_holds();
  const std::string id = EntryField(e, "hold");
  if (e.kind() == "record.hold-set") {
    v1::LegalHold* h = holds->Add();
    h->set_id(id.empty() ? "hold-" + absl::BytesToHexString(e.nonce()).substr(0, 8) : id);
    h->set_reason(EntryField(e, "reason"));
    h->set_authority(EntryField(e, "authority"));
    h->set_set_by(e.actor());
    h->set_set_unix_nanos(e.time_unix_nanos());
  } else {
    holds->erase(std::remove_if(holds->begin(), holds->end(),
                                [&](const v1::LegalHold& h) { return id.empty() || h.id() == id; }),
                 holds->end());
  }
  t->clear_holds();
  for (const v1::LegalHold& h : *holds) t->add_holds(h.reason());
}

// A late hand-over: a new report replaces the last (and needs a new
// approval); an approval counts once.
void LateChanged(const v1::LedgerEntry& e, v1::Record* r) {
  v1::LateHandover* l = r->mutable_late();
  if (e.kind() == "record.late-reported") {
    l->Clear();
    l->set_reason(EntryField(e, "reason"));
    l->set_until_unix_nanos(EntryInt(e, "until"));
    l->set_requested_by(e.actor());
    l->set_requested_unix_nanos(e.time_unix_nanos());
  } else if (l->approved_by().empty()) {
    l->set_approved_by(e.actor());
    l->set_approved_unix_nanos(e.time_unix_nanos());
  }
}

void Retained(const v1::LedgerEntry& e, v1::Record* r) {
  v1::Retention* t = r->mutable_retention();
  if (EntryField(e, "permanent") == "true") {
    t->set_permanent(true);
    t->set_until_unix_nanos(0);
  } else if (!t->permanent()) {
    t->set_until_unix_nanos(std::max(t->until_unix_nanos(), EntryInt(e, "until")));
  }
  t->set_reason(EntryField(e, "reason"));
}

// OK if decision `e` about `r` holds under the rules every node applies
// (server/security/decisions.h); entries that are not decisions pass.
absl::Status DecisionRules(const v1::LedgerEntry& e, const v1::Record& r,
                           const DecisionVerifier& v) {
  std::optional<Action> action = DecisionAction(e.kind());
  if (!action) return absl::OkStatus();
  v1::Principal signer = v.Signer(e);
  RETURN_IF_ERROR(Authorize(signer, *action));
  if (e.kind() == "record.exemption-approved") return CheckExemptionApproval(r, signer);
  if (e.kind() == "record.hold-set" || e.kind() == "record.hold-released") {
    return CheckHoldDecider(r, signer);
  }
  if (e.kind() == "record.late-approved") return CheckLateApproval(r, signer);
  return absl::OkStatus();
}

void ApplyRecord(const v1::LedgerEntry& e, FoldedRecord* f, RecordBook* b) {
  v1::Record* r = &f->record;
  const std::string& k = e.kind();
  if (k == "record.attached") Attached(e, f, b);
  if (k == "record.corrected") Corrected(e, r);
  if (k == "record.archived") Archived(e, r, b);
  if (k == "record.retained") Retained(e, r);
  if (k == "record.noted") {
    f->notes.push_back(
        {EntryField(e, "gap_device"), EntryInt(e, "gap_from"), "note: " + EntryField(e, "reason")});
  }
  if (k == "record.exempted") {
    r->mutable_exemption()->set_reason(EntryField(e, "reason"));
    r->mutable_exemption()->set_details(EntryField(e, "details"));
    r->mutable_exemption()->set_requested_by(e.actor());
  }
  if (k == "record.exemption-approved") {
    r->mutable_exemption()->set_approved_by(e.actor());
    r->mutable_exemption()->set_approved_unix_nanos(e.time_unix_nanos());
  }
  if (k == "record.hold-set" || k == "record.hold-released") HoldChanged(e, r);
  if (k == "record.late-reported" || k == "record.late-approved") LateChanged(e, r);
  if (k == "record.purged") r->mutable_retention()->set_purged(true);
  if (k == "record.ended" && r->end_unix_nanos() == 0) r->set_end_unix_nanos(EntryInt(e, "end"));
}

absl::Status ApplyPurge(const v1::LedgerEntry& e, const std::string& id, RecordBook* b,
                        const DecisionVerifier& v) {
  v1::PurgePlan& p = b->purges[id];
  if (e.kind() == "purge.approved") {
    v1::Principal signer = v.Signer(e);
    RETURN_IF_ERROR(Authorize(signer, Action::kApprovePurge));
    RETURN_IF_ERROR(CheckPurgeApprover(p, signer));
  }
  if (e.kind() == "purge.executed" && p.state() != "approved") {
    return absl::FailedPreconditionError("executed without an approval");
  }
  if (e.kind() == "purge.requested") {
    p.set_request_id(id);
    for (const std::string& r : List(EntryField(e, "records"))) p.add_records(r);
    p.set_reason(EntryField(e, "reason"));
    p.set_requested_by(e.actor());
    p.set_requested_unix_nanos(e.time_unix_nanos());
    p.set_state("pending");
  } else if (e.kind() == "purge.approved" && p.state() == "pending") {
    p.set_approved_by(e.actor());
    p.set_approved_unix_nanos(e.time_unix_nanos());
    p.set_state("approved");
  } else if (e.kind() == "purge.executed") {
    p.set_state("executed");
    p.set_executed_unix_nanos(e.time_unix_nanos());
    for (const std::string& o : List(EntryField(e, "objects"))) b->purged_objects[o] = id;
  }
  return absl::OkStatus();
}

void ApplyDevice(const v1::LedgerEntry& e, const std::string& id, RecordBook* b) {
  v1::Device& d = b->devices[id];
  if (e.kind() == "device.added") {
    d.set_id(id);
    d.set_agency(EntryField(e, "agency"));
    d.set_model(EntryField(e, "model"));
    d.set_added_by(e.actor());
  } else if (e.kind() == "device.checked-out") {
    d.set_held_by(EntryField(e, "officer"));
    d.set_checked_out_unix_nanos(e.time_unix_nanos());
    v1::Device::Holding* h = d.add_holdings();
    h->set_officer(d.held_by());
    h->set_from_unix_nanos(e.time_unix_nanos());
    h->set_check(EntryField(e, "check"));
  } else if (e.kind() == "device.checked-in" && !d.held_by().empty()) {
    d.clear_held_by();
    d.set_checked_out_unix_nanos(0);
    if (d.holdings_size() > 0) {
      d.mutable_holdings(d.holdings_size() - 1)->set_to_unix_nanos(e.time_unix_nanos());
    }
  }
}

// A snapshot's objects, then, once a peer confirmed it, as offsite.
void ApplySnapshot(const v1::LedgerEntry& e, const std::string& id, RecordBook* b) {
  if (e.kind() == kSnapshotEntryKind) {
    absl::StatusOr<v1::Snapshot> s = SnapshotOfEntry(e);
    absl::StatusOr<v1::SnapshotBody> body =
        s.ok() ? CheckSnapshot(*s) : absl::StatusOr<v1::SnapshotBody>(s.status());
    if (!body.ok() || body->id() != id) return;
    std::vector<std::string>& ids = b->snapshot_objects[id];
    for (const v1::SnapshotObject& o : body->objects()) {
      if (absl::StatusOr<Digest> d = Digest::FromRaw(o.id()); d.ok()) ids.push_back(d->ToString());
    }
  } else if (e.kind() == kReceiptEntryKind) {
    absl::StatusOr<v1::Receipt> r = ReceiptOfEntry(e);
    absl::StatusOr<v1::ReceiptBody> body =
        r.ok() ? CheckReceipt(*r) : absl::StatusOr<v1::ReceiptBody>(r.status());
    auto objects = b->snapshot_objects.find(id);
    if (!body.ok() || body->snapshot_id() != id || objects == b->snapshot_objects.end()) return;
    b->offsite_objects.insert(objects->second.begin(), objects->second.end());
  }
}

}  // namespace

absl::Status RecordBook::Apply(const v1::LedgerEntry& e, const DecisionVerifier& v) {
  const std::string& s = e.subject();
  if (s.rfind("snapshot:", 0) == 0) {
    ApplySnapshot(e, s.substr(9), this);
  } else if (s.rfind("device:", 0) == 0) {
    ApplyDevice(e, s.substr(7), this);
  } else if (s.rfind("purge:", 0) == 0) {
    return ApplyPurge(e, s.substr(6), this, v);
  } else if (s.rfind("record:", 0) == 0) {
    const std::string id = s.substr(7);
    if (e.kind() == "record.created") {
      Created(e, id, this);
      return absl::OkStatus();
    }
    auto it = records.find(id);
    if (it == records.end()) return absl::NotFoundError("no such record");
    RETURN_IF_ERROR(DecisionRules(e, it->second.record, v));
    ApplyRecord(e, &it->second, this);
  }
  return absl::OkStatus();
}

const FoldedRecord* RecordBook::Find(const std::string& id) const {
  auto it = records.find(id);
  return it == records.end() ? nullptr : &it->second;
}

absl::StatusOr<RecordBook> RecordBook::Load(Ledger* ledger, absl::Time) {
  ASSIGN_OR_RETURN(auto entries, ledger->InTimeOrder());
  RecordBook book;
  for (const auto& [id, e] : entries) {
    absl::Status applied = book.Apply(e, ledger->verifier());
    if (!applied.ok()) book.refused[id.Hex()] = std::string(applied.message());
  }
  return book;
}

}  // namespace custody
