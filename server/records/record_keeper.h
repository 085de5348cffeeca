// Changes to records and devices (doc/records.md): each is checked against
// the regulation's rules, then appended to the cluster ledger with its audit
// event, so every node folds the same state (server/records/record_book.h). The
// gRPC surface, roles and clearance are in server/records_service.h.
//
// Archive numbers: the sequence of one prefix (agency, date, target, stage)
// has one owner, the first node placement ranks for it; other nodes forward
// the request there (Replica.ArchiveRecord), so two nodes archiving at the
// same instant never hand out one number twice.
//
// Thread-safe.
#ifndef CUSTODY_SERVER_RECORDS_RECORD_KEEPER_H_
#define CUSTODY_SERVER_RECORDS_RECORD_KEEPER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/checkpoint.h"
#include "custody/v1/access.pb.h"
#include "custody/v1/manifest.pb.h"
#include "custody/v1/records.pb.h"
#include "server/records/archive_sequencer.h"
#include "server/records/catalog.h"
#include "server/records/hold_registry.h"
#include "server/records/record_book.h"
#include "server/records/record_rules.h"
#include "server/security/access_state.h"

namespace custody {

class Ledger;
class Placement;
class Purger;

// What the record keeper works with.
struct RecordKeeperDeps {
  std::string node_id;
  Ledger* ledger = nullptr;        // where records and decisions are kept
  LedgerFold* fold = nullptr;      // the records and the access state, folded
  Purger* purger = nullptr;        // which chunks the manifests here use
  Placement* placement = nullptr;  // null for a cluster of one
  // The manifest of an object, from this node or another.
  std::function<absl::StatusOr<v1::ObjectManifest>(const Digest&)> find_manifest;
  // Archive numbers from etcd (any node archives); null: from the prefix's
  // owner node.
  ArchiveSequencer* sequencer = nullptr;
  // Holds against purges through etcd; null: serialized on this node only.
  HoldRegistry* holds = nullptr;
};

class RecordKeeper {
 public:
  RecordKeeper(RecordKeeperDeps deps, RecordRules rules, Catalog catalog);

  const Catalog& catalog() const { return catalog_; }
  const RecordRules& rules() const { return rules_; }
  // The book as it stands now.
  absl::StatusOr<std::shared_ptr<const RecordBook>> book() {
    return std::make_shared<const RecordBook>(d_.fold->Snapshot());
  }
  // The record as it stands now, or NOT_FOUND.
  absl::StatusOr<v1::Record> Get(const std::string& id);

  using Actor = std::string;  // "user:alice", "local-operator"
  absl::StatusOr<v1::Record> Create(const Actor& by, const v1::CreateRecordRequest& req);
  absl::StatusOr<v1::Record> Attach(const Actor& by, const v1::AttachRequest& req,
                                    const v1::ObjectManifest& object);
  // Signed by its author on a TLS cluster (a correction is a decision).
  absl::StatusOr<v1::Record> Correct(const v1::Principal& by, const v1::CorrectRequest& req);
  absl::StatusOr<v1::Record> Note(const Actor& by, const v1::NoteRequest& req);
  absl::StatusOr<v1::Record> Exempt(const Actor& by, const v1::ExemptRequest& req);
  // Decisions (server/security/decisions.h): `s` is the decider's signed statement,
  // required on a TLS node; `by` only relays it.
  absl::StatusOr<v1::Record> ApproveExemption(const v1::Principal& by, const std::string& id,
                                              const v1::SignedDecision& s);
  absl::StatusOr<v1::Record> Retain(const v1::Principal& by, const v1::RetainRequest& req);
  // Sets one more legal hold, or releases one (record_holds.cc).
  absl::StatusOr<v1::Record> Hold(const v1::Principal& by, const v1::HoldRequest& req);
  // A late hand-over (article 17): reported by the officer, approved by a
  // leader of the agency; the record is then due 24 h after `until`.
  absl::StatusOr<v1::Record> Late(const Actor& by, const v1::LateRequest& req);
  absl::StatusOr<v1::Record> ApproveLate(const v1::Principal& by, const std::string& id,
                                         const v1::SignedDecision& s);
  // The id of the record `ref` names: its id, a unique prefix of one (at
  // least "rec-" and 4 more), or its archive number. NOT_FOUND or
  // INVALID_ARGUMENT (ambiguous) otherwise.
  absl::StatusOr<std::string> Resolve(const std::string& ref);
  // Forwards to the owner of the record's sequence unless this node is it.
  absl::StatusOr<v1::Record> Archive(const Actor& by, const std::string& id);
  // Assigns the next number here (this node owns the sequence).
  absl::StatusOr<v1::Record> ArchiveHere(const Actor& by, const std::string& id);
  // Archives a record that has its end; called with archive_mu_ held.
  absl::StatusOr<v1::Record> ArchiveEnded(const Actor& by, const std::string& id);
  // With a sequencer: writes the ledger entry of every number reserved but
  // not confirmed written (a node that crashed in between). Returns how many
  // it wrote.
  absl::StatusOr<int> CompleteReservedArchives();
  // The agency footage with `metadata` (device, agency...) is filed for: its
  // device's, else the metadata's own `agency`, else the uploader's
  // (`uploader`). FAILED_PRECONDITION, naming what to fix, when the device's
  // and the metadata's differ or none is known, PERMISSION_DENIED when the
  // uploader is bound to another agency: the upload is then refused
  // before any byte is stored (a docking station quarantines the file).
  absl::StatusOr<std::string> FilingAgency(
      const v1::Principal& uploader,
      const google::protobuf::Map<std::string, std::string>& metadata);
  // Files an object stored with ingest metadata (device, matter, start...)
  // under the open record it belongs to, or a new one (opened by ingest: it
  // ends at its last segment when the device is checked in, or after the
  // rules' idle time). Returns the record id, or "" when the metadata does
  // not name a record.
  absl::StatusOr<std::string> FileIngested(const v1::Principal& by,
                                           const v1::ObjectManifest& object);
  // The record FileIngested would file `object` under (opened now if none
  // is), without attaching it: a live upload's, while it records.
  absl::StatusOr<std::string> IngestRecord(const v1::Principal& by,
                                           const v1::ObjectManifest& object);

  absl::StatusOr<v1::Device> DeviceAdd(const Actor& by, const v1::DeviceAddRequest& req);
  absl::StatusOr<v1::Device> Checkout(const Actor& by, const v1::DeviceCheckoutRequest& req);
  absl::StatusOr<v1::Device> Checkin(const Actor& by, const std::string& id);
  // A docking station's manifest (doc/records.md, "Dock manifests"): signed
  // by the station's identity on a TLS node (`by` only relays it), checked,
  // and recorded as device.docked about "dock:ID". The same manifest again
  // is recorded once; another one with its id is ALREADY_EXISTS.
  absl::StatusOr<v1::DockResponse> Docked(const v1::Principal& by, const v1::DockRequest& req);

  // Purge (article 19, doc/records.md): records whose retention ended, none
  // under a hold or kept permanently; a request; an archive-head's approval;
  // then the data of their objects that no retained object shares goes.
  absl::StatusOr<v1::PurgeCandidatesResponse> PurgeCandidates();
  absl::StatusOr<v1::PurgePlan> RequestPurge(const Actor& by, const std::string& reason,
                                             const std::set<std::string>& only = {});
  absl::StatusOr<v1::PurgePlan> ApprovePurge(const v1::Principal& by, const std::string& id,
                                             const v1::SignedDecision& s);
  // OK if this node derives `executed` (a purge.executed from a peer) from
  // its own ledger: an approved request covers every record it names, each
  // archived, its retention ended, not permanent and under no hold; every
  // object it names is only theirs and every chunk one of those objects'
  // that no other manifest here uses. Why not otherwise.
  absl::Status CheckExecutedPurge(const v1::LedgerEntry& executed);
  absl::StatusOr<v1::PurgeResult> ExecutePurge(const Actor& by, const std::string& id);
  // The purge request that removed `object_id`'s data, if one did.
  absl::StatusOr<std::optional<v1::PurgePlan>> PurgedBy(const std::string& object_id);

  // The compliance report (article 25).
  // Counts only what `cleared(classification)` allows: records, grants and
  // objects above it are left out (Report.withheld_above_clearance).
  absl::StatusOr<v1::Report> MakeReport(const v1::ReportRequest& req,
                                        const std::function<bool(const std::string&)>& cleared);
  // Each record of `agency` that started in [from, to) and that `cleared`
  // allows, as it stands now (evaluated) and as folded; the others are only
  // counted in *withheld (record_report.cc).
  absl::Status ForEachInPeriod(
      const std::string& agency, int64_t from, int64_t to,
      const std::function<bool(const std::string&)>& cleared, uint64_t* withheld,
      const std::function<void(const v1::Record& evaluated, const v1::Record& folded)>& fn);
  // A spot check's records (common/spot_check.h): `n` drawn from the
  // period's records, sorted by id, with the seed of `checkpoint`.
  absl::Status Sample(const v1::SampleRequest& req, const Checkpoint& checkpoint,
                      const std::function<bool(const std::string&)>& cleared,
                      v1::SampleResponse* out);

 private:
  // Docked footage of a recording streamed live (doc/live.md, "Docking"):
  // the open record of `agency` that holds the live object it extends or
  // differs from (metadata live_extends, live_altered_object); "" if none.
  absl::StatusOr<std::string> LiveRecordOf(const RecordBook& b, const v1::ObjectManifest& object,
                                           const std::string& agency);
  absl::StatusOr<std::string> IngestRecordLocked(const v1::Principal& by,
                                                 const v1::ObjectManifest& object)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(filing_mu_);
  // Appends one ledger entry about `subject` with its audit event.
  absl::Status Append(const Actor& by, const std::string& kind, const std::string& subject,
                      const std::map<std::string, std::string>& fields);
  // record.archived for `r` with sequence `seq` of `prefix`.
  absl::Status AppendArchived(const Actor& by, const v1::Record& r, const std::string& prefix,
                              uint64_t seq);
  // The ledger entry of `by`'s signed decision (DecisionVerifier::FromClient).
  absl::StatusOr<v1::LedgerEntry> Signed(const v1::Principal& by, const v1::SignedDecision& s,
                                         const std::string& kind, const std::string& subject,
                                         const std::map<std::string, std::string>& fields);
  // Appends `entry` (a decision or not) with its audit event.
  absl::Status AppendDecision(v1::LedgerEntry entry);
  absl::StatusOr<FoldedRecord> Folded(const std::string& id);
  // The purge request `id` as it stands, or NOT_FOUND.
  absl::StatusOr<v1::PurgePlan> PlanOf(const std::string& id);
  // Create, with the ledger entry's `extra` fields besides the request's.
  absl::StatusOr<v1::Record> CreateWith(const Actor& by, const v1::CreateRecordRequest& req,
                                        std::map<std::string, std::string> extra);
  // Ends the open records that ingest opened for `device` at their last
  // segment's end (record.ended), when it is checked in.
  absl::Status EndIngestRecords(const Actor& by, const RecordBook& b, const std::string& device,
                                const std::string& why);
  // The open record `object` (of `agency`, `matter`, from `device`, starting
  // at `t`) joins, or "".
  absl::StatusOr<std::string> OpenRecordFor(const RecordBook& b, const std::string& agency,
                                            uint32_t matter, const std::string& device, int64_t t);
  absl::StatusOr<std::string> NewRecordId();
  // The chunks of `objects` that no other manifest in the cluster uses;
  // UNAVAILABLE unless every node answers.
  absl::StatusOr<std::vector<Digest>> UnsharedChunks(const std::set<std::string>& objects);
  // Begins purge `id` of `records` in the hold registry, if there is one:
  // records held there move to out->skipped. FAILED_PRECONDITION if none is
  // left.
  absl::Status BeginPurge(const std::string& id, std::set<std::string>* records,
                          v1::PurgeResult* out);
  // The purge's ledger entries; *executed once purge.executed is written
  // (from then on the purge is not undone).
  absl::Status WritePurge(const Actor& by, const RecordBook& b, const std::string& id,
                          const std::set<std::string>& records, v1::PurgeResult* out,
                          bool* executed);
  // Registers a new hold (or forgets a released one) in the hold registry
  // around appending its ledger entry `e`.
  absl::Status AppendHold(const std::string& record, const std::string& hold, bool release,
                          v1::LedgerEntry e);

  RecordKeeperDeps d_;
  const RecordRules rules_;
  const Catalog catalog_;
  absl::Mutex archive_mu_;  // one number at a time on the owner
  // One purge or hold at a time on this node: a hold is set before a purge
  // reads the book, or after the purge is written.
  absl::Mutex purge_mu_;
  // One filing at a time on this node: two segments of one device filed at
  // once join one record rather than open two.
  absl::Mutex filing_mu_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_RECORD_KEEPER_H_
