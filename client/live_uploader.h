// `custody live FILE`: streams a recording to the cluster while the camera
// (or a phone app) still writes it (doc/live.md). The file itself is the
// buffer: what the node has not acknowledged is read again from it, so a
// dropped link or a node that is down loses nothing and sends nothing twice.
#ifndef CUSTODY_CLIENT_LIVE_UPLOADER_H_
#define CUSTODY_CLIENT_LIVE_UPLOADER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/server_pool.h"
#include "custody/v1/live.grpc.pb.h"

namespace custody {

struct LiveOptions {
  std::string path;
  std::string device;
  std::map<std::string, std::string> metadata;
  std::string live_id;  // "" = derived from the device, the file's name and its inode
  // A docking station sending the rest of this live upload (LiveHeader.continues).
  std::string continues;
  uint64_t segment_bytes = 1u << 20;
  absl::Duration interval = absl::Seconds(2);  // a segment at least this often
  // The file is complete once it has not changed for this long (0: at once,
  // with what it holds now).
  absl::Duration finish_after = absl::Seconds(10);
  absl::Duration max_backoff = absl::Seconds(5);
  // Each acknowledgement: bytes in custody, and the file's size then.
  std::function<void(uint64_t held, uint64_t size)> progress;
  const std::atomic<bool>* stop = nullptr;  // set: stop at the next segment
};

struct LiveResult {
  std::string live_id;
  v1::LiveAck last;  // state "sealed" with object_id, or "recording" when stopped
  int reconnects = 0;
};

// Streams `o.path` to the cluster until the file is complete and sealed, or
// `o.stop` is set. Reconnects (backing off) while the node is down, failing
// over to the pool's next node (in a cluster with R > 1 a node that mirrors
// the upload takes it over: doc/live.md, "On R nodes"); fails for what
// retrying cannot fix (refused, or a file that shrank below what the node
// holds). Not thread-safe.
absl::StatusOr<LiveResult> StreamLive(ServerPool* pool, const LiveOptions& o);
// The same to the nodes `servers` ("host:port[,host:port...]"), or to one channel.
absl::StatusOr<LiveResult> StreamLive(const std::string& servers, const LiveOptions& o);
absl::StatusOr<LiveResult> StreamLive(std::shared_ptr<grpc::Channel> channel, const LiveOptions& o);

// The id StreamLive uses for `o` when none is given.
absl::StatusOr<std::string> DeriveLiveId(const LiveOptions& o);

// The id of the upload a docking station starts to send the rest of the
// sealed live upload `live_id`.
std::string ContinuationLiveId(const std::string& live_id);

}  // namespace custody

#endif  // CUSTODY_CLIENT_LIVE_UPLOADER_H_
