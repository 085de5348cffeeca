#include "replication/offsite/offsite_client.h"

#include <grpcpp/generic/generic_stub.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "common/zero_copy_message.h"
#include "replication/cluster/peer_client.h"

namespace custody {

namespace {

std::unique_ptr<grpc::ClientContext> Context(absl::Duration deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(DeadlineAfter(deadline));
  return ctx;
}

}  // namespace

OffsiteClient::OffsiteClient(const std::string& address,
                             std::shared_ptr<grpc::ChannelCredentials> credentials, int channels)
    : address_(address) {
  for (int i = 0; i < std::max(1, channels); ++i) {
    grpc::ChannelArguments args = PeerChannelArguments();
    args.SetInt("custody.offsite_channel", i);  // distinct args: a connection of its own
    std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(address, credentials, args);
    channels_.push_back(channel);
    stubs_.push_back(internal::v1::OffsitePeer::NewStub(channel));
    generic_.push_back(std::make_unique<grpc::GenericStub>(channel));
  }
}

absl::StatusOr<internal::v1::OfferResponse> OffsiteClient::Offer(const v1::Snapshot& s) {
  internal::v1::OfferResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stubs_[0]->Offer(Context(absl::Minutes(10)).get(), s, &resp)));
  return resp;
}

absl::Status OffsiteClient::Connect(absl::Duration timeout) {
  for (auto& ch : channels_) ch->GetState(/*try_to_connect=*/true);  // all at once
  auto deadline = DeadlineAfter(timeout);
  for (size_t i = 0; i < channels_.size(); ++i) {
    if (!channels_[i]->WaitForConnected(deadline)) {
      return absl::UnavailableError(absl::StrCat("connection ", i + 1, " of ", channels_.size(),
                                                 " to the offsite peer ", address_,
                                                 " not up after ", absl::FormatDuration(timeout)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Digest>> OffsiteClient::FindMissing(const std::vector<Digest>& keys) {
  std::vector<Digest> out;
  for (size_t i = 0; i < keys.size(); i += 4096) {
    internal::v1::PeerKeys req, resp;
    for (size_t j = i; j < std::min(keys.size(), i + 4096); ++j) {
      req.add_keys(std::string(keys[j].Raw()));
    }
    RETURN_IF_ERROR(
        FromGrpcStatus(stubs_[0]->FindMissing(Context(absl::Minutes(5)).get(), req, &resp)));
    for (const std::string& raw : resp.keys()) {
      ASSIGN_OR_RETURN(Digest d, Digest::FromRaw(raw));
      out.push_back(d);
    }
  }
  return out;
}

// Sent as a ByteBuffer whose data slice owns `data`: no copy of the bytes.
absl::StatusOr<bool> OffsiteClient::Put(int c, const Digest& key, std::string data,
                                        const std::optional<ChunkPosition>& at) {
  internal::v1::PeerPutRequest rest;
  rest.set_key(std::string(key.Raw()));
  if (at) {
    rest.set_object(std::string(at->object.Raw()));
    rest.set_manifest(std::string(at->manifest.Raw()));
    rest.set_index(at->index);
  }
  static const std::string kMethod =
      absl::StrCat("/", internal::v1::OffsitePeer::service_full_name(), "/PutBlob");
  grpc::ByteBuffer request =
      MessageWithBytes(rest, internal::v1::PeerPutRequest::kDataFieldNumber, std::move(data));
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  std::unique_ptr<grpc::ClientContext> ctx = Context(absl::Minutes(2));
  generic_[c % generic_.size()]->UnaryCall(ctx.get(), kMethod, grpc::StubOptions(), &request,
                                           &response, [&](grpc::Status s) {
                                             status = std::move(s);
                                             done.Notify();
                                           });
  done.WaitForNotification();
  RETURN_IF_ERROR(FromGrpcStatus(status));
  internal::v1::PeerPutResponse resp;
  RETURN_IF_ERROR(ParseByteBuffer(&response, &resp));
  return resp.already_held();
}

absl::StatusOr<std::string> OffsiteClient::Get(int c, const Digest& key) {
  internal::v1::PeerGetRequest req;
  req.set_key(std::string(key.Raw()));
  internal::v1::PeerGetResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(
      stubs_[c % stubs_.size()]->GetBlob(Context(absl::Minutes(2)).get(), req, &resp)));
  return std::move(*resp.mutable_data());
}

absl::StatusOr<v1::Receipt> OffsiteClient::Seal(const std::string& snapshot_id) {
  v1::SnapshotRef req;
  req.set_id(snapshot_id);
  v1::Receipt resp;
  RETURN_IF_ERROR(FromGrpcStatus(stubs_[0]->Seal(Context(absl::Hours(6)).get(), req, &resp)));
  return resp;
}

absl::StatusOr<v1::OffsiteVerifyReport> OffsiteClient::Verify(const std::string& snapshot_id) {
  v1::SnapshotRef req;
  req.set_id(snapshot_id);
  v1::OffsiteVerifyReport resp;
  RETURN_IF_ERROR(FromGrpcStatus(stubs_[0]->Verify(Context(absl::Hours(6)).get(), req, &resp)));
  return resp;
}

absl::StatusOr<internal::v1::ChallengeResponse> OffsiteClient::Challenge(
    const internal::v1::ChallengeRequest& req, absl::Duration deadline) {
  internal::v1::ChallengeResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stubs_[0]->Challenge(Context(deadline).get(), req, &resp)));
  return resp;
}

absl::StatusOr<internal::v1::PeerSnapshotsResponse> OffsiteClient::ListSealed() {
  internal::v1::PeerSnapshotsResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(
      stubs_[0]->ListSealed(Context(absl::Minutes(1)).get(), v1::ListSnapshotsRequest(), &resp)));
  return resp;
}

absl::StatusOr<internal::v1::PeerStatus> OffsiteClient::Status() {
  internal::v1::PeerStatus resp;
  RETURN_IF_ERROR(FromGrpcStatus(stubs_[0]->Status(Context(absl::Minutes(1)).get(),
                                                   internal::v1::PeerStatusRequest(), &resp)));
  return resp;
}

}  // namespace custody
