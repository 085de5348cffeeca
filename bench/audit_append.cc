#include "bench/audit_append.h"

#include <atomic>
#include <cstdio>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace custody {

v1::AuditEvent SampleEvent(uint64_t i) {
  v1::AuditEvent e = NewEvent("object.read", Digest::Of(std::to_string(i % 1000)).ToString());
  AddDetail(&e, "peer", "ipv4:127.0.0.1:40000");
  AddDetail(&e, "offset", "0");
  return e;
}

double AppendEvents(Node* node, uint64_t n, uint64_t window) {
  std::atomic<uint64_t> done{0};
  absl::Notification all;
  absl::Mutex mu;
  absl::Time t0 = absl::Now();
  for (uint64_t i = 0; i < n; ++i) {
    if (window > 0) {  // wait until fewer than `window` are in flight
      absl::MutexLock l(&mu);
      auto room = [&, i] { return i - done.load() < window; };
      mu.Await(absl::Condition(&room));
    }
    WriteRequest r;
    r.index_only = true;
    r.on_index = [node, i](rocksdb::WriteBatch* b, const WriteResult&) {
      node->audit()->Append(b, SampleEvent(i));
    };
    r.done = [&, n](absl::StatusOr<WriteResult> res) {
      if (!res.ok()) std::fprintf(stderr, "append failed: %s\n", res.status().ToString().c_str());
      bool last;
      {
        absl::MutexLock l(&mu);  // wakes the window's wait
        last = ++done == n;
      }
      if (last) all.Notify();
    };
    node->committer()->Submit(std::move(r));
  }
  all.WaitForNotification();
  return static_cast<double>(n) / absl::ToDoubleSeconds(absl::Now() - t0);
}

}  // namespace custody
