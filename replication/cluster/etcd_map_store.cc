#include "replication/cluster/etcd_map_store.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace custody {

absl::StatusOr<EtcdMapStore::Stored> EtcdMapStore::Parse(const EtcdValue& v) const {
  absl::StatusOr<ClusterMap> map = ClusterMap::Parse(v.value);
  if (!map.ok()) {
    return absl::DataLossError(absl::StrCat("the cluster map in etcd (", key_,
                                            ") does not parse: ", map.status().message()));
  }
  return Stored{v.value, std::move(*map), v.mod_revision};
}

absl::StatusOr<std::optional<EtcdMapStore::Stored>> EtcdMapStore::Get() {
  ASSIGN_OR_RETURN(std::optional<EtcdValue> v, etcd_->Get(key_));
  if (!v) return std::optional<Stored>();
  ASSIGN_OR_RETURN(Stored s, Parse(*v));
  return std::optional<Stored>(std::move(s));
}

absl::StatusOr<EtcdMapStore::Stored> EtcdMapStore::Bootstrap(const std::string& json) {
  RETURN_IF_ERROR(ClusterMap::Parse(json).status());
  etcdserverpb::TxnRequest t;
  *t.add_compare() = EtcdClient::ModRevisionIs(key_, 0);
  *t.add_success() = EtcdClient::PutOp(key_, json);
  RETURN_IF_ERROR(etcd_->Txn(t).status());
  ASSIGN_OR_RETURN(std::optional<Stored> s, Get());
  if (!s) return absl::InternalError("etcd holds no cluster map right after one was put");
  return std::move(*s);
}

absl::StatusOr<EtcdMapStore::Stored> EtcdMapStore::Apply(const std::string& json) {
  absl::StatusOr<ClusterMap> next = ClusterMap::Parse(json);
  if (!next.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the new cluster map: ", next.status().message()));
  }
  ASSIGN_OR_RETURN(std::optional<Stored> now, Get());
  if (!now) {
    return absl::FailedPreconditionError(
        "etcd holds no cluster map yet: the first node started with --etcd puts its file there");
  }
  if (next->version() != now->map.version() + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the new map is version ", next->version(), "; the map in etcd is version ",
                     now->map.version(), ", so the next is ", now->map.version() + 1,
                     " (custody cluster map show prints it)"));
  }
  etcdserverpb::TxnRequest t;
  *t.add_compare() = EtcdClient::ModRevisionIs(key_, now->revision);
  *t.add_success() = EtcdClient::PutOp(key_, json);
  ASSIGN_OR_RETURN(etcdserverpb::TxnResponse resp, etcd_->Txn(t));
  ASSIGN_OR_RETURN(std::optional<Stored> after, Get());
  if (!resp.succeeded()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the cluster map in etcd changed while this one was applied (it is version ",
                     after ? after->map.version() : 0,
                     " now): someone else applied one; show it, merge, and "
                     "apply the next version"));
  }
  if (!after) return absl::InternalError("etcd lost the cluster map just put");
  return std::move(*after);
}

}  // namespace custody
