// Holds against purges through etcd (doc/etcd.md): each side is one
// transaction that compares the other side's key, so of a hold and a purge
// of the same record on two nodes at the same moment exactly one goes
// through.
//
// Keys, under `root` ("/custody/"):
//   hold/<record id>    the record's registered holds, "hold-a,hold-b"
//                       (absent when it has none)
//   purge/<record id>   the purge that began on the record, kept forever
// Thread-safe.
#ifndef CUSTODY_SERVER_RECORDS_ETCD_HOLD_REGISTRY_H_
#define CUSTODY_SERVER_RECORDS_ETCD_HOLD_REGISTRY_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "replication/etcd/etcd_client.h"
#include "server/records/hold_registry.h"

namespace custody {

class EtcdHoldRegistry : public HoldRegistry {
 public:
  EtcdHoldRegistry(EtcdClient* etcd, std::string root) : etcd_(etcd), root_(std::move(root)) {}

  absl::Status AddHold(const std::string& record, const std::string& hold) override;
  absl::Status RemoveHold(const std::string& record, const std::string& hold) override;
  absl::StatusOr<std::map<std::string, std::string>> BeginPurge(
      const std::string& purge, const std::set<std::string>& records) override;
  absl::Status AbortPurge(const std::string& purge, const std::set<std::string>& records) override;

 private:
  std::string HoldKey(const std::string& record) const { return root_ + "hold/" + record; }
  std::string PurgeKey(const std::string& record) const { return root_ + "purge/" + record; }
  // Changes `record`'s hold list with `change` (given the ids, returns the
  // new ones), unless a purge began on it; retried while others write.
  absl::Status ChangeHolds(
      const std::string& record,
      const std::function<std::set<std::string>(std::set<std::string>)>& change);
  // Begins `purge` on the records of `batch` (at most one transaction's
  // worth) that hold nothing; adds the others to *held.
  absl::Status BeginBatch(const std::string& purge, const std::vector<std::string>& batch,
                          std::map<std::string, std::string>* held);

  EtcdClient* etcd_;
  const std::string root_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_ETCD_HOLD_REGISTRY_H_
