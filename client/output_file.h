// The output file of a get: written around the page cache (O_DIRECT) where
// the file system allows it, by a thread of its own, so that a large download
// neither fills the page cache nor waits for its pages (issue 29). The last
// partial block goes through the cache. Nothing here overwrites: the file is
// created new.
#ifndef CUSTODY_CLIENT_OUTPUT_FILE_H_
#define CUSTODY_CLIENT_OUTPUT_FILE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace custody {

// Append and Finish are called by one thread, in order. A write error is
// returned by the Append or Finish after it. The destructor closes the file
// (without syncing it) and ends the thread.
class OutputFile {
 public:
  // Creates `path` (O_EXCL: ALREADY_EXISTS if it is there).
  static absl::StatusOr<std::unique_ptr<OutputFile>> Create(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  absl::Status Append(absl::string_view data);
  // Writes what is left and makes the whole file durable (fsync).
  absl::Status Finish();
  bool direct() const { return direct_fd_ >= 0; }

 private:
  struct Block;  // an aligned buffer and where it goes
  OutputFile(std::string path, int fd, int direct_fd);
  void Run();
  absl::Status Hand(std::unique_ptr<Block> b);  // to the writer; waits for room
  absl::Status WriteError();

  const std::string path_;
  const int fd_;         // through the page cache: the tail, and everything without O_DIRECT
  const int direct_fd_;  // O_DIRECT, or -1
  uint64_t offset_ = 0;  // of the block being filled
  std::unique_ptr<Block> filling_;

  absl::Mutex mu_;
  std::deque<std::unique_ptr<Block>> queue_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;  // the writer holds a block
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;  // only with direct_fd_
};

}  // namespace custody

#endif  // CUSTODY_CLIENT_OUTPUT_FILE_H_
