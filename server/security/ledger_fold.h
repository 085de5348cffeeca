// The ledger fold (doc/ledger_fold.md): the state folded from the cluster
// ledger (server/security/ledger.h), kept in the index's "fold" column family
// and brought up to date in the same write batch that stores each entry, so
// no read after a write re-reads the ledger.
//
// Entries fall into groups (a record, a device, a purge, a snapshot, a user,
// an access request), and a group's state depends only on its own entries
// in time order (and, for an access request, on when its deciders were
// disabled). So a new entry is applied on top of its group's state when it
// is the group's latest; one that arrives late (from a peer, out of time
// order) refolds its group alone. Rules (FoldRules) say which group an entry
// belongs to, how it changes the group, and which lookup keys ("derived
// keys") the group's state adds beside it; the fold keeps those in step.
#ifndef CUSTODY_SERVER_SECURITY_LEDGER_FOLD_H_
#define CUSTODY_SERVER_SECURITY_LEDGER_FOLD_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "custody/internal/v1/fold.pb.h"
#include "custody/v1/access.pb.h"

namespace rocksdb {
class Snapshot;
class WriteBatch;
}  // namespace rocksdb

namespace custody {

class Index;

// The version of the fold's rules and layout: a fold stored under another
// is rebuilt at start (LedgerFold::Open). Change it with any change to what
// a fold holds or how an entry changes it.
inline constexpr char kFoldVersion[] = "fold-4";

// The order key of an entry: its order (OrderOf: 8 bytes, big-endian, sign
// flipped) then its id (32 bytes). Entries fold in this order.
std::string OrderKey(int64_t order_unix_nanos, const Digest& id);
// An entry's order: its hybrid logical clock time, or for an entry made
// before those were kept, its wall-clock time.
inline int64_t OrderOf(const v1::LedgerEntry& e) {
  return e.order_unix_nanos() != 0 ? e.order_unix_nanos() : e.time_unix_nanos();
}
// Big-endian bytes of `v`, so that keys sort as numbers.
std::string BigEndian(uint64_t v);
// A time as 8 bytes that sort as the times do.
std::string TimeKey(int64_t unix_nanos);

// What rules may read while they fold: the groups as the batch being made
// leaves them.
class FoldReader {
 public:
  virtual ~FoldReader() = default;
  virtual absl::StatusOr<std::optional<internal::v1::FoldGroup>> Group(const std::string& name) = 0;
  // The values of keys that start with `prefix`, in key order: fn(key, value).
  virtual absl::Status Scan(
      const std::string& prefix,
      const std::function<void(const std::string&, const std::string&)>& fn) = 0;
};

// One kind of group. Implementations are stateless and thread-safe.
class FoldRules {
 public:
  virtual ~FoldRules() = default;
  // The prefixes of the groups these rules own ("record:", ...).
  virtual std::vector<std::string> Prefixes() const = 0;
  // The group entry `e` (id `id`) belongs to under these rules, or "".
  virtual std::string GroupOf(const Digest& id, const v1::LedgerEntry& e) const = 0;
  // Applies `e` (at order key `key`) to `g`. A refusal (the message says
  // why) is INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
  // FAILED_PRECONDITION, OUT_OF_RANGE or UNAUTHENTICATED, is noted in the
  // group, and must leave `g` as it was; any other code is a failure to fold
  // (a read that failed), and the entry is not stored.
  virtual absl::Status Apply(const Digest& id, const std::string& key, const v1::LedgerEntry& e,
                             FoldReader* reader, internal::v1::FoldGroup* g) const = 0;
  // The derived keys (in the fold column family) of `group` in state `g`,
  // each ending with something unique to the group.
  virtual void Derived(const std::string& group, const internal::v1::FoldGroup& g,
                       std::map<std::string, std::string>* out) const = 0;
  // Other groups to refold because `group` went from `before` to `after`.
  virtual absl::StatusOr<std::vector<std::string>> Dependents(
      const std::string& /*group*/, const internal::v1::FoldGroup& /*before*/,
      const internal::v1::FoldGroup& /*after*/, FoldReader* /*reader*/) const {
    return std::vector<std::string>();
  }
};

// Writes the fold makes, all in its column family: a value, or nullopt to
// delete the key.
using FoldOps = std::vector<std::pair<std::string, std::optional<std::string>>>;

// A consistent read of the fold: what it was when the snapshot was taken.
// Thread-safe.
class FoldSnapshot {
 public:
  explicit FoldSnapshot(Index* index);
  ~FoldSnapshot();
  FoldSnapshot(const FoldSnapshot&) = delete;
  FoldSnapshot& operator=(const FoldSnapshot&) = delete;

  absl::StatusOr<std::optional<std::string>> Get(const std::string& key) const;
  absl::StatusOr<std::optional<internal::v1::FoldGroup>> Group(const std::string& name) const;
  // Keys that start with `prefix`, in order, from the first after `after`
  // ("" for the start); fn(key without the prefix, value) returns false to
  // stop.
  absl::Status Scan(const std::string& prefix, const std::string& after,
                    const std::function<bool(const std::string&, const std::string&)>& fn) const;
  // The value of the greatest key that starts with `prefix`, or nullopt.
  absl::StatusOr<std::optional<std::string>> Last(const std::string& prefix) const;
  // The entries of the groups whose names start with `prefix`, group by
  // group, each in time order: fn(group, id, entry).
  absl::Status ForEachEntry(const std::string& prefix,
                            const std::function<void(const std::string&, const Digest&,
                                                     const v1::LedgerEntry&)>& fn) const;

 private:
  Index* index_;
  const rocksdb::Snapshot* snapshot_;
};

// Thread-safe.
class LedgerFold {
 public:
  explicit LedgerFold(Index* index);
  ~LedgerFold();

  // Adds rules (they must outlive the fold). Call before Open.
  void AddRules(const FoldRules* rules);
  // Makes the fold current for the ledger as it is: when the fold on disk
  // was made under another `version` (the rules' code, or the CA decisions
  // are checked against), or never, it is rebuilt from the ledger group by
  // group, logging its progress. Call once before any Stage.
  absl::Status Open(const std::string& version);

  // The writes that bring the fold up to date with a new entry. The caller
  // holds a lock that orders its Stage and commit calls, and commits `ops`
  // in the batch that stores the entry.
  absl::Status Stage(const Digest& id, const v1::LedgerEntry& e, FoldOps* ops);
  // Puts `ops` into `batch`.
  void Write(const FoldOps& ops, rocksdb::WriteBatch* batch) const;

  std::shared_ptr<const FoldSnapshot> Snapshot() const;

  // The state of every group, from scratch, without touching the stored
  // fold: replays every entry in time order (for tests, which compare it to
  // the stored fold).
  absl::StatusOr<std::map<std::string, internal::v1::FoldGroup>> Replay();

 private:
  class Batch;
  const FoldRules* RulesOf(const std::string& group) const;
  absl::Status Rebuild(const std::string& version);

  Index* index_;
  std::vector<const FoldRules*> rules_;
  std::map<std::string, const FoldRules*> rules_by_prefix_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SECURITY_LEDGER_FOLD_H_
