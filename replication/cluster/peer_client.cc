#include "replication/cluster/peer_client.h"

#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "replication/cluster/peer_metadata.h"

namespace custody {

PeerClient::PeerClient(std::shared_ptr<grpc::Channel> channel,
                       std::shared_ptr<const ClusterMap> map, std::string self,
                       absl::Duration deadline)
    : channel_(channel),
      stub_(internal::v1::Replica::NewStub(channel)),
      map_(std::move(map)),
      self_(std::move(self)),
      deadline_(deadline),
      pool_(std::make_unique<ThreadPool>(4)) {}

std::unique_ptr<grpc::ClientContext> PeerClient::NewContext(absl::Duration deadline) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(DeadlineAfter(deadline));
  AddPeerMetadata(ctx.get(), *map_, self_);
  return ctx;
}

grpc::ChannelArguments PeerChannelArguments() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(80 << 20);  // a chunk of up to 64 MiB
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  // A peer that comes back is seen within seconds, not after gRPC's
  // default backoff of up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 3000);
  return args;
}

absl::StatusOr<std::string> PeerClient::GetChunk(const Digest& digest, const ReadFor& why) {
  internal::v1::GetBlobRequest req;
  req.set_kind(internal::v1::CHUNK);
  req.set_key(std::string(digest.Raw()));
  req.set_purpose(why.purpose == ReadFor::Purpose::kDownload  ? internal::v1::READ_DOWNLOAD
                  : why.purpose == ReadFor::Purpose::kOffsite ? internal::v1::READ_OFFSITE
                                                              : internal::v1::READ_REPAIR);
  req.set_object_id(why.object_id);
  req.set_reader(why.reader);
  req.set_grant_purpose(why.grant_purpose);
  internal::v1::GetBlobResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->GetBlob(NewContext().get(), req, &resp)));
  return std::move(*resp.mutable_data());
}

// A blocking call on the client's pool: the gRPC callback API's unary calls
// tore down their completion queue twice under ASan when the context died
// inside its own callback.
void PeerClient::PutChunk(const Digest& digest, std::string data,
                          absl::AnyInvocable<void(absl::Status) &&> done) {
  pool_->Schedule([this, digest, data = std::move(data), done = std::move(done)]() mutable {
    internal::v1::PutBlobRequest req;
    req.set_kind(internal::v1::CHUNK);
    req.set_key(std::string(digest.Raw()));
    req.set_data(std::move(data));
    internal::v1::PutBlobResponse resp;
    absl::Status s = FromGrpcStatus(stub_->PutBlob(NewContext().get(), req, &resp));
    std::move(done)(s);
  });
}

absl::StatusOr<std::vector<Digest>> PeerClient::FindMissing(internal::v1::BlobKind kind,
                                                            absl::Span<const Digest> digests) {
  internal::v1::FindMissingRequest req;
  req.set_kind(kind);
  for (const Digest& d : digests) req.add_keys(std::string(d.Raw()));
  internal::v1::FindMissingResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->FindMissing(NewContext().get(), req, &resp)));
  std::vector<Digest> out;
  for (const std::string& raw : resp.missing()) {
    ASSIGN_OR_RETURN(Digest d, Digest::FromRaw(raw));
    out.push_back(d);
  }
  return out;
}

absl::Status PeerClient::PutManifest(const Digest& id, const std::string& manifest,
                                     const std::string& handoff_for, bool repair) {
  internal::v1::PutBlobRequest req;
  req.set_repair(repair);
  req.set_kind(internal::v1::MANIFEST);
  req.set_key(std::string(id.Raw()));
  req.set_data(manifest);
  req.set_handoff_for(handoff_for);
  internal::v1::PutBlobResponse resp;
  return FromGrpcStatus(stub_->PutBlob(NewContext().get(), req, &resp));
}

absl::StatusOr<std::string> PeerClient::GetManifest(const Digest& id) {
  internal::v1::GetBlobRequest req;
  req.set_kind(internal::v1::MANIFEST);
  req.set_key(std::string(id.Raw()));
  internal::v1::GetBlobResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->GetBlob(NewContext().get(), req, &resp)));
  return std::move(*resp.mutable_data());
}

absl::Status PeerClient::PutLedger(const Digest& id, const std::string& entry) {
  internal::v1::PutBlobRequest req;
  req.set_kind(internal::v1::LEDGER);
  req.set_key(std::string(id.Raw()));
  req.set_data(entry);
  internal::v1::PutBlobResponse resp;
  return FromGrpcStatus(stub_->PutBlob(NewContext().get(), req, &resp));
}

absl::StatusOr<BucketTable> PeerClient::Buckets(internal::v1::BlobKind kind) {
  return Buckets(kind, deadline_);
}

absl::StatusOr<BucketTable> PeerClient::Buckets(internal::v1::BlobKind kind,
                                                absl::Duration deadline) {
  internal::v1::BucketsRequest req;
  req.set_kind(kind);
  internal::v1::BucketsResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->Buckets(NewContext(deadline).get(), req, &resp)));
  return BucketTable::FromWire(resp.xors(), {resp.counts().begin(), resp.counts().end()});
}

absl::StatusOr<v1::RepairReport> PeerClient::RunRepair(absl::Duration deadline) {
  v1::RepairReport resp;
  RETURN_IF_ERROR(FromGrpcStatus(
      stub_->RunRepair(NewContext(deadline).get(), internal::v1::RunRepairRequest(), &resp)));
  return resp;
}

absl::StatusOr<v1::ScrubReport> PeerClient::RunScrub(absl::Duration deadline) {
  v1::ScrubReport resp;
  RETURN_IF_ERROR(FromGrpcStatus(
      stub_->RunScrub(NewContext(deadline).get(), internal::v1::RunScrubRequest(), &resp)));
  return resp;
}

absl::StatusOr<v1::Record> PeerClient::ArchiveRecord(const std::string& record_id,
                                                     const std::string& actor) {
  internal::v1::ArchiveRecordRequest req;
  req.set_record_id(record_id);
  req.set_actor(actor);
  v1::Record resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->ArchiveRecord(NewContext().get(), req, &resp)));
  return resp;
}

absl::StatusOr<std::vector<Digest>> PeerClient::ChunksInUse(const std::vector<Digest>& chunks,
                                                            const std::set<std::string>& exclude) {
  internal::v1::ChunksInUseRequest req;
  for (const Digest& d : chunks) req.add_chunks(std::string(d.Raw()));
  for (const std::string& o : exclude) req.add_exclude_objects(o);
  internal::v1::ChunksInUseResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->ChunksInUse(NewContext().get(), req, &resp)));
  std::vector<Digest> out;
  for (const std::string& raw : resp.chunks()) {
    ASSIGN_OR_RETURN(Digest d, Digest::FromRaw(raw));
    out.push_back(d);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> PeerClient::ObjectsUsing(const Digest& chunk) {
  internal::v1::ChunksInUseRequest req;
  req.add_chunks(std::string(chunk.Raw()));
  req.set_name_objects(true);
  internal::v1::ChunksInUseResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->ChunksInUse(NewContext().get(), req, &resp)));
  return std::vector<std::string>(resp.objects().begin(), resp.objects().end());
}

absl::StatusOr<internal::v1::ListObjectsResponse> PeerClient::ListObjects(const std::string& after,
                                                                          uint32_t limit) {
  internal::v1::ListObjectsRequest req;
  req.set_after(after);
  req.set_limit(limit);
  internal::v1::ListObjectsResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->ListObjects(NewContext().get(), req, &resp)));
  return resp;
}

absl::StatusOr<v1::SnapshotAuditLog> PeerClient::AuditSnapshot() {
  v1::SnapshotAuditLog resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->AuditSnapshot(
      NewContext(absl::Minutes(10)).get(), internal::v1::AuditSnapshotRequest(), &resp)));
  return resp;
}

absl::StatusOr<std::string> PeerClient::AuditPage(uint64_t page, uint64_t upto) {
  internal::v1::AuditPageRequest req;
  req.set_page(page);
  req.set_upto(upto);
  internal::v1::AuditPageResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->AuditPage(NewContext().get(), req, &resp)));
  return std::move(*resp.mutable_data());
}

absl::StatusOr<internal::v1::LiveMirrorResponse> PeerClient::MirrorLive(
    const internal::v1::LiveMirrorRequest& req, absl::Duration deadline) {
  internal::v1::LiveMirrorResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->MirrorLive(NewContext(deadline).get(), req, &resp)));
  return resp;
}

absl::StatusOr<internal::v1::LiveRecord> PeerClient::HandOffLive(const std::string& live_id,
                                                                 uint64_t held,
                                                                 absl::Duration deadline) {
  internal::v1::LiveHandOffRequest req;
  req.set_live_id(live_id);
  req.set_held(held);
  internal::v1::LiveHandOffResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->HandOffLive(NewContext(deadline).get(), req, &resp)));
  return std::move(*resp.mutable_record());
}

}  // namespace custody
