#include "client/output_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace custody {
namespace {
constexpr size_t kAlign = 4096;
constexpr size_t kBlockBytes = 8 << 20;  // one write of the writer thread
constexpr size_t kQueued = 2;            // blocks waiting for it

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}
}  // namespace

struct OutputFile::Block {
  Block() : data(static_cast<char*>(std::aligned_alloc(kAlign, kBlockBytes))) {}
  ~Block() { std::free(data); }
  char* const data;
  size_t size = 0;
  uint64_t offset = 0;
};

absl::StatusOr<std::unique_ptr<OutputFile>> OutputFile::Create(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) {
    return absl::AlreadyExistsError(absl::StrCat(path, " exists"));
  }
  if (fd < 0) return Errno(absl::StrCat("cannot create ", path));
  // A second descriptor of the same file, around the cache; a file system
  // that refuses O_DIRECT (tmpfs) gets every byte through `fd`.
  int direct_fd = open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  return std::unique_ptr<OutputFile>(new OutputFile(path, fd, direct_fd));
}

OutputFile::OutputFile(std::string path, int fd, int direct_fd)
    : path_(std::move(path)), fd_(fd), direct_fd_(direct_fd) {
  if (direct_fd_ >= 0) writer_ = std::thread([this] { Run(); });
}

OutputFile::~OutputFile() {
  {
    absl::MutexLock l(&mu_);
    closing_ = true;
  }
  if (writer_.joinable()) writer_.join();
  if (direct_fd_ >= 0) close(direct_fd_);
  close(fd_);
}

void OutputFile::Run() {
  for (;;) {
    std::unique_ptr<Block> b;
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(
          +[](OutputFile* o)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(o->mu_) { return !o->queue_.empty() || o->closing_; },
          this));
      if (queue_.empty()) return;
      b = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    absl::Status s;
    for (size_t done = 0; done < b->size && s.ok();) {
      ssize_t n =
          pwrite(direct_fd_, b->data + done, b->size - done, static_cast<off_t>(b->offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) s = Errno(absl::StrCat("writing ", path_));
      if (n > 0) done += static_cast<size_t>(n);
    }
    absl::MutexLock l(&mu_);
    busy_ = false;
    if (error_.ok()) error_ = s;
  }
}

absl::Status OutputFile::WriteError() {
  absl::MutexLock l(&mu_);
  return error_;
}

absl::Status OutputFile::Hand(std::unique_ptr<Block> b) {
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](OutputFile* o) ABSL_EXCLUSIVE_LOCKS_REQUIRED(o->mu_) {
        return o->queue_.size() < kQueued || !o->error_.ok();
      },
      this));
  if (!error_.ok()) return error_;
  queue_.push_back(std::move(b));
  return absl::OkStatus();
}

absl::Status OutputFile::Append(absl::string_view data) {
  if (direct_fd_ < 0) return WriteBytes(fd_, data, path_);
  while (!data.empty()) {
    if (!filling_) {
      filling_ = std::make_unique<Block>();
      if (filling_->data == nullptr) return absl::ResourceExhaustedError("out of memory");
      filling_->offset = offset_;
    }
    size_t n = std::min(data.size(), kBlockBytes - filling_->size);
    std::memcpy(filling_->data + filling_->size, data.data(), n);
    filling_->size += n;
    data.remove_prefix(n);
    if (filling_->size == kBlockBytes) {
      offset_ += kBlockBytes;
      if (absl::Status s = Hand(std::move(filling_)); !s.ok()) return s;
    }
  }
  return WriteError();
}

absl::Status OutputFile::Finish() {
  if (direct_fd_ >= 0 && filling_) {
    // The whole blocks of what is left around the cache, the rest through it.
    std::unique_ptr<Block> last = std::move(filling_);
    const size_t aligned = last->size / kAlign * kAlign;
    absl::string_view tail(last->data + aligned, last->size - aligned);
    std::string rest(tail);
    const uint64_t tail_at = last->offset + aligned;
    last->size = aligned;
    if (aligned > 0) {
      if (absl::Status s = Hand(std::move(last)); !s.ok()) return s;
    }
    if (!rest.empty()) {
      if (lseek(fd_, static_cast<off_t>(tail_at), SEEK_SET) < 0) {
        return Errno(absl::StrCat("seeking in ", path_));
      }
      if (absl::Status s = WriteBytes(fd_, rest, path_); !s.ok()) return s;
    }
  }
  {
    absl::MutexLock l(&mu_);
    mu_.Await(absl::Condition(
        +[](OutputFile* o) ABSL_EXCLUSIVE_LOCKS_REQUIRED(o->mu_) {
          return (o->queue_.empty() && !o->busy_) || !o->error_.ok();
        },
        this));
    if (!error_.ok()) return error_;
  }
  if (fsync(fd_) != 0) return Errno(absl::StrCat("syncing ", path_));
  return absl::OkStatus();
}

}  // namespace custody
