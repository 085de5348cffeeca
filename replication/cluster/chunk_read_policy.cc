#include "replication/cluster/chunk_read_policy.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace custody {

absl::Status ChunkReadPolicy::Check(const std::string& peer, const Digest& chunk,
                                    const internal::v1::GetBlobRequest& req) {
  switch (req.purpose()) {
    case internal::v1::READ_REPAIR:
      return CheckRepair(peer, chunk);
    case internal::v1::READ_DOWNLOAD:
      RETURN_IF_ERROR(CheckGrant(req));
      return CheckPartOf(peer, req.object_id(), chunk);
    case internal::v1::READ_OFFSITE:
      return CheckPartOf(peer, req.object_id(), chunk);
    default:
      return absl::PermissionDeniedError(
          "a chunk read needs a purpose: repair, download or offsite");
  }
}

absl::Status ChunkReadPolicy::CheckRepair(const std::string& peer, const Digest& chunk) const {
  if (placement_ == nullptr) {
    return absl::PermissionDeniedError("this node is a cluster of one: no node repairs from it");
  }
  const int r = placement_->map().replication_factor();
  std::vector<const NodeInfo*> rank = placement_->map().Rank(chunk);
  for (int i = 0; i < r && i < static_cast<int>(rank.size()); ++i) {
    if (rank[i]->id == peer) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "node ", peer, " is not a home of chunk ", chunk.ToString(),
      ": a node reads chunks to repair only its own copies, or says which download or offsite "
      "sync it reads for"));
}

absl::Status ChunkReadPolicy::CheckGrant(const internal::v1::GetBlobRequest& req) const {
  const std::string purpose = req.grant_purpose().empty() ? "view" : req.grant_purpose();
  bool live = false;
  if (!req.reader().empty()) {
    ASSIGN_OR_RETURN(live, grant_(req.reader(), req.object_id(), purpose));
  }
  if (!live) {
    return absl::PermissionDeniedError(absl::StrCat(
        "a download relayed for ", req.reader().empty() ? "nobody" : req.reader(), " of ",
        req.object_id(), ": this node's ledger holds no live grant to ", purpose, " it"));
  }
  return absl::OkStatus();
}

absl::Status ChunkReadPolicy::CheckPartOf(const std::string& peer, const std::string& object_id,
                                          const Digest& chunk) {
  std::shared_ptr<const std::set<std::string>> chunks;
  {
    absl::MutexLock l(&mu_);
    auto it = chunks_of_.find(object_id);
    if (it != chunks_of_.end()) chunks = it->second;
  }
  if (chunks == nullptr) {
    absl::StatusOr<Digest> id = Digest::Parse(object_id);
    if (!id.ok()) return absl::PermissionDeniedError("the read names no object it is for");
    absl::StatusOr<v1::ObjectManifest> m = manifest_(*id, peer);
    if (!m.ok()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "the read is for ", object_id, ", which is not known here: ", m.status().message()));
    }
    chunks = std::make_shared<const std::set<std::string>>(m->chunks().begin(), m->chunks().end());
    absl::MutexLock l(&mu_);
    if (chunks_of_.size() >= kCachedObjects) chunks_of_.clear();
    chunks_of_[object_id] = chunks;
  }
  if (chunks->count(std::string(chunk.Raw())) == 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("chunk ", chunk.ToString(), " is not part of ", object_id));
  }
  return absl::OkStatus();
}

}  // namespace custody
