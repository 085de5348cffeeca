#include "replication/offsite/offsite_peer_service.h"

#include "common/status_macros.h"
#include "common/unary.h"

namespace custody {

namespace {

absl::StatusOr<std::vector<Digest>> Keys(const internal::v1::PeerKeys& keys) {
  std::vector<Digest> out;
  for (const std::string& raw : keys.keys()) {
    absl::StatusOr<Digest> d = Digest::FromRaw(raw);
    if (!d.ok()) return absl::InvalidArgumentError("a blob key must be a raw 32-byte SHA-256");
    out.push_back(*d);
  }
  return out;
}

}  // namespace

template <typename Work>
grpc::ServerUnaryReactor* OffsitePeerService::Run(grpc::CallbackServerContext* ctx,
                                                  ThreadPool* pool, const std::string& subject,
                                                  Work work) {
  return RunUnary(ctx, pool, [this, ctx, subject, work = std::move(work)]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal who, node_->Authorize(*ctx, Action::kOffsitePeer, subject));
    return work(who.name());
  });
}

grpc::ServerUnaryReactor* OffsitePeerService::Offer(grpc::CallbackServerContext* ctx,
                                                    const v1::Snapshot* request,
                                                    internal::v1::OfferResponse* response) {
  return Run(ctx, node_->read_pool(), "offsite", [=, this](const std::string& who) {
    ASSIGN_OR_RETURN(*response, vault_.Offer(*request, who));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OffsitePeerService::FindMissing(grpc::CallbackServerContext* ctx,
                                                          const internal::v1::PeerKeys* request,
                                                          internal::v1::PeerKeys* response) {
  return Run(ctx, node_->read_pool(), "offsite", [=, this](const std::string&) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Digest> keys, Keys(*request));
    ASSIGN_OR_RETURN(std::vector<Digest> missing, vault_.FindMissing(keys));
    for (const Digest& d : missing) response->add_keys(std::string(d.Raw()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OffsitePeerService::PutBlob(grpc::CallbackServerContext* ctx,
                                                      const internal::v1::PeerPutRequest* request,
                                                      internal::v1::PeerPutResponse* response) {
  return RunUnaryAsync(ctx, node_->stream_pool(), [=, this](auto finish) {
    absl::StatusOr<Digest> key;
    std::optional<ChunkPosition> at;
    absl::Status s = CheckPut(*ctx, *request, &key, &at);
    if (!s.ok()) return finish(s);
    // The request is this call's until it finishes: its bytes move on to the
    // store instead of being copied.
    std::string data =
        std::move(*const_cast<internal::v1::PeerPutRequest*>(request)->mutable_data());
    vault_.Put(*key, std::move(data), at, [response, finish](absl::StatusOr<bool> held) {
      if (held.ok()) response->set_already_held(*held);
      finish(held.status());
    });
  });
}

absl::Status OffsitePeerService::CheckPut(const grpc::CallbackServerContext& ctx,
                                          const internal::v1::PeerPutRequest& request,
                                          absl::StatusOr<Digest>* key,
                                          std::optional<ChunkPosition>* at) {
  RETURN_IF_ERROR(node_->Authorize(ctx, Action::kOffsitePeer, "offsite").status());
  *key = Digest::FromRaw(request.key());
  if (!key->ok()) return absl::InvalidArgumentError("a blob key must be a raw 32-byte SHA-256");
  if (!request.object().empty()) {
    absl::StatusOr<Digest> object = Digest::FromRaw(request.object());
    absl::StatusOr<Digest> manifest = Digest::FromRaw(request.manifest());
    if (!object.ok() || !manifest.ok()) {
      return absl::InvalidArgumentError("object and manifest must be raw 32-byte SHA-256s");
    }
    *at = ChunkPosition{*object, *manifest, request.index()};
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* OffsitePeerService::GetBlob(grpc::CallbackServerContext* ctx,
                                                      const internal::v1::PeerGetRequest* request,
                                                      internal::v1::PeerGetResponse* response) {
  return Run(ctx, node_->fetch_pool(), "offsite", [=, this](const std::string&) -> absl::Status {
    absl::StatusOr<Digest> key = Digest::FromRaw(request->key());
    if (!key.ok()) return absl::InvalidArgumentError("a blob key must be a raw 32-byte SHA-256");
    ASSIGN_OR_RETURN(*response->mutable_data(), vault_.Get(*key));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OffsitePeerService::Seal(grpc::CallbackServerContext* ctx,
                                                   const v1::SnapshotRef* request,
                                                   v1::Receipt* response) {
  return Run(ctx, node_->maintenance_pool(), "snapshot:" + request->id(),
             [=, this](const std::string& who) -> absl::Status {
               ASSIGN_OR_RETURN(*response, vault_.Seal(request->id(), who));
               return absl::OkStatus();
             });
}

grpc::ServerUnaryReactor* OffsitePeerService::Verify(grpc::CallbackServerContext* ctx,
                                                     const v1::SnapshotRef* request,
                                                     v1::OffsiteVerifyReport* response) {
  return Run(ctx, node_->maintenance_pool(), "offsite",
             [=, this](const std::string& who) -> absl::Status {
               ASSIGN_OR_RETURN(*response, vault_.Verify(request->id(), who));
               return absl::OkStatus();
             });
}

grpc::ServerUnaryReactor* OffsitePeerService::Challenge(
    grpc::CallbackServerContext* ctx, const internal::v1::ChallengeRequest* request,
    internal::v1::ChallengeResponse* response) {
  return Run(ctx, node_->maintenance_pool(), "offsite",
             [=, this](const std::string&) -> absl::Status {
               ASSIGN_OR_RETURN(*response, vault_.Challenge(*request));
               return absl::OkStatus();
             });
}

grpc::ServerUnaryReactor* OffsitePeerService::ListSealed(
    grpc::CallbackServerContext* ctx, const v1::ListSnapshotsRequest*,
    internal::v1::PeerSnapshotsResponse* response) {
  return Run(ctx, node_->read_pool(), "offsite", [=, this](const std::string&) -> absl::Status {
    ASSIGN_OR_RETURN(*response, vault_.ListSealed());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OffsitePeerService::Status(grpc::CallbackServerContext* ctx,
                                                     const internal::v1::PeerStatusRequest*,
                                                     internal::v1::PeerStatus* response) {
  return Run(ctx, node_->read_pool(), "offsite", [=, this](const std::string&) -> absl::Status {
    ASSIGN_OR_RETURN(*response, vault_.Status());
    return absl::OkStatus();
  });
}

}  // namespace custody
