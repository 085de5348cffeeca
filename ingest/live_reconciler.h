// A docked file and the live upload of the same recording (doc/live.md,
// "Docking"; issue 32). A camera that streamed live is later docked: its
// file starts with the bytes the cluster already holds, unless it was
// altered after the upload.
//
//  - The file's bytes are what a sealed upload holds: nothing is sent.
//  - The file extends an upload (cut short, or still open): only the rest is
//    sent, on a live stream that continues it, and the file is sealed under
//    its own SHA-256 (a truncated object stays as it was; both are kept).
//  - The file's first bytes differ from every upload of its name: it is
//    uploaded whole, marked "altered after upload" (metadata live_altered),
//    and the live object stays.
#ifndef CUSTODY_INGEST_LIVE_RECONCILER_H_
#define CUSTODY_INGEST_LIVE_RECONCILER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "custody/v1/live.grpc.pb.h"
#include "grpcpp/channel.h"

namespace custody::ingest {

struct LiveMatch {
  enum Kind {
    kNone,      // no live upload of this file: upload it as usual
    kStored,    // identical to a sealed upload: `upload.object_id`
    kContinue,  // starts with `upload`'s bytes: send the rest as `continue_id`
    kAltered,   // differs from `upload` in bytes it streamed
  };
  Kind kind = kNone;
  v1::LiveInfo upload;
  std::string continue_id;
};

// What the docked file at `path` (of `device`, `size` bytes, last written
// at `mtime`) is to the live uploads of its name on the node behind
// `channel`. An upload opened after the file's last write is not its
// recording. Reads the file's first bytes once per size compared.
absl::StatusOr<LiveMatch> MatchLive(std::shared_ptr<grpc::Channel> channel, const std::string& path,
                                    const std::string& device, uint64_t size, absl::Time mtime);

// The SHA-256 ("sha256:<hex>") of the first `n` bytes of the file at `path`,
// streamed.
absl::StatusOr<std::string> PrefixSha256(const std::string& path, uint64_t n);

}  // namespace custody::ingest

#endif  // CUSTODY_INGEST_LIVE_RECONCILER_H_
