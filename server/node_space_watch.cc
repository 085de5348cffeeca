#include "server/node_space_watch.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/log.h"
#include "common/units.h"
#include "server/audit/audited_write.h"
#include "server/storage/committer.h"
#include "server/storage/index.h"

namespace custody {

std::string ReserveFile(const std::string& dir) { return dir + "/reserve.bin"; }

absl::Status EnsureReserveFile(const std::string& dir) {
  const std::string path = ReserveFile(dir);
  if (access(path.c_str(), F_OK) == 0) return absl::OkStatus();
  absl::StatusOr<uint64_t> free = FreeBytes(dir);
  if (!free.ok() || *free < kHardReserveBytes + kReserveFileBytes) return absl::OkStatus();
  std::string tmp = path + ".new";
  unlink(tmp.c_str());  // left by a process that died while allocating it
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("creating ", tmp, ": ", strerror(errno)));
  int err = posix_fallocate(fd, 0, static_cast<off_t>(kReserveFileBytes));
  if (err == 0 && fsync(fd) != 0) err = errno;
  close(fd);
  if (err != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("allocating ", path, ": ", strerror(err ? err : errno)));
  }
  LOG(INFO) << "allocated the reserve file " << path << " (" << FormatBytes(kReserveFileBytes)
            << ", released to start on a full disk)";
  return absl::OkStatus();
}

bool ReleaseReserveFile(const std::string& dir) {
  if (unlink(ReserveFile(dir).c_str()) != 0) return false;
  LOG(WARNING) << "released the reserve file " << ReserveFile(dir) << " ("
               << FormatBytes(kReserveFileBytes) << ") to open the index on a full disk";
  return true;
}

SpaceWatch::SpaceWatch(Index* index, AuditTrail* trail, std::string dir, uint64_t soft_reserve,
                       std::function<void()> when_room, absl::Duration interval)
    : index_(index),
      trail_(trail),
      dir_(std::move(dir)),
      soft_reserve_(std::max(soft_reserve, kHardReserveBytes)),
      when_room_(std::move(when_room)),
      interval_(interval),
      thread_([this] { Loop(); }) {}

SpaceWatch::~SpaceWatch() {
  stop_.Notify();
  thread_.join();
}

std::string SpaceWatch::ReadOnlyReason() const {
  const std::string goes_on = "reads, the audit trail and status go on";
  if (std::optional<std::string> error = index_->BackgroundError()) {
    return absl::StrCat("the index stopped taking writes (", *error, "); ", goes_on,
                        "; free space on the disk of ", dir_,
                        " and the node resumes by itself within seconds (or restart it)");
  }
  absl::StatusOr<uint64_t> free = FreeBytes(dir_);
  if (free.ok() && *free < soft_reserve_) {
    return absl::StrCat("disk full: ", FormatBytes(*free), " free, below the reserve of ",
                        FormatBytes(soft_reserve_), "; no new data is taken; ", goes_on,
                        "; it takes data again by itself when space returns");
  }
  return "";
}

void SpaceWatch::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(interval_)) Tick();
}

void SpaceWatch::Tick() {
  absl::Status reserve = EnsureReserveFile(dir_);
  if (!reserve.ok()) LOG(WARNING) << reserve;
  if (trail_->held() > 0) {
    absl::Status s = trail_->Flush();
    if (s.ok()) LOG(INFO) << "the audit events held for lack of space are written";
  }
  absl::StatusOr<uint64_t> free = FreeBytes(dir_);
  if (!free.ok() || *free < kHardReserveBytes) return;
  if (index_->BackgroundError()) {
    absl::Status s = index_->Resume();
    LOG(INFO) << "asked the stopped index to resume (" << FormatBytes(*free)
              << " free): " << (s.ok() ? "it takes writes again" : s.ToString());
    if (!s.ok()) return;
  }
  if (when_room_) when_room_();
}

}  // namespace custody
