// Batched positional writes followed by fdatasync: the I/O under volumes.
#ifndef CUSTODY_SERVER_STORAGE_FILE_WRITER_H_
#define CUSTODY_SERVER_STORAGE_FILE_WRITER_H_

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/files.h"  // ErrnoStatus

namespace custody {

// One positional write of several buffers.
struct WriteOp {
  int fd = -1;
  uint64_t offset = 0;
  std::vector<iovec> iov;
};

// Writes a batch of ops, then makes them durable with fdatasync on each of
// `sync_fds`. Returns OK only when every byte was written and synced; on
// error the bytes written are unspecified (the caller truncates). ENOSPC
// maps to RESOURCE_EXHAUSTED. Not thread-safe: one writer per thread.
class FileWriter {
 public:
  virtual ~FileWriter() = default;
  virtual absl::Status WriteAndSync(absl::Span<const WriteOp> ops,
                                    absl::Span<const int> sync_fds) = 0;
  // "io_uring" or "pwrite".
  virtual absl::string_view name() const = 0;
};

// The plain pwritev + fdatasync writer.
std::unique_ptr<FileWriter> NewPwriteFileWriter();

// An io_uring writer: every write and the fdatasyncs of a batch go in one
// submission (fsyncs drain after the writes). Fails with UNAVAILABLE when
// io_uring cannot be set up here.
absl::StatusOr<std::unique_ptr<FileWriter>> NewUringFileWriter(unsigned depth);

// Writes whatever part of `op` is left after `done` bytes with pwritev.
absl::Status PwriteRemainder(const WriteOp& op, size_t done);

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_FILE_WRITER_H_
