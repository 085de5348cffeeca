#include "ingest/watcher.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/log.h"

namespace custody::ingest {

Watcher::Watcher() {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) LOG(WARNING) << "inotify unavailable (" << std::strerror(errno) << "): polling";
}

Watcher::~Watcher() {
  if (fd_ >= 0) close(fd_);
}

void Watcher::Watch(const std::vector<std::string>& folders) {
  if (fd_ < 0) return;
  constexpr uint32_t kEvents =
      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF;
  for (const std::string& f : folders) {
    if (watched_.count(f)) continue;
    if (inotify_add_watch(fd_, f.c_str(), kEvents) < 0) {
      LOG(WARNING) << "cannot watch " << f << ": " << std::strerror(errno) << "; polling it";
      continue;
    }
    watched_.insert(f);
  }
}

bool Watcher::Wait(absl::Duration timeout) {
  if (fd_ < 0) {
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(timeout));
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  int n = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (n <= 0) return false;
  alignas(inotify_event) char buf[16384];
  bool self_gone = false;
  for (ssize_t r; (r = read(fd_, buf, sizeof(buf))) > 0;) {
    for (ssize_t i = 0; i < r;) {
      const inotify_event* e = reinterpret_cast<const inotify_event*>(buf + i);
      if (e->mask & (IN_DELETE_SELF | IN_IGNORED)) self_gone = true;
      i += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  if (self_gone) watched_.clear();  // re-added on the next Watch (a folder came back)
  return true;
}

}  // namespace custody::ingest
