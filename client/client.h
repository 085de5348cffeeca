// The custody client library: put, get, stat, list against a cluster's nodes
// (one address, or several to fail over between).
#ifndef CUSTODY_CLIENT_CLIENT_H_
#define CUSTODY_CLIENT_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/server_pool.h"
#include "common/digest.h"
#include "common/tls.h"
#include "custody/v1/custody.grpc.pb.h"

namespace custody {

// Called with bytes done so far and the total.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

// Lets another thread stop a Put in progress: Cancel() cancels the call in
// flight (unblocking a write stuck on a stalled node) and makes further
// attempts fail with CANCELLED. Thread-safe.
class Canceller {
 public:
  void Cancel();
  bool cancelled() const;

 private:
  friend class CustodyClient;
  // False (and nothing registered) once cancelled.
  bool Register(grpc::ClientContext* ctx);
  void Unregister();

  mutable absl::Mutex mu_;
  grpc::ClientContext* ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

struct PutOptions {
  std::map<std::string, std::string> metadata;
  std::string file_name;   // the path's base name when empty
  std::string media_type;  // guessed from the file name when empty
  // Names the upload; empty derives one from the file's path, size, mtime and
  // inode, so that running the same put again resumes a broken upload.
  std::string upload_id;
  // Wall time after which no new attempt starts (ServerPool::Call): a node
  // that is back within it is used, and a node that is down hands the upload
  // to the next address at once. Zero: no waiting (one attempt, or each
  // address once when several are down).
  absl::Duration retry_budget = absl::Seconds(15);
  // Called with the offset the node already holds, then after each message.
  ProgressFn progress;
  Canceller* canceller = nullptr;  // optional
  // A file of at most this size is hashed before its header is sent, so a
  // node that holds it reads none of it; a larger one is hashed while it is
  // sent (on another core), its hash sent as soon as known (issue 29).
  uint64_t hash_first_bytes = 16 << 20;
};

// The media type of a file by its extension ("application/octet-stream" if
// unknown).
std::string GuessMediaType(const std::string& path);

struct PutResult {
  std::string id;
  uint64_t size = 0;
  bool already_stored = false;
  uint64_t bytes_sent = 0;    // file bytes sent by this call, all attempts
  uint64_t resumed_from = 0;  // bytes the node already held at the start
  int attempts = 0;
  uint32_t durable_replicas = 0;   // nodes holding the object durably
  uint32_t required_replicas = 0;  // the cluster's R
  std::string record_id;           // the record the footage was filed under; "" if none
  std::string filing_problem;      // why footage naming a record could not be filed; "" if none
};

struct GetResult {
  v1::ObjectInfo info;
  uint64_t bytes_received = 0;
  int attempts = 0;
};

// Bytes [start, end] of an object (custody get --range START-END); no end:
// to the object's end.
struct ByteRange {
  uint64_t start = 0;
  std::optional<uint64_t> end;  // inclusive
};

// Thread-compatible: use one client per thread, or share with care (the
// channel itself is thread-safe).
class CustodyClient {
 public:
  explicit CustodyClient(std::shared_ptr<grpc::Channel> channel);
  explicit CustodyClient(std::shared_ptr<ServerPool> pool);
  // A client of "host:port", or of several separated by commas (ParseServers)
  // that calls fail over between. A list ParseServers refuses is used as one
  // address, and calls to it fail with gRPC's reason.
  static std::unique_ptr<CustodyClient> Connect(const std::string& servers);
  // A channel to "host:port" with custody's message limits, keepalive, and
  // reconnection within about a second of a node's return (gRPC's default
  // backoff waits up to 2 minutes between connection attempts).
  static std::shared_ptr<grpc::Channel> NewChannel(const std::string& address);
  // For commands that hold one stub: a channel to the first of `servers`
  // (comma-separated) that connects within a second, else to the first.
  static std::shared_ptr<grpc::Channel> ChannelToAnyOf(const std::string& servers);
  // From now on, channels made by this process use TLS with the credentials
  // folder `dir` (ca.pem, and cert.pem + key.pem when the user has a
  // certificate), sending `token` (if any) as a bearer token with every call;
  // "" goes back to plaintext. Thread-safe.
  static absl::Status UseTls(const std::string& dir, const std::string& token = "");
  // The credentials folder UseTls was given, or nullopt for plaintext.
  static std::optional<TlsFiles> TlsCredentials();

  // Uploads `path`, resuming where an earlier attempt broke off, and checks
  // that the id the node returns is the file's own SHA-256. The file is
  // hashed first and its hash named in the upload's header: a node that
  // holds the object answers at once, so a re-put costs a local read.
  absl::StatusOr<PutResult> Put(const std::string& path, const PutOptions& options);
  // Writes object `id` to `out_path`, which must not exist. The bytes go to a
  // temporary file beside it, are hashed while written, and are renamed into
  // place only if they hash to `id`; otherwise the partial file is deleted.
  // Later Gets read for `purpose` ("view" or "export"), which the caller's
  // access grant must name.
  void set_purpose(std::string purpose) { purpose_ = std::move(purpose); }
  absl::StatusOr<GetResult> Get(const std::string& id, const std::string& out_path,
                                ProgressFn progress = nullptr);
  // Writes object `id` (or `range` of it) to `fd` as it arrives, for a pipe
  // (custody get -o -): only the chunks that hold the range are read, each
  // is checked against its SHA-256 before any of its bytes is written, and
  // after a failure another node resumes from the next chunk. Without a
  // range the whole object's SHA-256 is checked at the end: DATA_LOSS, naming
  // both hashes, means the bytes written are not the object. Memory holds
  // one chunk.
  absl::StatusOr<GetResult> Stream(const std::string& id, int fd,
                                   std::optional<ByteRange> range = std::nullopt,
                                   ProgressFn progress = nullptr);
  // With `sm3`, the node computes the object's SM3 if it has not yet (it
  // reads the whole object once; doc/witness.md).
  absl::StatusOr<v1::ObjectInfo> Stat(const std::string& id, bool sm3 = false);
  // Every object, following page tokens.
  absl::StatusOr<std::vector<v1::ObjectInfo>> List();
  // Every object, page by page as the node sends them: `page(objects)` is
  // called for each page, so memory holds one page, not the list.
  absl::Status ForEachPage(const std::function<void(const std::vector<v1::ObjectInfo>&)>& page);
  // `canceller` (optional) can cancel the call from another thread.
  absl::StatusOr<v1::QueryUploadResponse> QueryUpload(const std::string& upload_id,
                                                      Canceller* canceller = nullptr);
  absl::StatusOr<v1::NodeStatusResponse> NodeStatus();

  // The upload id Put derives for `path` (see PutOptions::upload_id).
  static absl::StatusOr<std::string> DeriveUploadId(const std::string& path);

 private:
  absl::Status PutOnce(v1::Custody::Stub* stub, int fd, uint64_t size,
                       const class FileHasher& hasher, const PutOptions& opts,
                       const std::string& upload_id, PutResult* result);
  absl::StatusOr<v1::QueryUploadResponse> QueryUploadOn(v1::Custody::Stub* stub,
                                                        const std::string& upload_id,
                                                        Canceller* canceller);
  absl::Status GetOnce(v1::Custody::Stub* stub, const std::string& id, class OutputFile* out,
                       GetResult* result, class Sha256* hash, const ProgressFn& progress);
  struct StreamState;  // client/stream_get.cc
  absl::Status StreamOnce(v1::Custody::Stub* stub, StreamState* st, const ProgressFn& progress);

  // Runs `call` with a stub of the current node; a node that is down hands
  // the call to the next, each node once.
  absl::Status OnAnyNode(const std::function<absl::Status(v1::Custody::Stub*)>& call);

  std::string purpose_;
  std::shared_ptr<ServerPool> pool_;
};

// Whether a failed call is worth retrying (the node may come back).
bool IsRetryable(const absl::Status& s);
// Or worth trying on another node: also a full node (RESOURCE_EXHAUSTED),
// which ServerPool::Call hands to the next address when there is one.
bool WorthAnotherNode(const absl::Status& s);

}  // namespace custody

#endif  // CUSTODY_CLIENT_CLIENT_H_
