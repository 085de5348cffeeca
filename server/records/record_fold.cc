#include "server/records/record_fold.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/dock_manifest.h"
#include "common/snapshot_format.h"
#include "common/status_macros.h"
#include "server/records/record_checks.h"
#include "server/security/decisions.h"

namespace custody {

namespace {

std::vector<std::string> List(const std::string& joined) {
  return absl::StrSplit(joined, ',', absl::SkipEmpty());
}

void AddNote(internal::v1::FoldGroup* g, const std::string& device, int64_t from,
             std::string explanation) {
  internal::v1::FoldGroup::Note* n = g->add_notes();
  n->set_device(device);
  n->set_from_unix_nanos(from);
  n->set_explanation(std::move(explanation));
}

const std::string kZero(1, '\0');

void Created(const v1::LedgerEntry& e, const std::string& id, internal::v1::FoldGroup* g) {
  v1::Record& r = *g->mutable_record();
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

void Attached(const v1::LedgerEntry& e, internal::v1::FoldGroup* g) {
  v1::Segment* s = g->mutable_record()->add_segments();
  s->set_object_id(EntryField(e, "object"));
  s->set_kind(EntryField(e, "kind"));
  s->set_device(EntryField(e, "device"));
  s->set_start_unix_nanos(EntryInt(e, "start"));
  s->set_end_unix_nanos(EntryInt(e, "end"));
  s->set_clock_skew_seconds(EntryInt(e, "clock_skew_seconds"));
  s->set_clock_flagged(EntryField(e, "clock_flagged") == "true");
  s->set_note_for_gap(static_cast<uint32_t>(EntryInt(e, "note_for_gap")));
  s->set_classification(EntryField(e, "classification"));
  s->set_file_name(EntryField(e, "file"));
  s->set_size(static_cast<uint64_t>(std::max<int64_t>(0, EntryInt(e, "size"))));
  s->set_sequence(static_cast<uint64_t>(std::max<int64_t>(0, EntryInt(e, "sequence"))));
  s->set_live(EntryField(e, "live"));
  s->set_live_id(EntryField(e, "live_id"));
  s->set_live_truncated_reason(EntryField(e, "live_truncated_reason"));
  s->set_live_extends(EntryField(e, "live_extends"));
  s->set_altered_after_upload(EntryField(e, "altered_after_upload"));
  s->set_attached_by(e.actor());
  s->set_attached_unix_nanos(e.time_unix_nanos());
  if (!EntryField(e, "gap_device").empty()) {
    AddNote(g, EntryField(e, "gap_device"), EntryInt(e, "gap_from"), "audio: " + s->object_id());
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

void Archived(const v1::LedgerEntry& e, internal::v1::FoldGroup* g) {
  v1::Record* r = g->mutable_record();
  if (!r->archive_number().empty()) return;  // the first number stands
  r->set_archive_number(EntryField(e, "number"));
  r->set_archived_unix_nanos(e.time_unix_nanos());
  r->set_archived_by(e.actor());
  v1::Retention* t = r->mutable_retention();
  if (!t->permanent()) {
    t->set_until_unix_nanos(std::max(t->until_unix_nanos(), EntryInt(e, "retention_until")));
  }
  g->set_archive_prefix(EntryField(e, "prefix"));
  g->set_archive_sequence(static_cast<uint64_t>(EntryInt(e, "sequence")));
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

void ApplyRecord(const v1::LedgerEntry& e, internal::v1::FoldGroup* g) {
  v1::Record* r = g->mutable_record();
  const std::string& k = e.kind();
  if (k == "record.attached") Attached(e, g);
  if (k == "record.corrected") Corrected(e, r);
  if (k == "record.archived") Archived(e, g);
  if (k == "record.retained") Retained(e, r);
  if (k == "record.noted" && !EntryField(e, "missing_key").empty()) {
    internal::v1::FoldGroup::Note* n = g->add_notes();
    n->set_device(EntryField(e, "missing_device"));
    n->set_missing_key(EntryField(e, "missing_key"));
    n->set_explanation("note: " + EntryField(e, "reason"));
  } else if (k == "record.noted") {
    AddNote(g, EntryField(e, "gap_device"), EntryInt(e, "gap_from"),
            "note: " + EntryField(e, "reason"));
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

absl::Status ApplyPurge(const v1::LedgerEntry& e, const std::string& id, const std::string& key,
                        internal::v1::FoldGroup* g, const DecisionVerifier& v) {
  v1::PurgePlan& p = *g->mutable_purge();
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
    g->set_purge_executed_key(key);
    g->clear_purged_objects();
    for (const std::string& o : List(EntryField(e, "objects"))) g->add_purged_objects(o);
  }
  return absl::OkStatus();
}

void ApplyDevice(const v1::LedgerEntry& e, const std::string& id, internal::v1::FoldGroup* g) {
  v1::Device& d = *g->mutable_device();
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
void ApplySnapshot(const v1::LedgerEntry& e, const std::string& id, internal::v1::FoldGroup* g) {
  if (e.kind() == kSnapshotEntryKind) {
    absl::StatusOr<v1::Snapshot> s = SnapshotOfEntry(e);
    absl::StatusOr<v1::SnapshotBody> body =
        s.ok() ? CheckSnapshot(*s) : absl::StatusOr<v1::SnapshotBody>(s.status());
    if (!body.ok() || body->id() != id) return;
    g->set_snapshot_seen(true);
    for (const v1::SnapshotObject& o : body->objects()) {
      if (absl::StatusOr<Digest> d = Digest::FromRaw(o.id()); d.ok()) {
        g->add_snapshot_objects(d->ToString());
      }
    }
  } else if (e.kind() == kReceiptEntryKind) {
    absl::StatusOr<v1::Receipt> r = ReceiptOfEntry(e);
    absl::StatusOr<v1::ReceiptBody> body =
        r.ok() ? CheckReceipt(*r) : absl::StatusOr<v1::ReceiptBody>(r.status());
    if (!body.ok() || body->snapshot_id() != id || !g->snapshot_seen()) return;
    g->set_snapshot_offsite(true);
  }
}

// A dock manifest: the first entry about the dock stands; its signer must be
// allowed to ingest (the ledger checked the signature).
absl::Status ApplyDock(const v1::LedgerEntry& e, const std::string& key, internal::v1::FoldGroup* g,
                       const DecisionVerifier& v) {
  if (e.kind() != kDockedKind) return absl::InvalidArgumentError("not a dock manifest");
  if (g->has_dock()) return absl::AlreadyExistsError("the dock has its manifest");
  RETURN_IF_ERROR(Authorize(v.Signer(e), Action::kPut));
  std::map<std::string, std::string> fields(e.fields().begin(), e.fields().end());
  ASSIGN_OR_RETURN(*g->mutable_dock(), DockFromFields(key, fields));
  g->set_dock_listed_by(e.actor());
  return absl::OkStatus();
}

void DockDerived(const std::string& group, const v1::DockRequest& d,
                 std::map<std::string, std::string>* out) {
  for (const v1::DockedFile& f : d.files()) {
    (*out)[absl::StrCat(kDockListingKeys, d.device(), kZero, f.name(), kZero, f.size(), kZero,
                        d.dock_id())] = "";
    if (f.sequence() != 0) {
      (*out)[absl::StrCat(kSequenceSeenKeys, d.device(), kZero, BigEndian(f.sequence()), group)] =
          "";
    }
  }
}

void SegmentDerived(const std::string& group, const v1::Record& r,
                    std::map<std::string, std::string>* out) {
  for (const v1::Segment& s : r.segments()) {
    if (!s.file_name().empty()) {
      (*out)[absl::StrCat(kFiledFileKeys, s.device(), kZero, s.file_name(), kZero, s.size(), kZero,
                          r.id())] = "";
    }
    if (s.sequence() != 0) {
      (*out)[absl::StrCat(kSequenceSeenKeys, s.device(), kZero, BigEndian(s.sequence()), group)] =
          "";
    }
  }
}

}  // namespace

std::string BookRules::GroupOf(const Digest&, const v1::LedgerEntry& e) const {
  if (absl::StartsWith(e.kind(), "access.")) return "";  // the access rules' (access_fold.h)
  for (const char* p : {"record:", "device:", "purge:", "snapshot:", "dock:"}) {
    if (absl::StartsWith(e.subject(), p)) return e.subject();
  }
  return "";
}

absl::Status BookRules::Apply(const Digest&, const std::string& key, const v1::LedgerEntry& e,
                              FoldReader*, internal::v1::FoldGroup* g) const {
  const std::string& s = e.subject();
  const DecisionVerifier& v = ledger_->verifier();
  if (absl::StartsWith(s, "dock:")) {
    return ApplyDock(e, s, g, v);
  } else if (absl::StartsWith(s, "snapshot:")) {
    ApplySnapshot(e, s.substr(9), g);
  } else if (absl::StartsWith(s, "device:")) {
    ApplyDevice(e, s.substr(7), g);
  } else if (absl::StartsWith(s, "purge:")) {
    return ApplyPurge(e, s.substr(6), key, g, v);
  } else if (absl::StartsWith(s, "record:")) {
    if (e.kind() == "record.created") {
      Created(e, s.substr(7), g);
      return absl::OkStatus();
    }
    if (g->record().id().empty()) return absl::NotFoundError("no such record");
    RETURN_IF_ERROR(DecisionRules(e, g->record(), v));
    ApplyRecord(e, g);
  }
  return absl::OkStatus();
}

void BookRules::Derived(const std::string& group, const internal::v1::FoldGroup& g,
                        std::map<std::string, std::string>* out) const {
  const v1::Record& r = g.record();
  if (!r.id().empty()) {
    for (const v1::Segment& s : r.segments()) {
      (*out)[absl::StrCat(kObjectRecordKeys, s.object_id(), kZero, r.id())] = "";
    }
    SegmentDerived(group, r, out);
    (*out)[absl::StrCat(kCreatedKeys, TimeKey(r.created_unix_nanos()), r.id())] = "";
    (*out)[absl::StrCat(kStartKeys, TimeKey(r.start_unix_nanos()), r.id())] = "";
    if (!r.archive_number().empty()) {
      (*out)[absl::StrCat(kArchiveNumberKeys, r.archive_number(), kZero, r.id())] = "";
      (*out)[absl::StrCat(kSequenceKeys, g.archive_prefix(), kZero, BigEndian(g.archive_sequence()),
                          r.id())] = std::to_string(g.archive_sequence());
    } else {
      for (const std::string& d : r.devices()) {
        (*out)[absl::StrCat(kOpenByDeviceKeys, d, kZero, r.id())] = "";
      }
    }
  }
  if (!g.purge_executed_key().empty()) {
    const std::string id = group.substr(6);  // "purge:"
    for (const std::string& o : g.purged_objects()) {
      (*out)[absl::StrCat(kPurgedObjectKeys, o, kZero, g.purge_executed_key(), id)] = id;
    }
  }
  if (g.has_dock()) DockDerived(group, g.dock(), out);
  if (g.snapshot_offsite()) {
    for (const std::string& o : g.snapshot_objects()) {
      (*out)[absl::StrCat(kOffsiteKeys, o, kZero, group)] = "";
    }
  }
}

}  // namespace custody
