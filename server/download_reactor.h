// The reactor of one Download stream (server-streaming).
#ifndef CUSTODY_SERVER_DOWNLOAD_REACTOR_H_
#define CUSTODY_SERVER_DOWNLOAD_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "custody/v1/custody.grpc.pb.h"
#include "server/node.h"

namespace custody {

// Sends an object in messages of up to 1 MiB. Each chunk is read and
// verified (VerifyingBlobStore) on the fetch pool up to two chunks ahead of
// the one being sent, so at most three chunks per stream are in memory. A chunk
// that fails verification ends the stream with DATA_LOSS: the client never
// receives bytes that do not match their hash.
class DownloadReactor : public grpc::ServerWriteReactor<v1::DownloadResponse> {
 public:
  DownloadReactor(Node* node, const v1::DownloadRequest* request, std::string peer);

  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  struct State;
  struct Fetch;
  void Start(const v1::DownloadRequest& request);
  void SendNext();
  std::shared_ptr<Fetch> StartFetch(int chunk);
  void FetchAhead();
  void FinishWith(const absl::Status& s);

  Node* node_;
  std::string peer_;
  std::shared_ptr<State> state_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_DOWNLOAD_REACTOR_H_
