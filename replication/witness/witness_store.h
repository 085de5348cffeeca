// A witness's logs kept in its node's index (meta column family,
// "witness/log/<origin>"), written with their audit events in one batch.
#ifndef CUSTODY_REPLICATION_WITNESS_WITNESS_STORE_H_
#define CUSTODY_REPLICATION_WITNESS_WITNESS_STORE_H_

#include "replication/witness/witness_book.h"
#include "server/audit/audited_write.h"
#include "server/storage/index.h"

namespace custody {

// Thread-safe.
class IndexWitnessStore : public WitnessStore {
 public:
  IndexWitnessStore(Index* index, AuditTrail* trail) : index_(index), trail_(trail) {}

  absl::StatusOr<std::optional<internal::v1::WitnessedLogState>> Load(
      const std::string& origin) override;
  absl::Status Save(const internal::v1::WitnessedLogState& state, v1::AuditEvent event) override;
  absl::StatusOr<std::vector<internal::v1::WitnessedLogState>> List() override;

 private:
  Index* index_;
  AuditTrail* trail_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_WITNESS_WITNESS_STORE_H_
