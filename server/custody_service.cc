#include "server/custody_service.h"

#include "server/unary.h"
#include "absl/strings/str_cat.h"
#include "server/download_reactor.h"
#include "server/upload_reactor.h"

namespace custody {

grpc::ServerReadReactor<v1::UploadRequest>* CustodyService::Upload(
    grpc::CallbackServerContext* ctx, v1::UploadResponse* response) {
  return new UploadReactor(node_, response, ctx->peer());
}

grpc::ServerUnaryReactor* CustodyService::QueryUpload(grpc::CallbackServerContext* ctx,
                                                      const v1::QueryUploadRequest* request,
                                                      v1::QueryUploadResponse* response) {
  return RunUnary(ctx, node_->read_pool(), [this, request, response]() -> absl::Status {
    absl::StatusOr<v1::QueryUploadResponse> r = node_->uploads()->Query(request->upload_id());
    if (!r.ok()) return r.status();
    *response = *r;
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::DownloadResponse>* CustodyService::Download(
    grpc::CallbackServerContext* ctx, const v1::DownloadRequest* request) {
  return new DownloadReactor(node_, request, ctx->peer());
}

grpc::ServerUnaryReactor* CustodyService::Stat(grpc::CallbackServerContext* ctx,
                                               const v1::StatRequest* request,
                                               v1::ObjectInfo* response) {
  std::string peer = ctx->peer();
  return RunUnary(ctx, node_->read_pool(), [this, request, response, peer]() -> absl::Status {
    absl::StatusOr<Digest> id = Digest::Parse(request->id());
    if (!id.ok()) return id.status();
    absl::StatusOr<v1::ObjectInfo> info = node_->objects()->Stat(*id);
    if (!info.ok()) return info.status();
    v1::AuditEvent e = NewEvent("object.stat", info->id());
    AddDetail(&e, "peer", peer);
    absl::Status s = node_->Record(std::move(e));  // no facts shown unaudited
    if (!s.ok()) return s;
    *response = *info;
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustodyService::List(grpc::CallbackServerContext* ctx,
                                               const v1::ListRequest* request,
                                               v1::ListResponse* response) {
  std::string peer = ctx->peer();
  return RunUnary(ctx, node_->read_pool(), [this, request, response, peer]() -> absl::Status {
    absl::StatusOr<v1::ListResponse> r =
        node_->objects()->List(request->page_token(), request->page_size());
    if (!r.ok()) return r.status();
    v1::AuditEvent e = NewEvent("objects.listed", "node");
    AddDetail(&e, "peer", peer);
    AddDetail(&e, "after", request->page_token());
    AddDetail(&e, "count", absl::StrCat(r->objects_size()));
    absl::Status s = node_->Record(std::move(e));
    if (!s.ok()) return s;
    *response = *r;
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustodyService::NodeStatus(grpc::CallbackServerContext* ctx,
                                                     const v1::NodeStatusRequest*,
                                                     v1::NodeStatusResponse* response) {
  return RunUnary(ctx, node_->read_pool(), [this, response]() -> absl::Status {
    response->set_node_id(node_->node_id());
    response->set_chunk_size(node_->chunk_size());
    response->set_io_backend(std::string(node_->io_backend()));
    response->set_objects(node_->objects()->ApproximateCount());
    response->set_volume_bytes(node_->volumes()->TotalBytes());
    response->set_free_bytes(node_->FreeBytes());
    const ClusterMap& map = node_->cluster();
    response->set_map_version(map.version());
    response->set_replication_factor(map.replication_factor());
    if (const NodeInfo* me = map.Find(node_->node_id())) response->set_zone(me->zone);
    return absl::OkStatus();
  });
}

}  // namespace custody
