// Wakes the ingest loop when something changes in the watched folders
// (inotify). Where inotify is unavailable it just waits: the loop polls.
// Not thread-safe.
#ifndef CUSTODY_INGEST_WATCHER_H_
#define CUSTODY_INGEST_WATCHER_H_

#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace custody::ingest {

class Watcher {
 public:
  Watcher();
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Adds the folders not watched yet.
  void Watch(const std::vector<std::string>& folders);
  // Waits up to `timeout` for a change in a watched folder; returns whether
  // one came.
  bool Wait(absl::Duration timeout);
  bool using_inotify() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::set<std::string> watched_;
};

}  // namespace custody::ingest

#endif  // CUSTODY_INGEST_WATCHER_H_
