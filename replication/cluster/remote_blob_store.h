// The chunks of another node of the cluster as a BlobStore: every call goes
// through the node's PeerClient of that peer (replication/cluster/peer_client.h).
#ifndef CUSTODY_REPLICATION_CLUSTER_REMOTE_BLOB_STORE_H_
#define CUSTODY_REPLICATION_CLUSTER_REMOTE_BLOB_STORE_H_

#include "replication/cluster/peer_client.h"
#include "server/storage/blob_store.h"

namespace custody {

// Thread-safe (the client is). `peer` must outlive this object.
class RemoteBlobStore : public BlobStore {
 public:
  explicit RemoteBlobStore(PeerClient* peer) : peer_(peer) {}

  absl::StatusOr<std::string> Get(const Digest& digest) override {
    return peer_->GetChunk(digest, ReadFor());
  }
  absl::StatusOr<std::string> GetFor(const Digest& digest, const ReadFor& why) override {
    return peer_->GetChunk(digest, why);
  }
  // Asynchronous, on the client's threads (PeerClient::PutChunk).
  void Put(const Digest& digest, std::string data,
           absl::AnyInvocable<void(absl::Status) &&> done) override {
    peer_->PutChunk(digest, std::move(data), std::move(done));
  }
  absl::StatusOr<std::vector<Digest>> FindMissing(absl::Span<const Digest> digests) override {
    return peer_->FindMissing(internal::v1::CHUNK, digests);
  }

 private:
  PeerClient* peer_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_REMOTE_BLOB_STORE_H_
