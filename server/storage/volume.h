// One append-only volume file of entries. See doc/storage_format.md.
#ifndef CUSTODY_SERVER_STORAGE_VOLUME_H_
#define CUSTODY_SERVER_STORAGE_VOLUME_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/files.h"  // SyncDir
#include "server/storage/chunk_sealer.h"
#include "server/storage/volume_format.h"

namespace custody {

// Reads are thread-safe (pread). Appending is done by one writer (the
// Committer), which advances end() after a durable write.
class Volume {
 public:
  // Largest payload accepted when scanning (guards against garbage lengths).
  static constexpr uint32_t kMaxPayload = 256u << 20;

  // Creates `path` with a header; the header and the directory entry are
  // synced. ALREADY_EXISTS if the file exists.
  static absl::StatusOr<std::unique_ptr<Volume>> Create(const std::string& path, uint32_t id,
                                                        uint32_t chunk_size);
  // Opens an existing volume; writable volumes are opened read-write.
  static absl::StatusOr<std::unique_ptr<Volume>> Open(const std::string& path, bool writable);
  ~Volume();

  uint32_t id() const { return header_.volume_id; }
  uint32_t chunk_size() const { return header_.chunk_size; }
  // For reads (buffered).
  int fd() const { return fd_; }
  // For appends: O_DIRECT where the file system supports it (direct()), so
  // writes must be kAlign-aligned in memory, offset and length. -1 once the
  // volume is sealed or if it was opened read-only.
  int write_fd() const { return write_fd_; }
  bool direct() const { return direct_; }
  const std::string& path() const { return path_; }
  // Bytes of the file that hold entries (or the header) known to be valid.
  uint64_t end() const { return end_.load(std::memory_order_acquire); }
  void set_end(uint64_t e) { end_.store(e, std::memory_order_release); }
  uint64_t FileSize() const;

  // Reads the entry at `loc`, checking its header against `type`, `hash` and
  // loc.length. Does not hash the payload (the verifying layer does).
  // The entry at `loc` whatever its type: its header and payload. Checks the
  // header and its length against loc.length.
  absl::StatusOr<std::pair<EntryHeader, std::string>> ReadEntry(const Location& loc) const;
  absl::StatusOr<std::string> Read(const Location& loc, EntryType type, const Digest& hash) const;

  struct ScanResult {
    uint64_t valid_end = 0;  // end of the last valid entry
    bool clean = true;       // false if bytes after valid_end are not an entry
    std::string problem;     // what was wrong at valid_end, if !clean
    uint64_t purged = 0;     // entries whose payload was purged (all zeros)
  };
  // Visits each entry from `from` on, verifying the payload hash, until the
  // end of the file or the first entry that is torn or invalid. An entry with
  // a valid header whose payload is all zeros and does not match was purged
  // (doc/records.md): it is counted and skipped, not visited.
  using Visitor =
      std::function<absl::Status(const EntryHeader&, const Location&, const std::string& payload)>;
  // Sealed chunks are checked by opening them with `sealer`; a volume that
  // holds any cannot be scanned without one (FAILED_PRECONDITION).
  absl::StatusOr<ScanResult> Scan(uint64_t from, const Visitor& visit,
                                  const ChunkSealer* sealer = nullptr) const;

  // Removes the payload of the entry at `loc` from the disk (a hole, read
  // back as zeros); its header stays, so scans still find the next entry.
  absl::Status PunchPayload(const Location& loc);

  // Makes every byte of the file durable, whoever wrote it (fdatasync).
  absl::Status Sync() const;

  // Syncs the file, closes the write descriptor and makes the file
  // read-only (mode 0444).
  absl::Status Seal();

 private:
  Volume() = default;
  absl::Status OpenWriter();
  void OpenDirectReader();
  // Reads the entry at `off` (kAlign-aligned) with a payload of `length`
  // bytes with O_DIRECT: its header to `head`, its payload to `payload`;
  // false if that path cannot (the caller reads buffered).
  bool ReadDirect(uint64_t off, size_t length, char* head, std::string* payload) const;

  std::string path_;
  int fd_ = -1;
  int write_fd_ = -1;
  int direct_read_fd_ = -1;  // O_DIRECT, for large entries; -1 if refused
  bool direct_ = false;
  VolumeHeader header_;
  std::atomic<uint64_t> end_{0};
};

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_VOLUME_H_
