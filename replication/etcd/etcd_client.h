// A small client of etcd's v3 gRPC API (doc/etcd.md): reads, compare-and-
// swap transactions and leases, enough for the cluster's few single-writer
// decisions (archive numbers, holds against purges, the cluster map, the
// snapshot scheduler, liveness). The data path never uses it.
//
// A call goes to the current endpoint and, when that one is unreachable, to
// the next; etcd forwards writes to its leader itself. A failure names etcd
// and the endpoints tried, with UNAVAILABLE when no quorum answered, so that
// callers can say "etcd is down" rather than fail obscurely.
//
// Thread-safe.
#ifndef CUSTODY_REPLICATION_ETCD_ETCD_CLIENT_H_
#define CUSTODY_REPLICATION_ETCD_ETCD_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace custody {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "127.0.0.1:2379", ...
  // TLS with the cluster CA (and this node's certificate); null: plaintext,
  // for loopback tests only.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  absl::Duration timeout = absl::Seconds(5);  // per attempt
};

// One key as etcd holds it.
struct EtcdValue {
  std::string key, value;
  int64_t mod_revision = 0, create_revision = 0, version = 0, lease = 0;
};

class EtcdClient {
 public:
  // Checks the endpoints' syntax only; nothing is called until it is used.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(EtcdOptions options);
  // "host:port,host:port" as the --etcd flags take it.
  static absl::StatusOr<std::vector<std::string>> ParseEndpoints(const std::string& list);

  const std::vector<std::string>& endpoints() const { return options_.endpoints; }

  // How the last call ended ("ok", or its error) and when; "" before any.
  struct Outcome {
    std::string state;
    absl::Time when = absl::InfinitePast();
  };
  Outcome last_outcome() const;

  // The key, or nullopt when it is absent.
  absl::StatusOr<std::optional<EtcdValue>> Get(const std::string& key);
  // Every key starting with `prefix`, in key order.
  absl::StatusOr<std::vector<EtcdValue>> List(const std::string& prefix);
  // Puts unconditionally; returns the store's new revision.
  absl::StatusOr<int64_t> Put(const std::string& key, const std::string& value, int64_t lease = 0);
  // A transaction as etcd takes it; `succeeded` tells whether the compares held.
  absl::StatusOr<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& txn);

  // A lease of `ttl` (whole seconds, at least 1); its id.
  absl::StatusOr<int64_t> GrantLease(absl::Duration ttl);
  // Renews `lease` once; NotFound when it has expired.
  absl::Status KeepAlive(int64_t lease);
  absl::Status RevokeLease(int64_t lease);

  // Helpers for transactions.
  static etcdserverpb::Compare ModRevisionIs(const std::string& key,
                                             int64_t revision);  // 0: absent
  static etcdserverpb::Compare ValueIs(const std::string& key, const std::string& value);
  static etcdserverpb::RequestOp PutOp(const std::string& key, const std::string& value,
                                       int64_t lease = 0);
  static etcdserverpb::RequestOp DeleteOp(const std::string& key);
  // The end of the key range holding every key that starts with `prefix`.
  static std::string PrefixEnd(const std::string& prefix);

 private:
  explicit EtcdClient(EtcdOptions options);
  // Calls `call` on each endpoint from the current one until one answers
  // (anything but UNAVAILABLE or DEADLINE_EXCEEDED).
  absl::Status OnAnyEndpoint(const std::function<grpc::Status(const std::shared_ptr<grpc::Channel>&,
                                                              grpc::ClientContext*)>& call);

  EtcdOptions options_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  mutable absl::Mutex mu_;
  size_t current_ ABSL_GUARDED_BY(mu_) = 0;
  Outcome last_ ABSL_GUARDED_BY(mu_);
  // Records how a call ended; returns `s`.
  absl::Status Note(absl::Status s);
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_ETCD_ETCD_CLIENT_H_
