// Whether a node takes new data, and what it does about a full disk
// (doc/usage.md, --min-free): it writes the audit events held for lack of
// space as soon as there is room, and asks an index that stopped on a
// background error to resume once the disk has room again.
#ifndef CUSTODY_SERVER_NODE_SPACE_WATCH_H_
#define CUSTODY_SERVER_NODE_SPACE_WATCH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace custody {

class AuditTrail;
class Index;

// The reserve file: DIR/reserve.bin of kReserveFileBytes, allocated while
// there is room, so that the hard reserve exists on disk even when another
// program fills it. A node that cannot open its index on a full disk
// releases it and opens (RocksDB writes a new log and a manifest edit at
// every open); SpaceWatch allocates it again when space returns.
inline constexpr uint64_t kReserveFileBytes = 16ull << 20;
std::string ReserveFile(const std::string& dir);
// Allocates the reserve file if it is missing and there is room for it and
// the hard reserve besides; OK when it cannot (a full disk).
absl::Status EnsureReserveFile(const std::string& dir);
// Deletes it; false when there was none.
bool ReleaseReserveFile(const std::string& dir);

// Thread-safe. Runs its own thread from construction to destruction.
class SpaceWatch {
 public:
  // `dir` is the data folder; `soft_reserve` the --min-free bytes;
  // `when_room` (optional) runs at each look that finds room above the hard
  // reserve (work a start on a full disk left undone).
  SpaceWatch(Index* index, AuditTrail* trail, std::string dir, uint64_t soft_reserve,
             std::function<void()> when_room = nullptr, absl::Duration interval = absl::Seconds(2));
  ~SpaceWatch();

  // "" when the node takes new data; else why not, what still works, and
  // what the operator can do.
  std::string ReadOnlyReason() const;

 private:
  void Loop();
  void Tick();  // one look: held events written, a stopped index resumed

  Index* index_;
  AuditTrail* trail_;
  const std::string dir_;
  const uint64_t soft_reserve_;
  const std::function<void()> when_room_;
  const absl::Duration interval_;
  absl::Notification stop_;
  std::thread thread_;  // last: started when the rest is set
};

}  // namespace custody

#endif  // CUSTODY_SERVER_NODE_SPACE_WATCH_H_
