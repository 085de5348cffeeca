#include "server/records/etcd_hold_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace custody {
namespace {

// etcd takes at most 128 operations per transaction by default.
constexpr size_t kBatch = 100;
constexpr int kAttempts = 100;

std::set<std::string> Ids(const std::optional<EtcdValue>& v) {
  if (!v) return {};
  return absl::StrSplit(v->value, ',', absl::SkipEmpty());
}

absl::Status Contended(const std::string& what) {
  return absl::AbortedError(absl::StrCat(what, ": too many nodes at once in etcd, try again"));
}

}  // namespace

absl::Status EtcdHoldRegistry::ChangeHolds(
    const std::string& record,
    const std::function<std::set<std::string>(std::set<std::string>)>& change) {
  const std::string hold_key = HoldKey(record), purge_key = PurgeKey(record);
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    ASSIGN_OR_RETURN(std::optional<EtcdValue> purge, etcd_->Get(purge_key));
    if (purge) {
      return absl::FailedPreconditionError(
          absl::StrCat("record ", record, " is being purged (", purge->value,
                       " began in etcd before this hold); no hold can be set on it or released"));
    }
    ASSIGN_OR_RETURN(std::optional<EtcdValue> held, etcd_->Get(hold_key));
    const std::set<std::string> before = Ids(held), after = change(before);
    if (after == before) return absl::OkStatus();
    etcdserverpb::TxnRequest t;
    *t.add_compare() = EtcdClient::ModRevisionIs(hold_key, held ? held->mod_revision : 0);
    *t.add_compare() = EtcdClient::ModRevisionIs(purge_key, 0);
    *t.add_success() = after.empty() ? EtcdClient::DeleteOp(hold_key)
                                     : EtcdClient::PutOp(hold_key, absl::StrJoin(after, ","));
    ASSIGN_OR_RETURN(etcdserverpb::TxnResponse resp, etcd_->Txn(t));
    if (resp.succeeded()) return absl::OkStatus();
  }
  return Contended(absl::StrCat("the holds of ", record));
}

absl::Status EtcdHoldRegistry::AddHold(const std::string& record, const std::string& hold) {
  return ChangeHolds(record, [&](std::set<std::string> ids) {
    ids.insert(hold);
    return ids;
  });
}

absl::Status EtcdHoldRegistry::RemoveHold(const std::string& record, const std::string& hold) {
  return ChangeHolds(record, [&](std::set<std::string> ids) {
    ids.erase(hold);
    return ids;
  });
}

absl::StatusOr<std::map<std::string, std::string>> EtcdHoldRegistry::BeginPurge(
    const std::string& purge, const std::set<std::string>& records) {
  std::map<std::string, std::string> held;
  std::vector<std::string> batch;
  for (const std::string& r : records) {
    batch.push_back(r);
    if (batch.size() == kBatch) {
      RETURN_IF_ERROR(BeginBatch(purge, batch, &held));
      batch.clear();
    }
  }
  if (!batch.empty()) RETURN_IF_ERROR(BeginBatch(purge, batch, &held));
  return held;
}

absl::Status EtcdHoldRegistry::BeginBatch(const std::string& purge,
                                          const std::vector<std::string>& batch,
                                          std::map<std::string, std::string>* held) {
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    etcdserverpb::TxnRequest t;
    std::map<std::string, std::string> found;
    for (const std::string& r : batch) {
      ASSIGN_OR_RETURN(std::optional<EtcdValue> h, etcd_->Get(HoldKey(r)));
      if (h && !h->value.empty()) {
        found[r] = h->value;
        continue;
      }
      // The hold key as read (absent) must still be so when the purge begins.
      *t.add_compare() = EtcdClient::ModRevisionIs(HoldKey(r), h ? h->mod_revision : 0);
      *t.add_success() = EtcdClient::PutOp(PurgeKey(r), purge);
    }
    if (t.success_size() == 0) {
      held->insert(found.begin(), found.end());
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(etcdserverpb::TxnResponse resp, etcd_->Txn(t));
    if (resp.succeeded()) {
      held->insert(found.begin(), found.end());
      return absl::OkStatus();
    }
  }
  return Contended(absl::StrCat("purge ", purge));
}

absl::Status EtcdHoldRegistry::AbortPurge(const std::string& purge,
                                          const std::set<std::string>& records) {
  for (const std::string& r : records) {
    etcdserverpb::TxnRequest t;
    *t.add_compare() = EtcdClient::ValueIs(PurgeKey(r), purge);
    *t.add_success() = EtcdClient::DeleteOp(PurgeKey(r));
    RETURN_IF_ERROR(etcd_->Txn(t).status());
  }
  return absl::OkStatus();
}

}  // namespace custody
