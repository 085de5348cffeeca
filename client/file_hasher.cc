#include "client/file_hasher.h"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace custody {
namespace {
constexpr size_t kReadBytes = 1 << 20;
}  // namespace

FileHasher::FileHasher(int fd, uint64_t size) : thread_([this, fd, size] { Run(fd, size); }) {}

FileHasher::~FileHasher() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  thread_.join();
}

bool FileHasher::stopping() const {
  absl::MutexLock l(&mu_);
  return stop_;
}

void FileHasher::Run(int fd, uint64_t size) {
  Sha256 hash;
  std::string buf(kReadBytes, '\0');
  absl::StatusOr<Digest> result = absl::CancelledError("the hash was stopped");
  uint64_t pos = 0;
  while (pos < size && !stopping()) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - pos));
    ssize_t n = pread(fd, buf.data(), want, static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      result = absl::DataLossError("the file changed while it was being hashed (it got shorter)");
      break;
    }
    hash.Update(buf.data(), static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
  }
  if (pos == size) result = hash.Finish();
  absl::MutexLock l(&mu_);
  result_ = std::move(result);
}

std::optional<absl::StatusOr<Digest>> FileHasher::TryGet() const {
  absl::MutexLock l(&mu_);
  return result_;
}

absl::StatusOr<Digest> FileHasher::Wait() const {
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](const std::optional<absl::StatusOr<Digest>>* r) { return r->has_value(); }, &result_));
  return *result_;
}

}  // namespace custody
