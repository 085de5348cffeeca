#include "replication/cluster/placement.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace custody {

Placement::Placement(std::shared_ptr<const ClusterMap> map, std::string self,
                     BlobStore* local_chunks, BlobStore* local_unverified,
                     std::shared_ptr<grpc::ChannelCredentials> credentials)
    : map_(map),
      self_(self),
      local_(local_chunks),
      local_unverified_(local_unverified),
      replicated_(map, self,
                  [this](const NodeInfo& n) -> BlobStore* {
                    return n.id == self_ ? local_ : peers_.at(n.id).chunks.get();
                  }),
      hashed_(map, self, [this](const NodeInfo& n) -> BlobStore* {
        return n.id == self_ ? local_unverified_ : peers_.at(n.id).chunks.get();
      }) {
  for (const NodeInfo& n : map_->nodes()) {
    if (n.id == self_) continue;
    Peer& p = peers_[n.id];
    p.client = std::make_unique<PeerClient>(
        grpc::CreateCustomChannel(n.address, credentials, PeerChannelArguments()), map_, self_);
    p.chunks = std::make_unique<RemoteBlobStore>(p.client.get());
  }
}

std::vector<Placement::Other> Placement::Others() const {
  std::vector<Other> out;
  for (const NodeInfo& n : map_->nodes()) {
    if (n.id != self_) out.push_back({&n, peers_.at(n.id).client.get()});
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> Placement::PlaceManifest(
    const Digest& id, const std::string& manifest,
    const std::function<absl::Status(const std::string& handoff_for)>& store_here) {
  std::vector<const NodeInfo*> rank = map_->Rank(id);
  const int r = map_->replication_factor();
  std::vector<std::string> holders, errors, failed_homes;
  for (size_t i = 0; i < rank.size() && static_cast<int>(holders.size()) < r; ++i) {
    const NodeInfo* n = rank[i];
    std::string handoff_for =
        (static_cast<int>(i) >= r && !failed_homes.empty())
            ? failed_homes[std::min(failed_homes.size() - 1, i - static_cast<size_t>(r))]
            : "";
    absl::Status s = n->id == self_
                         ? store_here(handoff_for)
                         : peers_.at(n->id).client->PutManifest(id, manifest, handoff_for);
    if (s.ok()) {
      holders.push_back(n->id);
    } else {
      errors.push_back(absl::StrCat(n->id, ": ", s.message()));
      if (static_cast<int>(i) < r) failed_homes.push_back(n->id);
    }
  }
  if (static_cast<int>(holders.size()) < r) {
    return absl::UnavailableError(absl::StrCat(
        "only ", holders.size(), " of the ", r, " nodes needed could store the manifest of ",
        id.ToString(), " (", absl::StrJoin(errors, "; "), ")"));
  }
  return holders;
}

absl::StatusOr<v1::ObjectManifest> Placement::FindManifest(const Digest& id,
                                                           const std::string& skip) {
  std::vector<std::string> tried;
  for (const NodeInfo* n : map_->Rank(id)) {
    if (n->id == self_ || n->id == skip) continue;
    absl::StatusOr<std::string> bytes = peers_.at(n->id).client->GetManifest(id);
    v1::ObjectManifest m;
    if (bytes.ok() && m.ParseFromString(*bytes) && m.sha256() == id.Raw()) return m;
    tried.push_back(
        absl::StrCat(n->id, ": ", bytes.ok() ? "bad manifest" : bytes.status().message()));
  }
  return absl::NotFoundError(absl::StrCat("object ", id.ToString(), " is not held by any node (",
                                          absl::StrJoin(tried, "; "), ")"));
}

}  // namespace custody
