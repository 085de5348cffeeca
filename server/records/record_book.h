// Records and devices as folded from the cluster ledger (server/records/record_fold.h,
// doc/records.md), read as of one moment. Rules that decide whether a change
// may be made live in server/records/record_keeper.cc; what is derived at
// the time of an answer (gaps, flags) in server/records/record_rules.h.
#ifndef CUSTODY_SERVER_RECORDS_RECORD_BOOK_H_
#define CUSTODY_SERVER_RECORDS_RECORD_BOOK_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "custody/internal/v1/fold.pb.h"
#include "custody/v1/records.pb.h"
#include "server/security/ledger_fold.h"

namespace custody {

// An interruption note: it closes the gap of `device` that starts at `from`.
struct GapNote {
  std::string device;
  int64_t from_unix_nanos = 0;
  std::string explanation;  // "note: TEXT" or "audio: sha256:..."
  // Set instead of `from_unix_nanos` on a note about a missing file
  // (common/dock_manifest.h MissingKey).
  std::string missing_key;
};

// A dock manifest as folded, and who signed it.
struct Dock {
  v1::DockRequest manifest;
  std::string listed_by;
};

struct FoldedRecord {
  v1::Record record;  // without derived fields (gaps, flags, held_by)
  std::vector<GapNote> notes;
};

// A read of the fold: cheap to make, consistent within itself, never
// changing. Thread-safe.
class RecordBook {
 public:
  explicit RecordBook(std::shared_ptr<const FoldSnapshot> fold) : fold_(std::move(fold)) {}

  absl::StatusOr<std::optional<FoldedRecord>> Find(const std::string& id) const;
  // Records in id order from the first after `after` ("" for the start); fn
  // returns false to stop.
  absl::Status ForEachRecord(const std::string& after,
                             const std::function<bool(const FoldedRecord&)>& fn) const;
  // Records in creation order (then id), from the first after the one whose
  // creation key is `after` (CreationKey; "" for the start).
  absl::Status ForEachRecordByCreation(
      const std::string& after,
      const std::function<bool(const std::string& key, const FoldedRecord&)>& fn) const;
  // Records whose start is in [from, to), in start order (the report's).
  absl::Status ForEachRecordStarting(int64_t from_unix_nanos, int64_t to_unix_nanos,
                                     const std::function<bool(const FoldedRecord&)>& fn) const;
  // Ids that start with `prefix`, at most `limit`.
  absl::StatusOr<std::vector<std::string>> IdsStartingWith(const std::string& prefix,
                                                           size_t limit) const;
  // The records archived as `number` (normally one).
  absl::StatusOr<std::vector<std::string>> ByArchiveNumber(const std::string& number) const;
  // The records not yet archived that list `device`.
  absl::StatusOr<std::vector<std::string>> OpenRecordsOf(const std::string& device) const;
  // The records that hold `object_id`.
  absl::StatusOr<std::vector<std::string>> RecordsOf(const std::string& object_id) const;
  // The highest archive sequence used under `prefix` (0 when none).
  absl::StatusOr<uint64_t> ArchiveSequence(const std::string& prefix) const;

  absl::StatusOr<std::optional<v1::Device>> Device(const std::string& id) const;
  absl::Status ForEachDevice(const std::function<void(const v1::Device&)>& fn) const;

  absl::StatusOr<std::optional<v1::PurgePlan>> Purge(const std::string& id) const;
  absl::Status ForEachPurge(const std::function<void(const v1::PurgePlan&)>& fn) const;
  // The purge request that removed `object_id`, if one did.
  absl::StatusOr<std::optional<std::string>> PurgeOf(const std::string& object_id) const;
  // Dock manifests (doc/records.md): the one named `id`; the docks that
  // list a file of `device` with `name` and `size`; the records that hold
  // such a file; whether some dock or record names number `sequence` of
  // `device`; and the lowest number either names for it (0: none).
  absl::StatusOr<std::optional<Dock>> FindDock(const std::string& id) const;
  absl::StatusOr<std::vector<std::string>> DocksListing(const std::string& device,
                                                        const std::string& name,
                                                        uint64_t size) const;
  absl::StatusOr<std::vector<std::string>> RecordsHolding(const std::string& device,
                                                          const std::string& name,
                                                          uint64_t size) const;
  absl::StatusOr<bool> SequenceSeen(const std::string& device, uint64_t sequence) const;
  absl::StatusOr<uint64_t> FirstSequence(const std::string& device) const;
  // Whether an offsite peer confirmed a snapshot that holds `object_id`.
  absl::StatusOr<bool> Offsite(const std::string& object_id) const;

 private:
  std::shared_ptr<const FoldSnapshot> fold_;
};

// The creation key of `r` for ForEachRecordByCreation.
std::string CreationKey(const v1::Record& r);

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_RECORD_BOOK_H_
