#include "common/files.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace custody {

absl::Status WriteBytes(int fd, absl::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus(errno, absl::StrCat("writing ", path));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

namespace {

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  absl::Status s = WriteBytes(fd, data, path);
  if (!s.ok()) return s;
  if (fsync(fd) != 0) return ErrnoStatus(errno, absl::StrCat("syncing ", path));
  return absl::OkStatus();
}

}  // namespace

absl::Status ErrnoStatus(int err, absl::string_view what) {
  std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(absl::StrCat("disk full: ", msg));
    case ENOENT:
      return absl::NotFoundError(msg);
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::Status SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("opening ", dir));
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoStatus(err, absl::StrCat("syncing ", dir));
  return absl::OkStatus();
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "reading " + path);
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    snprintf(mode, sizeof mode, "%03o", st.st_mode & 0777);
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is a private key but its mode is ", mode,
                     ": group or others may read it. Keep it to its owner (chmod 600 ", path, ")"));
  }
  return ReadFileToString(path);
}

absl::StatusOr<int> RestrictToOwner(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus(ec.value(), "creating " + dir);
  int changed = 0;
  auto restrict = [&changed](const std::filesystem::path& p, mode_t keep) -> absl::Status {
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) return ErrnoStatus(errno, "reading the mode of " + p.string());
    if (S_ISLNK(st.st_mode) || (st.st_mode & 077) == 0) return absl::OkStatus();
    if (chmod(p.c_str(), st.st_mode & keep) != 0) {
      return ErrnoStatus(errno, "keeping " + p.string() + " to its owner");
    }
    ++changed;
    return absl::OkStatus();
  };
  absl::Status s = restrict(dir, 0700);
  if (!s.ok()) return s;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    s = restrict(it->path(), 0700);
    if (!s.ok()) return s;
  }
  if (ec) return ErrnoStatus(ec.value(), "walking " + dir);
  return changed;
}

absl::Status WriteNewFile(const std::string& path, absl::string_view data, int mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat(path, " exists; custody never overwrites a file"));
    }
    return ErrnoStatus(errno, absl::StrCat("creating ", path));
  }
  absl::Status s = WriteAll(fd, data, path);
  close(fd);
  if (!s.ok()) unlink(path.c_str());
  return s;
}

absl::Status CopyTailToNewFile(int src_fd, uint64_t from, const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("creating ", path));
  std::string buf(1 << 20, '\0');
  absl::Status s;
  for (uint64_t off = from; s.ok();) {
    ssize_t n = pread(src_fd, buf.data(), buf.size(), static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = ErrnoStatus(errno, absl::StrCat("reading the bytes to copy to ", path));
    if (n <= 0) break;
    s = WriteBytes(fd, absl::string_view(buf.data(), static_cast<size_t>(n)), path);
    off += static_cast<uint64_t>(n);
  }
  if (s.ok() && fsync(fd) != 0) s = ErrnoStatus(errno, absl::StrCat("syncing ", path));
  close(fd);
  if (s.ok()) s = SyncDir(DirName(path));
  if (!s.ok()) unlink(path.c_str());  // the source is untouched: nothing is lost
  return s;
}

absl::Status ReplaceFile(const std::string& path, absl::string_view data, int mode) {
  std::string tmp = absl::StrCat(path, ".tmp");
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("creating ", tmp));
  absl::Status s = WriteAll(fd, data, tmp);
  close(fd);
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    s = ErrnoStatus(errno, absl::StrCat("renaming ", tmp, " to ", path));
  }
  if (!s.ok()) {
    unlink(tmp.c_str());
    return s;
  }
  return SyncDir(DirName(path));
}

absl::Status MoveNoReplace(const std::string& from, const std::string& to) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
    return ErrnoStatus(errno, absl::StrCat("moving ", from, " to ", to));
  }
  absl::Status s = SyncDir(DirName(to));
  if (s.ok() && DirName(to) != DirName(from)) s = SyncDir(DirName(from));
  return s;
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<bool> PathExists(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return ErrnoStatus(errno, "looking for " + path);
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return ErrnoStatus(ec.value(), "listing " + dir);
  return names;
}

absl::Status RenamePath(const std::string& from, const std::string& to) {
  if (rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("renaming ", from, " to ", to));
  }
  return SyncDir(DirName(to));
}

absl::StatusOr<uint64_t> FreeBytes(const std::string& path) {
  struct statvfs st;
  if (statvfs(path.c_str(), &st) != 0)
    return ErrnoStatus(errno, "reading the free space of " + path);
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

}  // namespace custody
