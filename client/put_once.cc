// One attempt of CustodyClient::Put: ask what the node holds, then stream
// the rest while a FileHasher hashes the file on another core. The hash goes
// to the node as soon as it is known: in the header for a small file (hashed
// first) or a retry, else in a message of its own mid-stream. Either way a
// node that holds the object answers at once and the rest is not sent
// (dedup before sending, issue 24, without a whole pass first: issue 29).
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "client/file_hasher.h"
#include "common/digest.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "common/upload_protocol.h"

namespace custody {
namespace {
constexpr size_t kMessageBytes = 1 << 20;

using Writer = grpc::ClientWriter<v1::UploadRequest>;

v1::UploadRequest Header(uint64_t size, uint64_t offset, const std::optional<Digest>& digest,
                         const PutOptions& opts, const std::string& upload_id) {
  v1::UploadRequest req;
  v1::UploadHeader* h = req.mutable_header();
  h->set_upload_id(upload_id);
  h->set_file_name(opts.file_name);
  h->set_size(size);
  h->set_media_type(opts.media_type);
  h->mutable_metadata()->insert(opts.metadata.begin(), opts.metadata.end());
  h->set_offset(offset);
  if (digest) h->set_sha256(digest->ToString());
  return req;
}

// Whether the node asked for the file's bytes: it did not answer from the
// header's hash.
bool NodeWantsBytes(const grpc::ClientContext& ctx) {
  const auto& md = ctx.GetServerInitialMetadata();
  auto it = md.find(kUploadMetadataKey);
  return it != md.end() && it->second == kSendBytes;
}

// Sends the file's hash in a message of its own once the hasher has it (the
// node answers at once if it holds the object). Returns whether the stream
// is still open; `*sent` tells whether the hash went.
absl::StatusOr<bool> SendHashIfKnown(const FileHasher& hasher, Writer* w, bool* sent) {
  std::optional<absl::StatusOr<Digest>> h = hasher.TryGet();
  if (*sent || !h.has_value()) return true;
  RETURN_IF_ERROR(h->status());
  v1::UploadRequest req;
  req.mutable_hash()->set_sha256((*h)->ToString());
  *sent = true;
  return w->Write(req);
}

// Streams bytes [pos, size) of `fd`, then the finish message. Returns
// whether the stream is still open (if not, Finish says why: a node that
// answered from the hash ends it early, successfully).
absl::StatusOr<bool> SendBytes(int fd, uint64_t pos, uint64_t size, const FileHasher& hasher,
                               bool hash_sent, const PutOptions& opts, Writer* w,
                               PutResult* result) {
  v1::UploadRequest req;
  std::string* data = req.mutable_data();  // read straight into the message
  bool alive = true;
  while (alive && pos < size) {
    ASSIGN_OR_RETURN(alive, SendHashIfKnown(hasher, w, &hash_sent));
    if (!alive) break;
    size_t want = static_cast<size_t>(std::min<uint64_t>(kMessageBytes, size - pos));
    data->resize(want);
    ssize_t n = pread(fd, data->data(), want, static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::DataLossError("the file changed while it was being sent");
    data->resize(static_cast<size_t>(n));
    alive = w->Write(req);
    pos += static_cast<uint64_t>(n);
    result->bytes_sent += static_cast<uint64_t>(n);
    if (opts.progress) opts.progress(pos, size);
  }
  if (!alive) return false;
  ASSIGN_OR_RETURN(Digest digest, hasher.Wait());
  req.Clear();
  req.mutable_finish()->set_sha256(digest.ToString());
  return w->Write(req);
}

}  // namespace

absl::Status CustodyClient::PutOnce(v1::Custody::Stub* stub, int fd, uint64_t size,
                                    const FileHasher& hasher, const PutOptions& opts,
                                    const std::string& upload_id, PutResult* result) {
  ASSIGN_OR_RETURN(v1::QueryUploadResponse q, QueryUploadOn(stub, upload_id, opts.canceller));
  // A finished upload (the reply was lost, or the same file again) starts
  // over: the node answers from the file's hash at once.
  uint64_t offset = q.completed() ? 0 : q.committed_size();
  if (offset > size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the node holds ", offset, " bytes of upload ", upload_id, " but the file has ", size));
  }
  if (result->attempts == 1) result->resumed_from = offset;
  if (opts.progress) opts.progress(offset, size);
  grpc::ClientContext ctx;
  if (opts.canceller != nullptr && !opts.canceller->Register(&ctx)) {
    return absl::CancelledError("the upload was cancelled");
  }
  absl::Cleanup unregister = [&] {
    if (opts.canceller != nullptr) opts.canceller->Unregister();
  };
  // A small file is hashed before its header (a few milliseconds), a large
  // one while it is sent; a retry usually knows the hash already.
  if (size <= opts.hash_first_bytes) RETURN_IF_ERROR(hasher.Wait().status());
  std::optional<Digest> digest;
  if (std::optional<absl::StatusOr<Digest>> h = hasher.TryGet(); h.has_value()) {
    ASSIGN_OR_RETURN(digest, *h);
  }
  v1::UploadResponse resp;
  std::unique_ptr<Writer> w = stub->Upload(&ctx, &resp);
  bool alive = w->Write(Header(size, offset, digest, opts, upload_id));
  // With a hash in the header, the node answers or asks for the bytes.
  if (alive && digest) w->WaitForInitialMetadata();
  if (alive && (!digest || NodeWantsBytes(ctx))) {
    absl::StatusOr<bool> sent =
        SendBytes(fd, offset, size, hasher, digest.has_value(), opts, w.get(), result);
    if (!sent.ok()) ctx.TryCancel();
    RETURN_IF_ERROR(sent.status());
    alive = *sent;
  }
  if (alive) w->WritesDone();
  RETURN_IF_ERROR(FromGrpcStatus(w->Finish()));
  ASSIGN_OR_RETURN(Digest hashed, hasher.Wait());
  if (resp.id() != hashed.ToString()) {
    return absl::DataLossError(absl::StrCat("the node answered id ", resp.id(),
                                            " but the file hashes to ", hashed.ToString()));
  }
  result->id = resp.id();
  result->size = resp.size();
  result->already_stored = resp.already_stored();
  result->durable_replicas = resp.durable_replicas();
  result->record_id = resp.record_id();
  result->filing_problem = resp.filing_problem();
  result->required_replicas = resp.required_replicas();
  return absl::OkStatus();
}

void Canceller::Cancel() {
  absl::MutexLock l(&mu_);
  cancelled_ = true;
  if (ctx_ != nullptr) ctx_->TryCancel();
}

bool Canceller::cancelled() const {
  absl::MutexLock l(&mu_);
  return cancelled_;
}

bool Canceller::Register(grpc::ClientContext* ctx) {
  absl::MutexLock l(&mu_);
  if (cancelled_) return false;
  ctx_ = ctx;
  return true;
}

void Canceller::Unregister() {
  absl::MutexLock l(&mu_);
  ctx_ = nullptr;
}

}  // namespace custody
