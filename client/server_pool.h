// The custody nodes the ingest daemon may upload to, and which one it uses:
// when that node is down or unreachable, uploads fail over to the next.
// Any node of a cluster takes an upload, and the object id is the content
// hash, so the same bytes put through another node are the same object.
#ifndef CUSTODY_INGEST_SERVERS_H_
#define CUSTODY_INGEST_SERVERS_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace custody::ingest {

// The addresses of the --server flags, in order: each flag may hold several,
// separated by commas. INVALID_ARGUMENT for none, an empty one, one that is
// not HOST:PORT, or one given twice.
absl::StatusOr<std::vector<std::string>> ParseServers(const std::vector<std::string>& flags);

// Whether a failed call means that the node itself is down or unreachable
// (UNAVAILABLE, which includes a refused or broken connection, or
// DEADLINE_EXCEEDED), so that another node may take the upload.
bool IsNodeDown(const absl::Status& s);

// Thread-safe. One channel per address, made once.
class ServerPool {
 public:
  // `addresses` is not empty.
  explicit ServerPool(std::vector<std::string> addresses);

  struct Server {
    size_t index = 0;
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
  };
  // The node uploads go to now (the first address until a failover).
  Server Current() const;
  // Called when the node at `index` failed with `why`: if it is still the
  // current one, the next address (round robin) becomes current, the
  // failover is counted and logged. Returns the current address.
  std::string FailOver(size_t index, const absl::Status& why);

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

}  // namespace custody::ingest

#endif  // CUSTODY_INGEST_SERVERS_H_
