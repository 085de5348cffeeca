// Small durable-file helpers shared by the node, the CLI and the ingest
// daemon. None of them ever replaces a file it did not say it replaces.
#ifndef CUSTODY_COMMON_FILES_H_
#define CUSTODY_COMMON_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace custody {

// A failed system call as a status: RESOURCE_EXHAUSTED for a full disk,
// NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED where they fit, else INTERNAL.
absl::Status ErrnoStatus(int err, absl::string_view what);

// fsyncs a directory, so that entries created or renamed in it last.
absl::Status SyncDir(const std::string& dir);

// The folder part of `path` ("." when it has none).
std::string DirName(const std::string& path);

// The whole file at `path` (small files: keys, certificates); NOT_FOUND
// naming the path if it cannot be read.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// The whole of a private key file: FAILED_PRECONDITION naming the path and
// its mode when group or others may read or write it (chmod 600 mends it).
absl::StatusOr<std::string> ReadPrivateFile(const std::string& path);

// Keeps folder `dir` (created if missing) and everything under it to its
// owner: folders 0700, files without group or other bits. Returns how many
// entries it had to restrict.
absl::StatusOr<int> RestrictToOwner(const std::string& dir);

// Writes all of `data` to `fd` (a file or a pipe), retrying short writes and
// EINTR; the error names `path`. No sync.
absl::Status WriteBytes(int fd, absl::string_view data, const std::string& path);

// Creates `path` with `data` and syncs it; ALREADY_EXISTS if it exists.
absl::Status WriteNewFile(const std::string& path, absl::string_view data, int mode = 0644);

// Creates `path` with the bytes of `src_fd` from offset `from` to its end,
// streamed (1 MiB at a time), and syncs it and its folder; ALREADY_EXISTS if
// `path` exists. On failure `path` is removed again.
absl::Status CopyTailToNewFile(int src_fd, uint64_t from, const std::string& path);

// Replaces `path` with `data` atomically (temporary file, fsync, rename,
// directory fsync). Only for the program's own state files.
absl::Status ReplaceFile(const std::string& path, absl::string_view data, int mode = 0644);

// Whether `path` exists (any kind of entry). A failure to look (EACCES,
// EIO) is an error, never "absent". None of these helpers throws.
absl::StatusOr<bool> PathExists(const std::string& path);

// The names of the entries of folder `dir`, in no order.
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir);

// The bytes free for an unprivileged writer on the file system of `path`.
absl::StatusOr<uint64_t> FreeBytes(const std::string& path);

// Renames `from` to `to` (replacing `to` as rename(2) does: only for paths
// the caller owns, like moving a folder aside under a fresh name), and syncs
// `to`'s folder.
absl::Status RenamePath(const std::string& from, const std::string& to);

// Renames `from` to `to` only if `to` does not exist (ALREADY_EXISTS
// otherwise), and syncs both folders.
absl::Status MoveNoReplace(const std::string& from, const std::string& to);

}  // namespace custody

#endif  // CUSTODY_COMMON_FILES_H_
