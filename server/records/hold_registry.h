// Serializes legal holds against purges, record by record, across a cluster
// (doc/etcd.md, "Holds against purges"): once a hold is registered, no purge
// of its record can begin on any node; once a purge has begun, no hold can
// be registered. The ledger keeps the holds themselves; the registry only
// decides which of a hold and a purge came first. Without one (a single
// node), RecordKeeper serializes them with a mutex.
#ifndef CUSTODY_SERVER_RECORDS_HOLD_REGISTRY_H_
#define CUSTODY_SERVER_RECORDS_HOLD_REGISTRY_H_

#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace custody {

// Implementations are thread-safe.
class HoldRegistry {
 public:
  virtual ~HoldRegistry() = default;
  // Registers hold `hold` on `record`. FAILED_PRECONDITION if a purge of the
  // record has begun; UNAVAILABLE (naming the store) if it cannot be reached.
  virtual absl::Status AddHold(const std::string& record, const std::string& hold) = 0;
  // Forgets hold `hold` of `record` (released, or its ledger entry failed).
  virtual absl::Status RemoveHold(const std::string& record, const std::string& hold) = 0;
  // Begins purge `purge` of each record in `records` that has no hold
  // registered; returns the others, each with its holds ("hold-a,hold-b").
  // On an error nothing may have begun, or some records may have: the caller
  // aborts the purge.
  virtual absl::StatusOr<std::map<std::string, std::string>> BeginPurge(
      const std::string& purge, const std::set<std::string>& records) = 0;
  // Undoes BeginPurge when the purge could not be written.
  virtual absl::Status AbortPurge(const std::string& purge,
                                  const std::set<std::string>& records) = 0;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_HOLD_REGISTRY_H_
