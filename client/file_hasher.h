// The SHA-256 of a file, computed on a thread of its own while the file is
// being sent, so that a put does not wait a whole pass over the file before
// its first byte goes out (issue 29).
#ifndef CUSTODY_CLIENT_FILE_HASHER_H_
#define CUSTODY_CLIENT_FILE_HASHER_H_

#include <cstdint>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"

namespace custody {

// Hashes bytes [0, size) of `fd` (read with pread, so the caller may read the
// same descriptor meanwhile) and keeps the result. The descriptor must stay
// open until the hasher is destroyed. Thread-safe; the destructor stops the
// thread early if it is still hashing.
class FileHasher {
 public:
  FileHasher(int fd, uint64_t size);
  ~FileHasher();
  FileHasher(const FileHasher&) = delete;
  FileHasher& operator=(const FileHasher&) = delete;

  // The hash if it is done (or why it failed), without waiting.
  std::optional<absl::StatusOr<Digest>> TryGet() const;
  // Waits for the hash.
  absl::StatusOr<Digest> Wait() const;

 private:
  void Run(int fd, uint64_t size);
  bool stopping() const;

  mutable absl::Mutex mu_;
  std::optional<absl::StatusOr<Digest>> result_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace custody

#endif  // CUSTODY_CLIENT_FILE_HASHER_H_
