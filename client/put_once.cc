// One attempt of CustodyClient::Put: ask what the node holds, stream the
// rest while another thread hashes the whole file, finish with its SHA-256.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "common/digest.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace custody {
namespace {
constexpr size_t kMessageBytes = 1 << 20;

// Hashes bytes [0, size) of `fd` on its own thread, so that hashing overlaps
// sending (the send loop then only reads, frames and encrypts). The file is
// read twice from the page cache; if it changes meanwhile, the node's id and
// this hash differ and the put fails with DATA_LOSS.
class FileHasher {
 public:
  FileHasher(int fd, uint64_t size) : thread_([this, fd, size] { Run(fd, size); }) {}
  ~FileHasher() {  // an abandoned attempt stops hashing at once
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  absl::StatusOr<Digest> Finish() {
    thread_.join();
    if (!status_.ok()) return status_;
    return digest_;
  }

 private:
  void Run(int fd, uint64_t size) {
    Sha256 hash;
    std::string buf(kMessageBytes, '\0');
    for (uint64_t pos = 0; pos < size;) {
      if (stop_) {
        status_ = absl::CancelledError("hashing stopped");
        return;
      }
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - pos));
      ssize_t n = pread(fd, buf.data(), want, static_cast<off_t>(pos));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        status_ = absl::DataLossError("the file changed while it was being hashed");
        return;
      }
      hash.Update(buf.data(), static_cast<size_t>(n));
      pos += static_cast<uint64_t>(n);
    }
    digest_ = hash.Finish();
  }

  std::atomic<bool> stop_{false};
  absl::Status status_;
  Digest digest_;
  std::thread thread_;  // last: starts after the fields it writes exist
};

}  // namespace

absl::Status CustodyClient::PutOnce(int fd, uint64_t size, const PutOptions& opts,
                                    const std::string& upload_id, PutResult* result) {
  ASSIGN_OR_RETURN(v1::QueryUploadResponse q, QueryUpload(upload_id, opts.canceller));
  uint64_t offset = q.committed_size();
  if (offset > size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the node holds ", offset, " bytes of upload ", upload_id, " but the file has ", size));
  }
  if (result->attempts == 1) result->resumed_from = offset;
  if (opts.progress) opts.progress(offset, size);
  FileHasher hasher(fd, size);
  grpc::ClientContext ctx;
  if (opts.canceller != nullptr && !opts.canceller->Register(&ctx)) {
    return absl::CancelledError("the upload was cancelled");
  }
  absl::Cleanup unregister = [&] {
    if (opts.canceller != nullptr) opts.canceller->Unregister();
  };
  v1::UploadResponse resp;
  std::unique_ptr<grpc::ClientWriter<v1::UploadRequest>> w = stub_->Upload(&ctx, &resp);
  v1::UploadRequest req;
  v1::UploadHeader* h = req.mutable_header();
  h->set_upload_id(upload_id);
  h->set_file_name(opts.file_name);
  h->set_size(size);
  h->set_media_type(opts.media_type);
  h->mutable_metadata()->insert(opts.metadata.begin(), opts.metadata.end());
  h->set_offset(offset);
  bool alive = w->Write(req);
  req.Clear();
  std::string* data = req.mutable_data();  // read straight into the message
  uint64_t pos = offset;
  while (alive && pos < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kMessageBytes, size - pos));
    data->resize(want);
    ssize_t n = pread(fd, data->data(), want, static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ctx.TryCancel();
      return absl::DataLossError("the file changed while it was being sent");
    }
    data->resize(static_cast<size_t>(n));
    alive = w->Write(req);
    pos += static_cast<uint64_t>(n);
    result->bytes_sent += static_cast<uint64_t>(n);
    if (opts.progress) opts.progress(pos, size);
  }
  absl::StatusOr<Digest> digest = hasher.Finish();
  if (!digest.ok()) {
    ctx.TryCancel();
    return digest.status();
  }
  if (alive) {
    req.Clear();
    req.mutable_finish()->set_sha256(digest->ToString());
    alive = w->Write(req);
  }
  if (alive) w->WritesDone();
  RETURN_IF_ERROR(FromGrpcStatus(w->Finish()));
  if (resp.id() != digest->ToString()) {
    return absl::DataLossError(absl::StrCat("the node answered id ", resp.id(),
                                            " but the file hashes to ", digest->ToString()));
  }
  result->id = resp.id();
  result->size = resp.size();
  result->already_stored = resp.already_stored();
  result->durable_replicas = resp.durable_replicas();
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
