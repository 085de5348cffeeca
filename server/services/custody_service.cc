#include "server/services/custody_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unary.h"
#include "server/services/cluster_probe.h"
#include "server/services/download_reactor.h"
#include "server/services/upload_reactor.h"

namespace custody {

grpc::ServerReadReactor<v1::UploadRequest>* CustodyService::Upload(grpc::CallbackServerContext* ctx,
                                                                   v1::UploadResponse* response) {
  return new UploadReactor(node_, ctx, response, ctx->peer());
}

grpc::ServerUnaryReactor* CustodyService::QueryUpload(grpc::CallbackServerContext* ctx,
                                                      const v1::QueryUploadRequest* request,
                                                      v1::QueryUploadResponse* response) {
  return RunUnary(ctx, node_->read_pool(), [this, ctx, request, response]() -> absl::Status {
    RETURN_IF_ERROR(node_->Authorize(*ctx, Action::kPut).status());
    absl::StatusOr<v1::QueryUploadResponse> r = node_->uploads()->Query(request->upload_id());
    if (!r.ok()) return r.status();
    *response = *r;
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::DownloadResponse>* CustodyService::Download(
    grpc::CallbackServerContext* ctx, const v1::DownloadRequest* request) {
  return new DownloadReactor(node_, &playbacks_, ctx, request, ctx->peer());
}

grpc::ServerUnaryReactor* CustodyService::Stat(grpc::CallbackServerContext* ctx,
                                               const v1::StatRequest* request,
                                               v1::ObjectInfo* response) {
  std::string peer = ctx->peer();
  return RunUnary(ctx, node_->read_pool(), [this, ctx, request, response, peer]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal who, node_->Authorize(*ctx, Action::kReadMetadata));
    absl::StatusOr<Digest> id = Digest::Parse(request->id());
    if (!id.ok()) return id.status();
    absl::StatusOr<v1::ObjectManifest> m = node_->VisibleManifest(who, *id, Action::kReadMetadata);
    if (!m.ok()) return m.status();
    absl::StatusOr<v1::ObjectInfo> info = ObjectStore::ToInfo(*m);
    if (!info.ok()) return info.status();
    v1::AuditEvent e = NewEvent("object.stat", info->id(), who.name());
    AddDetail(&e, "peer", peer);
    absl::Status s = node_->Record(std::move(e));  // no facts shown unaudited
    if (!s.ok()) return s;
    *response = *info;
    // Its SM3: kept from before, or computed now when asked for.
    absl::StatusOr<std::optional<std::string>> kept = sm3_.Kept(info->id());
    if (!kept.ok()) return kept.status();
    if (kept->has_value()) {
      response->set_sm3(**kept);
    } else if (request->sm3()) {
      ASSIGN_OR_RETURN(std::string sm3, sm3_.Compute(*m, who.name()));
      response->set_sm3(sm3);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustodyService::List(grpc::CallbackServerContext* ctx,
                                               const v1::ListRequest* request,
                                               v1::ListResponse* response) {
  std::string peer = ctx->peer();
  return RunUnary(ctx, node_->read_pool(), [this, ctx, request, response, peer]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal who, node_->Authorize(*ctx, Action::kReadMetadata));
    absl::StatusOr<v1::ListResponse> r =
        node_->objects()->List(request->page_token(), request->page_size());
    if (!r.ok()) return r.status();
    // Objects above the caller's clearance are not listed (the page may be
    // shorter; its token still says where the next one starts).
    auto* objects = r->mutable_objects();
    objects->erase(std::remove_if(objects->begin(), objects->end(),
                                  [&](const v1::ObjectInfo& o) {
                                    auto l = o.metadata().find("classification");
                                    return !Cleared(who, l == o.metadata().end() ? "" : l->second);
                                  }),
                   objects->end());
    v1::AuditEvent e = NewEvent("objects.listed", "node", who.name());
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
  return RunUnary(ctx, node_->read_pool(), [this, ctx, response]() -> absl::Status {
    RETURN_IF_ERROR(node_->Authorize(*ctx, Action::kStatus).status());
    FillNodeStatus(node_, attester_, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustodyService::ClusterStatus(grpc::CallbackServerContext* ctx,
                                                        const v1::ClusterStatusRequest*,
                                                        v1::ClusterStatusResponse* response) {
  return RunUnary(ctx, node_->read_pool(), [this, ctx, response]() -> absl::Status {
    RETURN_IF_ERROR(node_->Authorize(*ctx, Action::kStatus).status());
    *response = ProbeCluster(node_, attester_);
    return absl::OkStatus();
  });
}

}  // namespace custody
