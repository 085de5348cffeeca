#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/storage/file_writer.h"

namespace custody {
namespace {

size_t OpBytes(const WriteOp& op) {
  size_t n = 0;
  for (const iovec& v : op.iov) n += v.iov_len;
  return n;
}

class UringFileWriter : public FileWriter {
 public:
  explicit UringFileWriter(unsigned depth) : depth_(depth) {}
  ~UringFileWriter() override {
    if (initialized_) io_uring_queue_exit(&ring_);
  }

  absl::Status Init() {
    int rc = io_uring_queue_init(depth_, &ring_, 0);
    if (rc < 0) {
      return absl::UnavailableError(absl::StrCat("io_uring_queue_init: ", std::strerror(-rc)));
    }
    initialized_ = true;
    return absl::OkStatus();
  }

  absl::Status WriteAndSync(absl::Span<const WriteOp> ops,
                            absl::Span<const int> sync_fds) override {
    // Writes go in rounds of at most depth-|sync_fds| ops; the syncs go with
    // the last round, drained behind its writes.
    size_t i = 0;
    do {
      size_t room = depth_ - sync_fds.size();
      size_t n = std::min(room, ops.size() - i);
      bool last = i + n == ops.size();
      absl::Status s = Round(ops.subspan(i, n), last ? sync_fds : absl::Span<const int>());
      if (!s.ok()) return s;
      i += n;
    } while (i < ops.size());
    return absl::OkStatus();
  }

  absl::string_view name() const override { return "io_uring"; }

 private:
  absl::Status Round(absl::Span<const WriteOp> ops, absl::Span<const int> sync_fds) {
    for (size_t k = 0; k < ops.size(); ++k) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      io_uring_prep_writev(sqe, ops[k].fd, ops[k].iov.data(),
                           static_cast<unsigned>(ops[k].iov.size()), ops[k].offset);
      io_uring_sqe_set_data64(sqe, k);
    }
    for (int fd : sync_fds) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
      sqe->flags |= IOSQE_IO_DRAIN;
      io_uring_sqe_set_data64(sqe, UINT64_MAX);
    }
    unsigned want = static_cast<unsigned>(ops.size() + sync_fds.size());
    int rc = io_uring_submit_and_wait(&ring_, want);
    if (rc < 0) return ErrnoStatus(-rc, "io_uring_submit_and_wait");
    absl::Status status;
    std::vector<std::pair<size_t, size_t>> short_writes;
    for (unsigned got = 0; got < want; ++got) {
      io_uring_cqe* cqe = nullptr;
      rc = io_uring_wait_cqe(&ring_, &cqe);
      if (rc < 0) return ErrnoStatus(-rc, "io_uring_wait_cqe");
      uint64_t tag = io_uring_cqe_get_data64(cqe);
      int res = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      if (res < 0) {
        if (status.ok()) {
          status = ErrnoStatus(-res, tag == UINT64_MAX ? "io_uring fdatasync" : "io_uring writev");
        }
      } else if (tag != UINT64_MAX && static_cast<size_t>(res) < OpBytes(ops[tag])) {
        short_writes.emplace_back(tag, static_cast<size_t>(res));
      }
    }
    if (!status.ok()) return status;
    if (!short_writes.empty()) return FinishShortWrites(ops, short_writes, sync_fds);
    return absl::OkStatus();
  }

  // A short write (rare: signals, nearly full disks) is finished with
  // pwritev, and the syncs, which ran before it completed, run again.
  absl::Status FinishShortWrites(absl::Span<const WriteOp> ops,
                                 const std::vector<std::pair<size_t, size_t>>& sw,
                                 absl::Span<const int> sync_fds) {
    for (const auto& [k, done] : sw) {
      absl::Status s = PwriteRemainder(ops[k], done);
      if (!s.ok()) return s;
    }
    for (int fd : sync_fds) {
      if (fdatasync(fd) != 0) return ErrnoStatus(errno, "fdatasync");
    }
    return absl::OkStatus();
  }

  unsigned depth_;
  bool initialized_ = false;
  io_uring ring_{};
};

}  // namespace

absl::StatusOr<std::unique_ptr<FileWriter>> NewUringFileWriter(unsigned depth) {
  auto w = std::make_unique<UringFileWriter>(depth);
  absl::Status s = w->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<FileWriter>(std::move(w));
}

}  // namespace custody
