// The reactor of one Download stream (server-streaming).
#ifndef CUSTODY_SERVER_SERVICES_DOWNLOAD_REACTOR_H_
#define CUSTODY_SERVER_SERVICES_DOWNLOAD_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "custody/v1/custody.grpc.pb.h"
#include "server/node.h"
#include "server/services/playbacks.h"

namespace custody {

// Sends an object, or the range of it asked for, in messages of up to 1 MiB. Each chunk is read and
// verified (VerifyingBlobStore) on the fetch pool up to two chunks ahead of
// the one being sent, so at most three chunks per stream are in memory. A chunk
// that fails verification ends the stream with DATA_LOSS: the client never
// receives bytes that do not match their hash.
class DownloadReactor : public grpc::ServerWriteReactor<v1::DownloadResponse> {
 public:
  // `ctx` names the caller, who needs a live access grant for the object.
  // A read of a playback already on record in `playbacks` is not recorded
  // again.
  DownloadReactor(Node* node, Playbacks* playbacks, grpc::CallbackServerContext* ctx,
                  const v1::DownloadRequest* request, std::string peer);

  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  struct State;
  struct Fetch;
  void Start(const v1::DownloadRequest& request);
  // The caller may view `id`, whose manifest is `m` (a live access grant
  // that fits its agency and classification), or why not; fills the read
  // event with the viewer, the reason and the grant.
  absl::Status CheckGrant(const v1::Principal& caller, const Digest& id,
                          const v1::ObjectManifest& m, const std::string& purpose,
                          v1::AuditEvent* read_event);
  void SendNext();
  std::shared_ptr<Fetch> StartFetch(int chunk);
  void FetchAhead();
  void FinishWith(const absl::Status& s);

  Node* node_;
  Playbacks* playbacks_;
  grpc::CallbackServerContext* ctx_;  // valid until OnDone
  std::string peer_;
  std::shared_ptr<State> state_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_DOWNLOAD_REACTOR_H_
