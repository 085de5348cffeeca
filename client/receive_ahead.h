// Receives a download stream on a thread of its own, a few messages ahead of
// the caller, so that the socket is drained while the caller writes and
// hashes what came (issue 29: a get that read, wrote and hashed in turn left
// both cores half idle).
#ifndef CUSTODY_CLIENT_RECEIVE_AHEAD_H_
#define CUSTODY_CLIENT_RECEIVE_AHEAD_H_

#include <grpcpp/support/sync_stream.h>

#include <cstddef>
#include <deque>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "custody/v1/custody.grpc.pb.h"

namespace custody {

// Reads `reader` until its stream ends, keeping at most `max_ahead` messages
// not yet taken. Next() is called by one thread. Destroy it before calling
// reader->Finish(); to stop early, cancel the call's context first (the
// destructor then returns once the thread has seen the end).
class ReceiveAhead {
 public:
  ReceiveAhead(grpc::ClientReader<v1::DownloadResponse>* reader, size_t max_ahead);
  ~ReceiveAhead();
  ReceiveAhead(const ReceiveAhead&) = delete;
  ReceiveAhead& operator=(const ReceiveAhead&) = delete;

  // The next message, or nullopt once the stream has ended (Finish says how).
  std::optional<v1::DownloadResponse> Next();

 private:
  void Run();

  grpc::ClientReader<v1::DownloadResponse>* const reader_;
  const size_t max_ahead_;
  absl::Mutex mu_;
  std::deque<v1::DownloadResponse> queue_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;     // the reader saw the end
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // the taker is gone
  std::thread thread_;                          // last: started once the rest is ready
};

}  // namespace custody

#endif  // CUSTODY_CLIENT_RECEIVE_AHEAD_H_
