// CustodyService's cluster map RPCs (doc/etcd.md, "The cluster map"):
// GetClusterMap reads the map from etcd (or, without etcd, answers the
// node's own); ApplyClusterMap installs the next version in etcd, with a
// compare-and-swap, and records who did it.
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unary.h"
#include "server/services/custody_service.h"

namespace custody {

namespace {

void Fill(const EtcdMapStore::Stored& s, const Node& node, v1::ClusterMapResponse* out) {
  out->set_map_json(s.json);
  out->set_version(s.map.version());
  out->set_source("etcd");
  out->set_running_version(node.cluster().version());
}

}  // namespace

grpc::ServerUnaryReactor* CustodyService::GetClusterMap(grpc::CallbackServerContext* ctx,
                                                        const v1::GetClusterMapRequest*,
                                                        v1::ClusterMapResponse* response) {
  return RunUnary(ctx, node_->read_pool(), [this, ctx, response]() -> absl::Status {
    RETURN_IF_ERROR(node_->Authorize(*ctx, Action::kStatus).status());
    response->set_running_version(node_->cluster().version());
    if (node_->map_store() == nullptr) {
      response->set_map_json(node_->options().cluster_json);
      response->set_version(node_->cluster().version());
      response->set_source("file");
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(std::optional<EtcdMapStore::Stored> s, node_->map_store()->Get());
    if (!s) return absl::NotFoundError("etcd holds no cluster map yet");
    Fill(*s, *node_, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustodyService::ApplyClusterMap(grpc::CallbackServerContext* ctx,
                                                          const v1::ApplyClusterMapRequest* req,
                                                          v1::ClusterMapResponse* response) {
  return RunUnary(ctx, node_->maintenance_pool(), [this, ctx, req, response]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal p, node_->Authorize(*ctx, Action::kMaintain, "node"));
    if (node_->map_store() == nullptr) {
      return absl::FailedPreconditionError(
          "this cluster runs without etcd: its map is the file each node was started with; "
          "copy the new one to every node and restart them (doc/cluster.md)");
    }
    const uint64_t before = node_->cluster().version();
    absl::StatusOr<EtcdMapStore::Stored> s = node_->map_store()->Apply(req->map_json());
    v1::AuditEvent e =
        NewEvent(s.ok() ? "cluster.map-applied" : "cluster.map-refused", "node", p.name());
    AddDetail(&e, "running_version", absl::StrCat(before));
    AddDetail(&e, "map_sha256", Digest::Of(req->map_json()).Hex());
    if (s.ok()) AddDetail(&e, "version", absl::StrCat(s->map.version()));
    if (!s.ok()) AddDetail(&e, "reason", std::string(s.status().message()));
    RETURN_IF_ERROR(node_->Record(std::move(e)));
    RETURN_IF_ERROR(s.status());
    Fill(*s, *node_, response);
    return absl::OkStatus();
  });
}

}  // namespace custody
