// The custody nodes a client may call, and which one it uses: when that node
// is down or unreachable, calls fail over to the next. Any node of a cluster
// takes an upload and serves a read, and an object's id is its content hash,
// so the same bytes put through another node are the same object.
#ifndef CUSTODY_CLIENT_SERVER_POOL_H_
#define CUSTODY_CLIENT_SERVER_POOL_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace custody {

// The addresses of --server flags (or $CUSTODY_SERVER), in order: each may
// hold several, separated by commas. INVALID_ARGUMENT for none, an empty
// one, one that is not HOST:PORT, or one given twice.
absl::StatusOr<std::vector<std::string>> ParseServers(const std::vector<std::string>& flags);

// Whether a failed call means that the node itself is down or unreachable
// (UNAVAILABLE, which includes a refused or broken connection, or
// DEADLINE_EXCEEDED), so that another node may take the call.
bool IsNodeDown(const absl::Status& s);
// Whether another node should take the call: the node is down, or full
// (RESOURCE_EXHAUSTED: below its hard reserve it takes no upload and can put
// no read on record).
bool ShouldFailOver(const absl::Status& s);

// Thread-safe. One channel per address, made once.
class ServerPool {
 public:
  // `addresses` is not empty; one channel is made per address.
  explicit ServerPool(std::vector<std::string> addresses);
  // A pool of one channel that is already made (tests, the web console).
  explicit ServerPool(std::shared_ptr<grpc::Channel> channel, std::string address = "");

  struct Server {
    size_t index = 0;
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
  };
  // The node calls go to now (the first address until a failover).
  Server Current() const;
  // Called when the node at `index` failed with `why`: if it is still the
  // current one, the next address (round robin) becomes current, the
  // failover is counted and logged. Returns the current address.
  std::string FailOver(size_t index, const absl::Status& why);

  // How Call retries.
  struct Retry {
    // Wall time from the first attempt after which no new attempt starts: a
    // node that is back within it is used.
    absl::Duration budget = absl::Seconds(15);
    // Which failures are worth another attempt; a node-down failure
    // (IsNodeDown), or a full node's RESOURCE_EXHAUSTED when there are other
    // nodes, also moves the next attempt to the next node.
    std::function<bool(const absl::Status&)> retryable;
    // Checked before each attempt and each pause; true stops the retries.
    std::function<bool()> stopped;
  };
  // Retries of a call that should answer at once (status, lookups,
  // decisions): only UNAVAILABLE is retried, on each other node once, with no
  // pause.
  static Retry EachNodeOnce();
  // Runs `attempt` on the current node until it succeeds, fails for a reason
  // `retryable` rejects, or the budget is spent. A node that is down hands
  // the next attempt to the next node at once; after every node failed in a
  // row, Call pauses (0.25 s doubling to 1 s, with jitter) and goes round
  // again. The error after the budget names every node tried with its last
  // error. `*attempts` (optional) counts the attempts made.
  absl::Status Call(const Retry& retry, const std::function<absl::Status(const Server&)>& attempt,
                    int* attempts = nullptr);

  const std::vector<std::string>& addresses() const { return addresses_; }
  size_t size() const { return addresses_.size(); }
  uint64_t failovers() const;

 private:
  const std::vector<std::string> addresses_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;  // by index; never changes
  mutable absl::Mutex mu_;
  size_t current_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failovers_ ABSL_GUARDED_BY(mu_) = 0;
};

// The pause before round `round` (1, 2, ...) of retries: 0.25 s doubling to
// 1 s, times a jitter in [0.5, 1]. Short, because gRPC channels made by
// CustodyClient::NewChannel reconnect within a second of a node's return.
absl::Duration RetryPause(int round);

}  // namespace custody

#endif  // CUSTODY_CLIENT_SERVER_POOL_H_
