// RecordKeeper: purging expired records (article 19, doc/records.md).
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "common/random.h"
#include "common/roles.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "replication/cluster/placement.h"
#include "server/objects/purger.h"
#include "server/records/record_checks.h"
#include "server/records/record_keeper.h"
#include "server/security/decisions.h"
#include "server/security/ledger.h"

namespace custody {

namespace {

// OK if `r` may be purged at `now`, else why not. `again`: a record marked
// purged already counts (a node checking a purge another node executed).
absl::Status Purgeable(const v1::Record& r, absl::Time now, bool again = false) {
  const v1::Retention& t = r.retention();
  if (t.purged() && !again) return absl::FailedPreconditionError("already purged");
  if (r.archive_number().empty()) return absl::FailedPreconditionError("not archived");
  if (t.permanent()) return absl::FailedPreconditionError("kept permanently");
  if (t.holds_size() > 0) {
    return absl::FailedPreconditionError(absl::StrCat("under a legal hold (", t.holds(0), ")"));
  }
  if (absl::FromUnixNanos(t.until_unix_nanos()) > now) {
    return absl::FailedPreconditionError(
        absl::StrCat("kept until ", FormatUnixNanos(t.until_unix_nanos())));
  }
  return absl::OkStatus();
}

// The objects of `records` that no record outside them uses.
absl::StatusOr<std::set<std::string>> ObjectsOnlyIn(const RecordBook& b,
                                                    const std::set<std::string>& records) {
  std::set<std::string> out;
  for (const std::string& id : records) {
    ASSIGN_OR_RETURN(std::optional<FoldedRecord> f, b.Find(id));
    if (!f) continue;
    for (const v1::Segment& s : f->record.segments()) {
      bool shared = false;
      ASSIGN_OR_RETURN(std::vector<std::string> holders, b.RecordsOf(s.object_id()));
      for (const std::string& other : holders) shared = shared || records.count(other) == 0;
      if (!shared) out.insert(s.object_id());
    }
  }
  return out;
}

std::set<std::string> FieldSet(const v1::LedgerEntry& e, const std::string& key) {
  std::set<std::string> out;
  for (absl::string_view v : absl::StrSplit(EntryField(e, key), ',', absl::SkipEmpty())) {
    out.insert(std::string(v));
  }
  return out;
}

absl::StatusOr<std::string> NewPurgeId() {
  ASSIGN_OR_RETURN(std::string hex, RandomHex(6, "a purge id"));
  return "pur-" + hex;
}

}  // namespace

absl::StatusOr<v1::PurgeCandidatesResponse> RecordKeeper::PurgeCandidates() {
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  const absl::Time now = absl::Now();
  v1::PurgeCandidatesResponse out;
  std::set<std::string> ids;
  absl::Status failed;
  RETURN_IF_ERROR(b->ForEachRecord("", [&](const FoldedRecord& f) {
    if (!Purgeable(f.record, now).ok()) return true;
    absl::StatusOr<v1::Record> r = Evaluate(f, *b, rules_, now);
    if (!r.ok()) failed = r.status();
    if (!failed.ok()) return false;
    ids.insert(f.record.id());
    *out.add_records() = std::move(*r);
    return true;
  }));
  RETURN_IF_ERROR(failed);
  ASSIGN_OR_RETURN(std::set<std::string> only, ObjectsOnlyIn(*b, ids));
  for (const std::string& o : only) out.add_objects(o);
  RETURN_IF_ERROR(b->ForEachPurge([&](const v1::PurgePlan& p) { *out.add_requests() = p; }));
  return out;
}

absl::StatusOr<v1::PurgePlan> RecordKeeper::RequestPurge(const Actor& by, const std::string& reason,
                                                         const std::set<std::string>& only) {
  if (reason.empty()) return absl::InvalidArgumentError("a purge request needs --reason");
  ASSIGN_OR_RETURN(v1::PurgeCandidatesResponse c, PurgeCandidates());
  std::vector<std::string> records;
  for (const v1::Record& r : c.records()) {
    if (only.empty() || only.count(r.id()) > 0) records.push_back(r.id());
  }
  for (const std::string& r : only) {
    if (std::find(records.begin(), records.end(), r) == records.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "record ", r, " may not be purged now (see custody purge --expired for those that may)"));
    }
  }
  if (records.empty()) {
    return absl::FailedPreconditionError(
        "no record may be purged: none is archived with its retention ended and no hold");
  }
  ASSIGN_OR_RETURN(const std::string id, NewPurgeId());
  RETURN_IF_ERROR(Append(by, "purge.requested", "purge:" + id,
                         {{"records", absl::StrJoin(records, ",")}, {"reason", reason}}));
  return PlanOf(id);
}

absl::StatusOr<v1::PurgePlan> RecordKeeper::ApprovePurge(const v1::Principal& by,
                                                         const std::string& id,
                                                         const v1::SignedDecision& s) {
  ASSIGN_OR_RETURN(v1::PurgePlan plan, PlanOf(id));
  if (plan.state() != "pending") {
    return absl::FailedPreconditionError(
        absl::StrCat("purge request ", id, " is ", plan.state(), ", not pending"));
  }
  ASSIGN_OR_RETURN(v1::LedgerEntry e, Signed(by, s, "purge.approved", "purge:" + id, {}));
  RETURN_IF_ERROR(CheckPurgeApprover(plan, d_.ledger->verifier().Signer(e)));
  RETURN_IF_ERROR(AppendDecision(std::move(e)));
  return PlanOf(id);
}

absl::StatusOr<v1::PurgePlan> RecordKeeper::PlanOf(const std::string& id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  ASSIGN_OR_RETURN(std::optional<v1::PurgePlan> p, b->Purge(id));
  if (!p) return absl::NotFoundError(absl::StrCat("no purge request ", id));
  return std::move(*p);
}

absl::StatusOr<std::vector<Digest>> RecordKeeper::UnsharedChunks(
    const std::set<std::string>& objects) {
  std::set<std::string> raw;
  for (const std::string& o : objects) {
    ASSIGN_OR_RETURN(Digest id, Digest::Parse(o));
    ASSIGN_OR_RETURN(v1::ObjectManifest m, d_.find_manifest(id));
    raw.insert(m.chunks().begin(), m.chunks().end());
  }
  ASSIGN_OR_RETURN(std::vector<Digest> chunks, DigestsFromRaw(raw));
  ASSIGN_OR_RETURN(std::vector<Digest> used, d_.purger->InUse(chunks, objects));
  std::set<std::string> in_use;
  for (const Digest& d : used) in_use.insert(std::string(d.Raw()));
  if (Placement* p = d_.placement) {
    for (const Placement::Other& n : p->Others()) {
      absl::StatusOr<std::vector<Digest>> theirs = n.peer->ChunksInUse(chunks, objects);
      if (!theirs.ok()) {
        return absl::UnavailableError(absl::StrCat(
            "node ", n.info->id, " did not answer (", theirs.status().message(),
            "); a purge needs every node, to be sure no retained object shares a chunk"));
      }
      for (const Digest& d : *theirs) in_use.insert(std::string(d.Raw()));
    }
  }
  std::vector<Digest> out;
  for (const Digest& d : chunks) {
    if (in_use.count(std::string(d.Raw())) == 0) out.push_back(d);
  }
  return out;
}

absl::StatusOr<v1::PurgeResult> RecordKeeper::ExecutePurge(const Actor& by, const std::string& id) {
  absl::MutexLock l(&purge_mu_);
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  ASSIGN_OR_RETURN(const v1::PurgePlan plan, PlanOf(id));
  if (plan.state() != "approved") {
    return absl::FailedPreconditionError(absl::StrCat(
        "purge request ", id, " is ", plan.state(),
        plan.state() == "pending" ? "; an archive-head other than the requester approves it" : ""));
  }
  v1::PurgeResult out;
  out.set_request_id(id);
  std::set<std::string> records;
  const absl::Time now = absl::Now();
  for (const std::string& r : plan.records()) {
    ASSIGN_OR_RETURN(std::optional<FoldedRecord> f, b->Find(r));
    absl::Status why = !f ? RecordNotFound(r) : Purgeable(f->record, now);
    if (why.ok()) {
      records.insert(r);
    } else {
      out.add_skipped(absl::StrCat(r, ": ", why.message()));
    }
  }
  RETURN_IF_ERROR(BeginPurge(id, &records, &out));
  bool executed = false;
  absl::Status s = WritePurge(by, *b, id, records, &out, &executed);
  if (!s.ok() && !executed && d_.holds != nullptr) {
    // Nothing was purged: holds may be set on these records again.
    if (absl::Status undo = d_.holds->AbortPurge(id, records); !undo.ok()) {
      LOG(WARNING) << "purge " << id << " failed (" << s
                   << ") and etcd still marks its records: " << undo;
    }
  }
  RETURN_IF_ERROR(s);
  return out;
}

absl::Status RecordKeeper::BeginPurge(const std::string& id, std::set<std::string>* records,
                                      v1::PurgeResult* out) {
  if (d_.holds != nullptr && !records->empty()) {
    // The registry decides between this purge and a hold set on another node
    // that this node's ledger does not show yet.
    ASSIGN_OR_RETURN(auto held, d_.holds->BeginPurge(id, *records));
    for (const auto& [r, holds] : held) {
      records->erase(r);
      out->add_skipped(absl::StrCat(r, ": under a legal hold (", holds, ")"));
    }
  }
  if (records->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("nothing in purge request ", id,
                     " may be purged now: ", absl::StrJoin(out->skipped(), "; ")));
  }
  return absl::OkStatus();
}

absl::Status RecordKeeper::WritePurge(const Actor& by, const RecordBook& b, const std::string& id,
                                      const std::set<std::string>& records, v1::PurgeResult* out,
                                      bool* executed) {
  ASSIGN_OR_RETURN(std::set<std::string> objects, ObjectsOnlyIn(b, records));
  ASSIGN_OR_RETURN(std::vector<Digest> chunks, UnsharedChunks(objects));
  std::vector<std::string> hex;
  for (const Digest& d : chunks) hex.push_back(d.Hex());
  RETURN_IF_ERROR(Append(by, "purge.executed", "purge:" + id,
                         {{"records", absl::StrJoin(records, ",")},
                          {"objects", absl::StrJoin(objects, ",")},
                          {"chunks", absl::StrJoin(hex, ",")}}));
  *executed = true;
  for (const std::string& r : records) {
    RETURN_IF_ERROR(Append(by, "record.purged", "record:" + r, {{"request", id}}));
    out->add_records(r);
  }
  for (const std::string& o : objects) {
    RETURN_IF_ERROR(Append(by, "object.purged", o, {{"request", id}}));
    out->add_objects(o);
  }
  out->set_chunks(chunks.size());
  return absl::OkStatus();
}

absl::Status RecordKeeper::CheckExecutedPurge(const v1::LedgerEntry& e) {
  if (e.subject().rfind("purge:", 0) != 0) {
    return absl::InvalidArgumentError("a purge.executed is about \"purge:<request id>\"");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  const std::string id = e.subject().substr(6);
  ASSIGN_OR_RETURN(std::optional<v1::PurgePlan> plan, b->Purge(id));
  if (!plan || plan->state() == "pending" || plan->state().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("this node holds no approved purge request ",
                                                      id,
                                                      ": a purge is executed only after "
                                                      "an archive-head's signed approval"));
  }
  std::set<std::string> in_plan(plan->records().begin(), plan->records().end());
  std::set<std::string> records = FieldSet(e, "records");
  const absl::Time now = absl::Now();
  for (const std::string& r : records) {
    ASSIGN_OR_RETURN(std::optional<FoldedRecord> f, b->Find(r));
    if (in_plan.count(r) == 0 || !f) {
      return absl::FailedPreconditionError(
          absl::StrCat("record ", r, " is not in purge request ", id, " as this node holds it"));
    }
    if (absl::Status why = Purgeable(f->record, now, /*again=*/true); !why.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("record ", r, ": ", why.message()));
    }
  }
  ASSIGN_OR_RETURN(std::set<std::string> mine, ObjectsOnlyIn(*b, records));
  std::set<std::string> objects = FieldSet(e, "objects");
  std::set<std::string> chunks;
  for (const std::string& o : objects) {
    if (mine.count(o) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("object ", o, " is not only in the purged records"));
    }
    ASSIGN_OR_RETURN(Digest d, Digest::Parse(o));
    ASSIGN_OR_RETURN(v1::ObjectManifest m, d_.find_manifest(d));
    ASSIGN_OR_RETURN(std::vector<Digest> of_object, DigestsFromRaw(m.chunks()));
    for (const Digest& c : of_object) chunks.insert(c.Hex());
  }
  std::vector<Digest> named;
  for (const std::string& c : FieldSet(e, "chunks")) {
    if (chunks.count(c) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("chunk ", c, " is not a chunk of the purged objects"));
    }
    ASSIGN_OR_RETURN(Digest d, Digest::Parse("sha256:" + c));
    named.push_back(d);
  }
  ASSIGN_OR_RETURN(std::vector<Digest> used, d_.purger->InUse(named, objects));
  if (!used.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("chunk ", used[0].Hex(), " is still used by an object this node keeps"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::PurgePlan>> RecordKeeper::PurgedBy(const std::string& object_id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  ASSIGN_OR_RETURN(std::optional<std::string> id, b->PurgeOf(object_id));
  if (!id) return std::optional<v1::PurgePlan>();
  return b->Purge(*id);
}

}  // namespace custody
