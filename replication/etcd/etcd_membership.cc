#include "replication/etcd/etcd_membership.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace custody {

EtcdMembership::EtcdMembership(EtcdClient* etcd, MembershipOptions options)
    : etcd_(etcd), options_(std::move(options)), watching_since_(absl::Now()) {}

EtcdMembership::~EtcdMembership() { Stop(); }

void EtcdMembership::Start() {
  loop_ = std::make_unique<JobLoop<bool>>(
      [this] {
        Tick();
        return true;
      },
      [this](const std::optional<bool>& last) {
        return last ? absl::Now() + options_.tick : absl::Now();  // the first at once
      });
  loop_->Start();
}

void EtcdMembership::Stop() {
  if (loop_) loop_->Stop();
  loop_.reset();
  int64_t lease = 0;
  {
    absl::MutexLock l(&mu_);
    std::swap(lease, lease_);
  }
  if (lease != 0) (void)etcd_->RevokeLease(lease);
}

void EtcdMembership::Tick() {
  absl::Status s = KeepLease();
  if (s.ok()) s = Elect();
  if (s.ok()) s = ReadMembers();
  if (!s.ok()) LOG(WARNING) << "etcd membership: " << s;
  absl::MutexLock l(&mu_);
  last_ok_ = s.ok();
}

absl::Status EtcdMembership::KeepLease() {
  int64_t lease;
  {
    absl::MutexLock l(&mu_);
    lease = lease_;
  }
  if (lease != 0) {
    absl::Status s = etcd_->KeepAlive(lease);
    if (s.ok() || !absl::IsNotFound(s)) {
      if (s.ok()) {
        absl::MutexLock l(&mu_);
        renewed_ = absl::Now();
      }
      return s;
    }
    LOG(WARNING) << "etcd lease " << lease << " of " << options_.node_id
                 << " ran out; taking a new one";
  }
  const absl::Time asked = absl::Now();
  ASSIGN_OR_RETURN(lease, etcd_->GrantLease(options_.ttl));
  RETURN_IF_ERROR(etcd_
                      ->Put(absl::StrCat(options_.root, "node/", options_.node_id),
                            absl::StrCat(absl::ToUnixNanos(asked)), lease)
                      .status());
  absl::MutexLock l(&mu_);
  lease_ = lease;
  renewed_ = asked;
  return absl::OkStatus();
}

absl::Status EtcdMembership::Elect() {
  const std::string key = options_.root + "scheduler";
  int64_t lease;
  {
    absl::MutexLock l(&mu_);
    lease = lease_;
  }
  etcdserverpb::TxnRequest t;
  *t.add_compare() = EtcdClient::ModRevisionIs(key, 0);
  *t.add_success() = EtcdClient::PutOp(key, options_.node_id, lease);
  RETURN_IF_ERROR(etcd_->Txn(t).status());
  ASSIGN_OR_RETURN(std::optional<EtcdValue> holder, etcd_->Get(key));
  absl::MutexLock l(&mu_);
  scheduler_ = holder ? holder->value : "";
  return absl::OkStatus();
}

absl::Status EtcdMembership::ReadMembers() {
  const std::string dir = options_.root + "node/";
  ASSIGN_OR_RETURN(std::vector<EtcdValue> listed, etcd_->List(dir));
  const absl::Time now = absl::Now();
  absl::MutexLock l(&mu_);
  std::map<std::string, MemberState> seen;
  for (const EtcdValue& v : listed) {
    MemberState& m = seen[v.key.substr(dir.size())];
    m.alive = true;
    int64_t started = 0;
    m.since = absl::SimpleAtoi(v.value, &started) ? absl::FromUnixNanos(started) : now;
  }
  for (auto& [id, before] : members_) {
    auto it = seen.find(id);
    if (it == seen.end()) {
      // Gone: down since now, or since whenever it went before.
      seen[id] = before.alive ? MemberState{false, now} : before;
    }
  }
  members_ = std::move(seen);
  checked_ = now;
  return absl::OkStatus();
}

std::map<std::string, MemberState> EtcdMembership::members() const {
  absl::MutexLock l(&mu_);
  return members_;
}

std::string EtcdMembership::scheduler() const {
  absl::MutexLock l(&mu_);
  return scheduler_;
}

bool EtcdMembership::leads() const {
  absl::MutexLock l(&mu_);
  // A lease not renewed for its whole time may have run out: another node
  // may hold the election by now.
  return scheduler_ == options_.node_id && lease_ != 0 &&
         absl::Now() - renewed_ < options_.ttl - options_.tick;
}

bool EtcdMembership::fresh() const {
  absl::MutexLock l(&mu_);
  return last_ok_ && absl::Now() - checked_ < 3 * options_.tick;
}

absl::Time EtcdMembership::checked() const {
  absl::MutexLock l(&mu_);
  return checked_;
}

}  // namespace custody
