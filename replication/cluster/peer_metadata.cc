#include "replication/cluster/peer_metadata.h"

#include "absl/strings/str_cat.h"
#include "common/tls.h"

namespace custody {
namespace {

std::string Header(const grpc::CallbackServerContext* ctx, const char* name) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(name);
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

}  // namespace

void AddPeerMetadata(grpc::ClientContext* ctx, const ClusterMap& map, const std::string& node_id) {
  ctx->AddMetadata(kMapVersionHeader, std::to_string(map.version()));
  ctx->AddMetadata(kNodeIdHeader, node_id);
}

std::string PeerNodeId(const grpc::CallbackServerContext* ctx) {
  return Header(ctx, kNodeIdHeader);
}

absl::Status CheckPeer(const grpc::CallbackServerContext* ctx, const ClusterMap& map) {
  if (IsTls(*ctx)) {  // the caller must prove it is the node it names
    std::string claimed = PeerNodeId(ctx), proven = PeerIdentity(*ctx);
    if (proven != "node:" + claimed || map.Find(claimed) == nullptr) {
      return absl::PermissionDeniedError(absl::StrCat(
          "node-to-node calls need a node certificate of this cluster for a node in its map; the "
          "caller names node \"",
          claimed, "\" and its certificate says \"", proven.empty() ? "(none)" : proven, "\""));
    }
  }
  std::string theirs = Header(ctx, kMapVersionHeader);
  std::string mine = std::to_string(map.version());
  if (theirs == mine) return absl::OkStatus();
  std::string who = PeerNodeId(ctx);
  return absl::FailedPreconditionError(
      absl::StrCat("cluster map version mismatch: ", who.empty() ? "the caller" : "node " + who,
                   theirs.empty() ? " sent no map version" : " runs map version " + theirs,
                   " but this node runs version ", mine, "; give every node the same map"));
}

}  // namespace custody
