// A cluster node's calls to the offsite peer (custody.internal.v1.OffsitePeer), over
// the node's own credentials (mutual TLS with its node certificate). Several
// channels, each its own connection, so that parallel blob transfers are not
// serialized on one TLS stream.
#ifndef CUSTODY_REPLICATION_OFFSITE_OFFSITE_CLIENT_H_
#define CUSTODY_REPLICATION_OFFSITE_OFFSITE_CLIENT_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/snapshot_format.h"
#include "custody/internal/v1/offsite_peer.grpc.pb.h"
#include "custody/v1/offsite.grpc.pb.h"

namespace custody {

// Thread-safe.
class OffsiteClient {
 public:
  OffsiteClient(const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
                int channels = 1);

  int channels() const { return static_cast<int>(stubs_.size()); }
  absl::StatusOr<internal::v1::OfferResponse> Offer(const v1::Snapshot& s);
  // Waits until every channel is connected (UNAVAILABLE after `timeout`), so
  // that no Put fails on a connection still being set up: a slow TLS
  // handshake on one of many channels otherwise ends a sync.
  absl::Status Connect(absl::Duration timeout);
  // Which of `keys` the peer lacks (asked 4096 at a time).
  absl::StatusOr<std::vector<Digest>> FindMissing(const std::vector<Digest>& keys);
  // Stores a blob on the peer through channel `c`; whether it held it.
  // `at`: the chunk's place in its object, when chunks go in order.
  absl::StatusOr<bool> Put(int c, const Digest& key, std::string data,
                           const std::optional<ChunkPosition>& at = std::nullopt);
  absl::StatusOr<std::string> Get(int c, const Digest& key);
  absl::StatusOr<v1::Receipt> Seal(const std::string& snapshot_id);
  absl::StatusOr<v1::OffsiteVerifyReport> Verify(const std::string& snapshot_id);
  // A challenge, answered within `deadline` (DEADLINE_EXCEEDED otherwise).
  absl::StatusOr<internal::v1::ChallengeResponse> Challenge(
      const internal::v1::ChallengeRequest& req, absl::Duration deadline);
  absl::StatusOr<internal::v1::PeerSnapshotsResponse> ListSealed();
  absl::StatusOr<internal::v1::PeerStatus> Status();

 private:
  std::string address_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<internal::v1::OffsitePeer::Stub>> stubs_;
  std::vector<std::unique_ptr<grpc::GenericStub>> generic_;  // for Put, on the same channels
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_OFFSITE_CLIENT_H_
