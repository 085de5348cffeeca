// The witness's side of C2SP tlog-witness (doc/witness.md): for each log
// origin the last checkpoint it cosigned, and the rule for cosigning the
// next one.
#ifndef CUSTODY_REPLICATION_WITNESS_WITNESS_BOOK_H_
#define CUSTODY_REPLICATION_WITNESS_WITNESS_BOOK_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/ed25519.h"
#include "custody/internal/v1/witness_state.pb.h"
#include "custody/v1/audit.pb.h"
#include "custody/v1/witness.pb.h"

namespace custody {

// Where a witness keeps its logs' states and puts its decisions on record.
class WitnessStore {
 public:
  virtual ~WitnessStore() = default;
  virtual absl::StatusOr<std::optional<internal::v1::WitnessedLogState>> Load(
      const std::string& origin) = 0;
  // Saves `state` and appends `event`, together and durably.
  virtual absl::Status Save(const internal::v1::WitnessedLogState& state, v1::AuditEvent event) = 0;
  virtual absl::StatusOr<std::vector<internal::v1::WitnessedLogState>> List() = 0;
};

// Thread-safe: one AddCheckpoint at a time.
class WitnessBook {
 public:
  // `name` is the key name of the cosignature lines; `key` signs them.
  WitnessBook(std::string name, Ed25519Key key, WitnessStore* store,
              std::function<absl::Time()> now = absl::Now);

  // Cosigns `req`'s checkpoint when it is signed by its origin's key (the
  // first checkpoint of an origin pins the key it carries) and consistent
  // with the last one cosigned for the origin:
  //  - req.old_size is not the size held: no cosignature, witness_size says
  //    which size to prove from;
  //  - smaller than the size held, the same size with another root, or a
  //    consistency proof that fails: FAILED_PRECONDITION, on record as
  //    witness.refused with both checkpoints;
  //  - a malformed note or proof: INVALID_ARGUMENT; a bad signature or another
  //    key than the pinned one: PERMISSION_DENIED (also witness.refused).
  // `caller` names who asked, for the record.
  absl::StatusOr<v1::AddCheckpointResponse> Add(const v1::AddCheckpointRequest& req,
                                                const std::string& caller);
  absl::StatusOr<v1::WitnessInfoResponse> Info();

  const std::string& name() const { return name_; }
  const Ed25519Key& key() const { return key_; }

 private:
  // Records the refusal (the held state's refusal count goes up) and
  // returns `why` as status `code`.
  absl::Status Refuse(internal::v1::WitnessedLogState state, const std::string& offered,
                      const std::string& caller, absl::StatusCode code, const std::string& why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const Ed25519Key key_;
  WitnessStore* const store_;
  const std::function<absl::Time()> now_;
  absl::Mutex mu_;
};

// The key name a custodyd witness signs under.
std::string WitnessName(const std::string& node_id);

}  // namespace custody

#endif  // CUSTODY_REPLICATION_WITNESS_WITNESS_BOOK_H_
