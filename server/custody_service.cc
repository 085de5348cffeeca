#include "server/custody_service.h"

#include "common/grpc_status.h"
#include "server/download_reactor.h"
#include "server/upload_reactor.h"

namespace custody {
namespace {

// Runs `work` on `pool` and finishes the unary call with its status.
template <typename Work>
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* ctx, ThreadPool* pool,
                                   Work work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  pool->Schedule([reactor, work = std::move(work)]() mutable {
    reactor->Finish(ToGrpcStatus(work()));
  });
  return reactor;
}

}  // namespace

grpc::ServerReadReactor<v1::UploadRequest>* CustodyService::Upload(
    grpc::CallbackServerContext*, v1::UploadResponse* response) {
  return new UploadReactor(node_, response);
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
    grpc::CallbackServerContext*, const v1::DownloadRequest* request) {
  return new DownloadReactor(node_, request);
}

grpc::ServerUnaryReactor* CustodyService::Stat(grpc::CallbackServerContext* ctx,
                                               const v1::StatRequest* request,
                                               v1::ObjectInfo* response) {
  return RunUnary(ctx, node_->read_pool(), [this, request, response]() -> absl::Status {
    absl::StatusOr<Digest> id = Digest::Parse(request->id());
    if (!id.ok()) return id.status();
    absl::StatusOr<v1::ObjectInfo> info = node_->objects()->Stat(*id);
    if (!info.ok()) return info.status();
    *response = *info;
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustodyService::List(grpc::CallbackServerContext* ctx,
                                               const v1::ListRequest* request,
                                               v1::ListResponse* response) {
  return RunUnary(ctx, node_->read_pool(), [this, request, response]() -> absl::Status {
    absl::StatusOr<v1::ListResponse> r =
        node_->objects()->List(request->page_token(), request->page_size());
    if (!r.ok()) return r.status();
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
    return absl::OkStatus();
  });
}

}  // namespace custody
