// The security ledger (doc/security.md): every change to users and access
// grants is a LedgerEntry, kept forever in the node's "ledger" column family
// under its id (the SHA-256 of its bytes). Every node holds every entry:
// Append stores an entry here, with its audit event, and sends it to every
// other node; anti-entropy (kind LEDGER) brings it to nodes that were away.
// The security state is the fold of the entries (server/security/access_state.h).
#ifndef CUSTODY_SERVER_SECURITY_LEDGER_H_
#define CUSTODY_SERVER_SECURITY_LEDGER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "common/hybrid_clock.h"
#include "custody/v1/access.pb.h"
#include "custody/v1/audit.pb.h"

namespace custody {

class AuditTrail;
class DecisionVerifier;
class Index;
class LedgerFold;

// The audit event of a change the ledger records: the entry's kind as the
// action, about `audit_subject`, by its actor, with its fields as details
// (a token's hash left out) and, for a decision, who signed it.
v1::AuditEvent EventOf(const v1::LedgerEntry& e, const std::string& audit_subject);

// A field of an entry ("" when absent), and one read as an integer (0 when
// absent or not a number).
std::string EntryField(const v1::LedgerEntry& e, const std::string& key);
int64_t EntryInt(const v1::LedgerEntry& e, const std::string& key);

// Thread-safe.
class Ledger {
 public:
  // Entries live in `index`'s ledger family and are stored through `trail`
  // with their audit events; `node_id` is this node, one of `nodes`.
  Ledger(Index* index, AuditTrail* trail, std::string node_id, int nodes);
  ~Ledger();

  // Sends a stored entry to every other node and returns how many took it
  // (the wiring calls the peers; unset for a cluster of one). Call before
  // serving.
  using Spreader = std::function<int(const Digest& id, const std::string& bytes)>;
  void SetSpreader(Spreader spread) { spread_ = std::move(spread); }
  // Keeps `fold` up to date: each entry is folded in the batch that stores
  // it (server/security/ledger_fold.h). Call before serving.
  void SetFold(LedgerFold* fold) { fold_ = fold; }
  // Local effects of a stored entry, run after it is stored (the wiring
  // installs the purger for purge.executed). Call before serving.
  using AfterStore = std::function<void(const v1::LedgerEntry&)>;
  void SetAfterStore(AfterStore after) { after_store_ = std::move(after); }

  // From now on decisions must be signed by people whose certificates chain
  // to the CA of `ca_pem` (a TLS node; call before serving).
  void Trust(std::string ca_pem);
  // A check an entry from a peer must also pass before it is stored (the
  // wiring installs RecordKeeper::CheckExecutedPurge for purge.executed).
  // Call before serving.
  using Admission = std::function<absl::Status(const v1::LedgerEntry&)>;
  void SetAdmission(Admission check) { admission_ = std::move(check); }
  const DecisionVerifier& verifier() const { return *verifier_; }
  // Sets the ledger's clock past every entry held (call once, before use).
  absl::Status RestoreClock();
  // The ledger's hybrid logical clock now (the last order given or seen).
  int64_t clock() const { return clock_.last(); }

  struct Appended {
    Digest id;
    int holders = 0;  // nodes that hold it now, this one included
    int nodes = 0;    // nodes in the map
  };
  // Fills in time, node and nonce, stores the entry here together with
  // `event` (the audit event of the change), then on every other node. A
  // decision must pass verifier().Check (decisions.h).
  absl::StatusOr<Appended> Append(v1::LedgerEntry entry, v1::AuditEvent event);
  // A copy sent by another node: it must hash to `id` and parse. Idempotent;
  // a new entry is logged as ledger.received. A decision that fails
  // verifier().Check, or the admission check (a purge.executed this node
  // cannot derive itself), is not stored: PERMISSION_DENIED, and the entry is kept
  // as evidence in a `ledger.refused` audit event naming `from` (once per
  // entry while this process runs).
  absl::Status Receive(const Digest& id, const std::string& bytes, const std::string& from);
  // An entry brought back from the offsite copy (doc/offsite.md): stored here
  // like a received one, logged as ledger.restored, then sent to every other
  // node. Idempotent.
  absl::Status Restore(const Digest& id, const std::string& bytes, const std::string& from);
  // The serialized entry, or nullopt.
  absl::StatusOr<std::optional<std::string>> Get(const Digest& id);
  // Every entry, in id order.
  absl::Status ForEach(const std::function<void(const Digest&, const v1::LedgerEntry&)>& fn);

 private:
  // Stores `e` (serialized as `bytes`) with its audit event and its fold.
  absl::Status Store(const Digest& id, const std::string& bytes, const v1::LedgerEntry& e,
                     v1::AuditEvent event);
  // Stores an entry made elsewhere, logged as `action`; false if held already.
  absl::StatusOr<bool> Take(const Digest& id, const std::string& bytes, const std::string& from,
                            const char* action);
  // Sends a stored entry to every other node; returns how many hold it.
  int Spread(const Digest& id, const std::string& bytes);
  // Logs a refused entry (ledger.refused) and returns `why`.
  absl::Status Refuse(const Digest& id, const std::string& bytes, const v1::LedgerEntry& e,
                      const std::string& from, const absl::Status& why);

  Index* index_;
  AuditTrail* trail_;
  const std::string node_id_;
  const int nodes_;
  std::unique_ptr<DecisionVerifier> verifier_;
  Admission admission_;
  Spreader spread_;
  AfterStore after_store_;
  LedgerFold* fold_ = nullptr;
  HybridClock clock_;     // orders the entries (order_unix_nanos)
  absl::Mutex store_mu_;  // one fold and store at a time: each folds on the last
  absl::Mutex refused_mu_;
  std::set<std::string> refused_ ABSL_GUARDED_BY(refused_mu_);  // ids logged already
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SECURITY_LEDGER_H_
