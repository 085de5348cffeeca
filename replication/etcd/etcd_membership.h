// Liveness and the snapshot scheduler's election through etcd leases
// (doc/etcd.md, "Liveness and the scheduler"). Each node holds one lease and
// keeps it alive; under it, node/<id> says the node is alive, and
// scheduler names the node that keeps the snapshot schedule: whoever puts it
// first while it is absent. When a node dies its lease runs out, its keys go,
// and another node takes the election within the lease's time.
//
// Thread-safe. A background thread renews the lease and reads the members
// every `tick`.
#ifndef CUSTODY_REPLICATION_ETCD_ETCD_MEMBERSHIP_H_
#define CUSTODY_REPLICATION_ETCD_ETCD_MEMBERSHIP_H_

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/job_loop.h"
#include "replication/etcd/etcd_client.h"

namespace custody {

struct MembershipOptions {
  std::string root;     // "/custody/"
  std::string node_id;  // this node
  absl::Duration ttl = absl::Seconds(6);
  absl::Duration tick = absl::Seconds(1);
};

// A node as this node last saw it in etcd.
struct MemberState {
  bool alive = false;  // holds a live lease
  // Since when, as far as this node knows: the lease's start for a node
  // first seen alive, else when this node saw it change; InfinitePast when
  // it was already so when this node started watching.
  absl::Time since = absl::InfinitePast();
};

class EtcdMembership {
 public:
  EtcdMembership(EtcdClient* etcd, MembershipOptions options);
  ~EtcdMembership();  // Stop()

  void Start();
  // Revokes the lease, so that the election is free at once. Idempotent.
  void Stop();

  // Every node seen in etcd since Start, by id.
  std::map<std::string, MemberState> members() const;
  // The node that keeps the snapshot schedule, "" if none is known.
  std::string scheduler() const;
  // True while this node holds the election and its lease is surely alive.
  bool leads() const;
  // When etcd last answered this node's reads; InfinitePast: never.
  absl::Time checked() const;
  // True when the last round read the members and was at most 3 ticks ago:
  // members() is then at most a round old.
  bool fresh() const;
  // Runs one round now (tests).
  void Tick();

 private:
  // Grants a lease and announces the node when it has none; else renews it.
  absl::Status KeepLease();
  // Takes the election if it is free, and reads who holds it.
  absl::Status Elect();
  // Reads node/ and updates members_.
  absl::Status ReadMembers();

  EtcdClient* etcd_;
  const MembershipOptions options_;
  const absl::Time watching_since_;
  std::unique_ptr<JobLoop<bool>> loop_;
  mutable absl::Mutex mu_;
  int64_t lease_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time renewed_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::map<std::string, MemberState> members_ ABSL_GUARDED_BY(mu_);
  std::string scheduler_ ABSL_GUARDED_BY(mu_);
  absl::Time checked_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool last_ok_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_ETCD_ETCD_MEMBERSHIP_H_
