// The Live service (custody/v1/live.proto, doc/live.md): live uploads from
// cameras in the field, over server/objects/live_upload.h.
//
// Who may do what: streaming needs role device, ingest or officer
// (Action::kLiveUpload); only the identity that opened an upload appends to
// it, and a device identity ("user:CAM-7") only to uploads of its own
// device. Query and List need to see objects (kReadMetadata), a truncated
// seal an archivist or an admin (kLiveSeal). Every refusal is audited.
#ifndef CUSTODY_SERVER_SERVICES_LIVE_SERVICE_H_
#define CUSTODY_SERVER_SERVICES_LIVE_SERVICE_H_

#include "custody/v1/live.grpc.pb.h"
#include "server/node.h"

namespace custody {

// Thread-safe.
class LiveService final : public v1::Live::CallbackService {
 public:
  explicit LiveService(Node* node) : node_(node) {}

  grpc::ServerBidiReactor<v1::LiveMessage, v1::LiveAck>* Stream(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* ctx, const v1::LiveRef* req,
                                  v1::LiveInfo* out) override;
  grpc::ServerUnaryReactor* Seal(grpc::CallbackServerContext* ctx, const v1::LiveSealRequest* req,
                                 v1::LiveInfo* out) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* ctx, const v1::LiveListRequest* req,
                                 v1::LiveListResponse* out) override;
  grpc::ServerUnaryReactor* Find(grpc::CallbackServerContext* ctx, const v1::LiveFindRequest* req,
                                 v1::LiveListResponse* out) override;

 private:
  Node* node_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_LIVE_SERVICE_H_
