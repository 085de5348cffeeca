// The reactor of one Upload stream (client-streaming).
#ifndef CUSTODY_SERVER_SERVICES_UPLOAD_REACTOR_H_
#define CUSTODY_SERVER_SERVICES_UPLOAD_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "common/idle_watchdog.h"
#include "common/thread_pool.h"
#include "custody/v1/custody.grpc.pb.h"
#include "server/node.h"

namespace custody {

// Reads header, data..., finish. Every message is processed on a worker
// strand (hashing, and the blocking wait for durable chunks never run on a
// gRPC thread); the next read starts when the message is processed, which
// bounds memory per stream. Finish is called exactly once, from the strand.
class UploadReactor : public grpc::ServerReadReactor<v1::UploadRequest> {
 public:
  // `ctx` names the caller, who must be allowed to put footage.
  UploadReactor(Node* node, grpc::CallbackServerContext* ctx, v1::UploadResponse* response,
                std::string peer);

  void OnReadDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Whether `p` is cleared for the object `id` as the cluster holds it.
  bool StoredWithin(const v1::Principal& p, const std::string& id);
  struct State;
  void Process(bool ok);
  void Handle(v1::UploadRequest& req);
  // Authorizes the caller of header `h` and starts (or resumes) its upload.
  absl::Status Begin(const v1::UploadHeader& h);
  // Ends the stream at once if the cluster holds object `id` (the header's
  // sha256) within the caller's clearance; otherwise asks for the bytes.
  bool AnsweredFromDigest(const std::string& id);
  // FAILED_PRECONDITION if object `id`'s data was purged.
  absl::Status RefuseIfPurged(const std::string& id);
  void Answer(absl::StatusOr<v1::UploadResponse> r);
  void FinishWith(const absl::Status& s);
  void WatchForStalls(IdleWatchdog* watchdog);

  void RecordRefusal(const absl::Status& s);

  Node* node_;
  grpc::CallbackServerContext* ctx_;  // valid until OnDone
  v1::UploadResponse* response_;
  std::string peer_;
  std::shared_ptr<State> state_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_UPLOAD_REACTOR_H_
