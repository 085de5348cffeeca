// Records and devices as the fold of the cluster ledger (server/security/ledger.h,
// doc/records.md). Each change is one LedgerEntry about "record:ID" or
// "device:ID"; the book replays them in time order and never rewrites one:
// a correction is a new entry that keeps the old value beside the new.
// Rules that decide whether a change may be made live in
// server/records/record_keeper.cc; what is derived at the time of an answer (gaps,
// flags) in server/record_rules.h.
#ifndef CUSTODY_SERVER_RECORDS_RECORD_BOOK_H_
#define CUSTODY_SERVER_RECORDS_RECORD_BOOK_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "custody/v1/access.pb.h"
#include "custody/v1/records.pb.h"
#include "server/security/ledger.h"
#include "server/security/ledger_fold.h"

namespace custody {

class DecisionVerifier;

// An interruption note: it closes the gap of `device` that starts at `from`.
struct GapNote {
  std::string device;
  int64_t from_unix_nanos = 0;
  std::string explanation;  // "note: TEXT" or "audio: sha256:..."
};

struct FoldedRecord {
  v1::Record record;  // without derived fields (gaps, flags, held_by)
  std::vector<GapNote> notes;
  std::string exemption_requested_by;
};

struct RecordBook {
  std::map<std::string, FoldedRecord> records;                     // by id
  std::map<std::string, v1::Device> devices;                       // by id
  std::map<std::string, std::vector<std::string>> object_records;  // object id -> record ids
  std::map<std::string, uint64_t> archive_sequences;  // prefix -> highest sequence used
  std::map<std::string, v1::PurgePlan> purges;        // by request id
  std::map<std::string, std::string> purged_objects;  // object id -> purge request id
  // Offsite (doc/offsite.md): each snapshot's objects, and the objects of
  // snapshots an offsite peer confirmed with a receipt ("sha256:<hex>").
  std::map<std::string, std::vector<std::string>> snapshot_objects;  // snapshot id -> ids
  std::set<std::string> offsite_objects;

  // Replays the ledger's record, device and purge entries in time order
  // (`now` is unused: nothing in the book depends on the time of asking).
  // Ledger entries the fold did not apply, by entry id (hex): why (a
  // decision that breaks the rules, an entry about an unknown record).
  std::map<std::string, std::string> refused;

  static absl::StatusOr<RecordBook> Load(Ledger* ledger, absl::Time now);
  // Applies `e` if it holds under the rules (decisions checked with `v`).
  absl::Status Apply(const v1::LedgerEntry& e, const DecisionVerifier& v);
  const FoldedRecord* Find(const std::string& id) const;
};

// The book, rebuilt only when the ledger changed. Thread-safe.
using RecordBookCache = LedgerFold<RecordBook>;

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_RECORD_BOOK_H_
