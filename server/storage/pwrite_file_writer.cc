#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/storage/file_writer.h"

namespace custody {

absl::Status PwriteRemainder(const WriteOp& op, size_t done) {
  std::vector<iovec> iov = op.iov;
  size_t idx = 0;
  uint64_t off = op.offset + done;
  while (idx < iov.size() && done >= iov[idx].iov_len) {
    done -= iov[idx].iov_len;
    ++idx;
  }
  while (idx < iov.size()) {
    iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + done;
    iov[idx].iov_len -= done;
    done = 0;
    ssize_t n = pwritev(op.fd, iov.data() + idx, static_cast<int>(iov.size() - idx),
                        static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "pwritev");
    }
    if (n == 0) return ErrnoStatus(ENOSPC, "pwritev wrote nothing");
    off += static_cast<uint64_t>(n);
    size_t left = static_cast<size_t>(n);
    while (idx < iov.size() && left >= iov[idx].iov_len) {
      left -= iov[idx].iov_len;
      ++idx;
    }
    done = left;
  }
  return absl::OkStatus();
}

namespace {

class PwriteFileWriter : public FileWriter {
 public:
  absl::Status WriteAndSync(absl::Span<const WriteOp> ops,
                            absl::Span<const int> sync_fds) override {
    for (const WriteOp& op : ops) {
      absl::Status s = PwriteRemainder(op, 0);
      if (!s.ok()) return s;
    }
    for (int fd : sync_fds) {
      if (fdatasync(fd) != 0) return ErrnoStatus(errno, "fdatasync");
    }
    return absl::OkStatus();
  }
  absl::string_view name() const override { return "pwrite"; }
};

}  // namespace

std::unique_ptr<FileWriter> NewPwriteFileWriter() { return std::make_unique<PwriteFileWriter>(); }

}  // namespace custody
