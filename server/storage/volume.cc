#include "server/storage/volume.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/storage/file_writer.h"

namespace custody {

namespace {

bool IsAllZero(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

}  // namespace
namespace {

absl::Status PreadFull(int fd, char* buf, size_t n, uint64_t off, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(fd, buf + done, n - done, static_cast<off_t>(off + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("reading ", path));
    }
    if (r == 0) {
      return absl::DataLossError(
          absl::StrCat(path, ": entry at ", off, " extends past the end of the file"));
    }
    done += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Volume>> Volume::Create(const std::string& path, uint32_t id,
                                                       uint32_t chunk_size) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError(absl::StrCat(path, " exists"));
    return ErrnoStatus(errno, absl::StrCat("creating ", path));
  }
  std::unique_ptr<Volume> v(new Volume);
  v->path_ = path;
  v->fd_ = fd;
  v->header_.volume_id = id;
  v->header_.chunk_size = chunk_size;
  v->header_.created_unix_nanos = absl::ToUnixNanos(absl::Now());
  char buf[kFirstEntryOffset] = {};
  v->header_.EncodeTo(buf);
  WriteOp op{fd, 0, {{buf, sizeof(buf)}}};
  RETURN_IF_ERROR(PwriteRemainder(op, 0));
  if (fdatasync(fd) != 0) return ErrnoStatus(errno, absl::StrCat("syncing ", path));
  RETURN_IF_ERROR(SyncDir(DirName(path)));
  v->set_end(kFirstEntryOffset);
  RETURN_IF_ERROR(v->OpenWriter());
  v->OpenDirectReader();
  return v;
}

absl::StatusOr<std::unique_ptr<Volume>> Volume::Open(const std::string& path, bool writable) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("opening ", path));
  std::unique_ptr<Volume> v(new Volume);
  v->path_ = path;
  v->fd_ = fd;
  char buf[VolumeHeader::kSize];
  absl::Status s = PreadFull(fd, buf, sizeof(buf), 0, path);
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": volume header is torn"));
  }
  ASSIGN_OR_RETURN(v->header_, VolumeHeader::Decode(buf));
  v->set_end(kFirstEntryOffset);
  if (writable) RETURN_IF_ERROR(v->OpenWriter());
  v->OpenDirectReader();
  return v;
}

// Appends bypass the page cache where the file system allows (O_DIRECT):
// on the machines we measured, that doubles durable write throughput and
// saves the CPU of copying into the cache. tmpfs and some others refuse it.
absl::Status Volume::OpenWriter() {
  write_fd_ = open(path_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  if (write_fd_ >= 0) {
    direct_ = true;
    return absl::OkStatus();
  }
  write_fd_ = open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  if (write_fd_ < 0) return ErrnoStatus(errno, absl::StrCat("opening ", path_));
  return absl::OkStatus();
}

// Large entries (chunks) are read with O_DIRECT too, where the file system
// allows: a buffered read of bytes that were written around the cache costs
// the kernel a copy out of freshly filled cache pages, which on the machines
// we measured took more CPU than hashing them (doc/storage_format.md).
void Volume::OpenDirectReader() {
  direct_read_fd_ = open(path_.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
}

namespace {

// A kAlign-aligned buffer per thread, grown to the largest direct read.
struct AlignedBuffer {
  char* data = nullptr;
  size_t size = 0;
  ~AlignedBuffer() { std::free(data); }
  char* Get(size_t n) {
    if (n > size) {
      std::free(data);
      size = AlignUp(n);
      data = static_cast<char*>(std::aligned_alloc(kAlign, size));
      if (data == nullptr) size = 0;
    }
    return data;
  }
};

}  // namespace

bool Volume::ReadDirect(uint64_t off, size_t length, char* head, std::string* payload) const {
  if (direct_read_fd_ < 0 || off % kAlign != 0) return false;
  thread_local AlignedBuffer buffer;
  const size_t n = EntryHeader::kSize + length;
  const size_t span = AlignUp(n);
  char* buf = buffer.Get(span);
  if (buf == nullptr) return false;
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(direct_read_fd_, buf + done, span - done, static_cast<off_t>(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;  // an unaligned short read fails the next one
    done += static_cast<size_t>(r);
  }
  std::memcpy(head, buf, EntryHeader::kSize);
  payload->assign(buf + EntryHeader::kSize, length);
  return true;
}

Volume::~Volume() {
  if (fd_ >= 0) close(fd_);
  if (direct_read_fd_ >= 0) close(direct_read_fd_);
  if (write_fd_ >= 0) close(write_fd_);
}

uint64_t Volume::FileSize() const {
  struct stat st;
  if (fstat(fd_, &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

absl::StatusOr<std::pair<EntryHeader, std::string>> Volume::ReadEntry(const Location& loc) const {
  constexpr uint32_t kDirectFrom = 256 << 10;  // smaller entries: the cache serves
  char head[EntryHeader::kSize];
  std::string payload;
  if (loc.length < kDirectFrom || !ReadDirect(loc.offset, loc.length, head, &payload)) {
    payload.assign(EntryHeader::kSize + loc.length, '\0');
    RETURN_IF_ERROR(PreadFull(fd_, payload.data(), payload.size(), loc.offset, path_));
    std::memcpy(head, payload.data(), EntryHeader::kSize);
    payload.erase(0, EntryHeader::kSize);
  }
  absl::StatusOr<EntryHeader> h = EntryHeader::Decode(head);
  if (!h.ok()) {
    return absl::DataLossError(absl::StrCat(path_, " at ", loc.offset, ": ", h.status().message()));
  }
  if (h->length != loc.length) {
    return absl::DataLossError(
        absl::StrCat(path_, " at ", loc.offset, ": entry length disagrees with the index"));
  }
  return std::make_pair(*h, std::move(payload));
}

absl::StatusOr<std::string> Volume::Read(const Location& loc, EntryType type,
                                         const Digest& hash) const {
  ASSIGN_OR_RETURN(auto entry, ReadEntry(loc));
  if (entry.first.type != type || entry.first.hash != hash) {
    return absl::DataLossError(absl::StrCat(path_, " at ", loc.offset, ": entry is not ",
                                            hash.ToString(), " (index and volume disagree)"));
  }
  return std::move(entry.second);
}

absl::StatusOr<Volume::ScanResult> Volume::Scan(uint64_t from, const Visitor& visit,
                                                const ChunkSealer* sealer) const {
  ScanResult r;
  uint64_t size = FileSize();
  uint64_t pos = from;
  std::string payload;
  while (pos < size) {
    auto fail = [&](std::string why) {
      r.valid_end = pos;
      r.clean = false;
      r.problem = std::move(why);
      return r;
    };
    if (size - pos < EntryHeader::kSize) return fail("torn entry header");
    if (pos % kAlign != 0) return fail("entry is not aligned");
    char hb[EntryHeader::kSize];
    RETURN_IF_ERROR(PreadFull(fd_, hb, sizeof(hb), pos, path_));
    absl::StatusOr<EntryHeader> h = EntryHeader::Decode(hb);
    if (!h.ok()) return fail(std::string(h.status().message()));
    if (h->length > kMaxPayload) return fail("entry length is implausible");
    if (size - pos < EntryHeader::Span(h->length)) return fail("torn entry");
    payload.resize(h->length);
    RETURN_IF_ERROR(PreadFull(fd_, payload.data(), h->length, pos + EntryHeader::kSize, path_));
    if (IsChunkEntry(h->type) && IsAllZero(payload) && Digest::Of(payload) != h->hash) {
      ++r.purged;  // a purged chunk: its header stays, its bytes are gone
    } else if (h->type == EntryType::kSealedChunk || h->type == EntryType::kSealedManifest) {
      // Its header names the chunk or object; the GCM tag checks the payload.
      if (sealer == nullptr) {
        return absl::FailedPreconditionError(absl::StrCat(
            path_, " holds entries encrypted at rest: start the node with --data-key"));
      }
      absl::StatusOr<std::string> plain = sealer->Open(h->hash, payload);
      if (!plain.ok()) return fail("sealed entry fails authentication");
      if (h->type == EntryType::kSealedManifest) payload = *std::move(plain);  // visit reads it
    } else if (Digest::Of(payload) != h->hash) {
      return fail("entry payload does not match its hash");
    }
    if (!IsChunkEntry(h->type) || !IsAllZero(payload) || Digest::Of(payload) == h->hash) {
      RETURN_IF_ERROR(visit(*h, Location{id(), pos, h->length}, payload));
    }
    pos += EntryHeader::Span(h->length);
  }
  r.valid_end = pos;
  return r;
}

absl::Status Volume::PunchPayload(const Location& loc) {
  const off_t from = static_cast<off_t>(loc.offset + EntryHeader::kSize);
  int fd = open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  bool made_writable = false;
  if (fd < 0 && errno == EACCES) {  // a sealed volume (0444): writable for this only
    made_writable = chmod(path_.c_str(), 0644) == 0;
    fd = open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  }
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("opening ", path_, " to purge"));
  int rc = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, from, loc.length);
  if (rc != 0 && errno == EOPNOTSUPP) {  // no holes on this filesystem: zeros instead
    std::string zeros(loc.length, '\0');
    rc =
        pwrite(fd, zeros.data(), zeros.size(), from) == static_cast<ssize_t>(zeros.size()) ? 0 : -1;
  }
  int err = errno;
  if (rc == 0 && fdatasync(fd) != 0) {
    rc = -1;
    err = errno;
  }
  close(fd);
  if (made_writable) chmod(path_.c_str(), 0444);
  if (rc != 0) return ErrnoStatus(err, absl::StrCat("purging ", loc.length, " bytes of ", path_));
  return absl::OkStatus();
}

absl::Status Volume::Sync() const {
  if (fdatasync(fd_) != 0) return ErrnoStatus(errno, absl::StrCat("syncing ", path_));
  return absl::OkStatus();
}

absl::Status Volume::Seal() {
  if (write_fd_ >= 0) {
    RETURN_IF_ERROR(Sync());
    close(write_fd_);
    write_fd_ = -1;
  }
  if (fchmod(fd_, 0444) != 0) return ErrnoStatus(errno, absl::StrCat("sealing ", path_));
  return absl::OkStatus();
}

}  // namespace custody
