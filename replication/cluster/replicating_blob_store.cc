#include "replication/cluster/replicating_blob_store.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"

namespace custody {

// One Put in flight: which node comes next in rank order, how many hold the
// chunk, and what went wrong where.
struct ReplicatingBlobStore::PutOp {
  Digest key;
  std::shared_ptr<const std::string> data;
  std::vector<const NodeInfo*> rank;
  int needed = 0;
  absl::Mutex mu;
  size_t next ABSL_GUARDED_BY(mu) = 0;
  int stored ABSL_GUARDED_BY(mu) = 0;
  int inflight ABSL_GUARDED_BY(mu) = 0;
  std::vector<std::string> errors ABSL_GUARDED_BY(mu);
  std::vector<const NodeInfo*> holders ABSL_GUARDED_BY(mu);
  bool refused ABSL_GUARDED_BY(mu) = false;  // a node found the bytes do not hash to the key
  absl::AnyInvocable<void(absl::Status) &&> done ABSL_GUARDED_BY(mu);
};

ReplicatingBlobStore::ReplicatingBlobStore(std::shared_ptr<const ClusterMap> map, std::string self,
                                           std::function<BlobStore*(const NodeInfo&)> store_for)
    : map_(std::move(map)), self_(std::move(self)), store_for_(std::move(store_for)) {}

absl::StatusOr<std::string> ReplicatingBlobStore::Get(const Digest& digest) {
  return GetFor(digest, ReadFor());
}

absl::StatusOr<std::string> ReplicatingBlobStore::GetFor(const Digest& digest, const ReadFor& why) {
  std::vector<std::string> tried;
  absl::StatusCode code = absl::StatusCode::kNotFound;
  std::vector<const NodeInfo*> order = map_->Rank(digest);
  std::stable_partition(order.begin(), order.end(),  // this node's own copy first
                        [this](const NodeInfo* n) { return n->id == self_; });
  for (const NodeInfo* n : order) {
    BlobStore* store = store_for_(*n);
    absl::StatusOr<std::string> data = store->GetFor(digest, why);
    // A verifying store (this node's own) hashed the bytes already; a
    // peer's copy is hashed here, whatever the peer said.
    if (data.ok() && (store->VerifiesReads() || Digest::Of(*data) == digest)) return data;
    absl::Status s =
        data.ok() ? absl::DataLossError("its copy does not match the hash") : data.status();
    if (s.code() == absl::StatusCode::kDataLoss) code = s.code();
    tried.push_back(absl::StrCat(n->id, ": ", s.message()));
  }
  return absl::Status(code, absl::StrCat("no node has a good copy of chunk ", digest.ToString(),
                                         " (", absl::StrJoin(tried, "; "), ")"));
}

void ReplicatingBlobStore::Put(const Digest& digest, std::string data,
                               absl::AnyInvocable<void(absl::Status) &&> done) {
  auto op = std::make_shared<PutOp>();
  op->key = digest;
  op->data = std::make_shared<const std::string>(std::move(data));
  op->rank = map_->Rank(digest);
  op->needed = map_->replication_factor();
  std::vector<const NodeInfo*> first;
  {
    absl::MutexLock l(&op->mu);
    op->done = std::move(done);
    for (; static_cast<int>(op->next) < op->needed; ++op->next) first.push_back(op->rank[op->next]);
    op->inflight = static_cast<int>(first.size());
  }
  for (const NodeInfo* n : first) Launch(op, n);
}

void ReplicatingBlobStore::Launch(const std::shared_ptr<PutOp>& op, const NodeInfo* target) {
  store_for_(*target)->Put(
      op->key, *op->data, [this, op, target](absl::Status s) { Landed(op, target, std::move(s)); });
}

// One node answered: count it, or try the next node in rank order.
void ReplicatingBlobStore::Landed(const std::shared_ptr<PutOp>& op, const NodeInfo* target,
                                  absl::Status s) {
  const NodeInfo* retry = nullptr;
  absl::AnyInvocable<void(absl::Status) &&> finish;
  absl::Status result;
  {
    absl::MutexLock l(&op->mu);
    --op->inflight;
    if (s.ok()) {
      ++op->stored;
      op->holders.push_back(target);
    } else {
      op->errors.push_back(absl::StrCat(target->id, ": ", s.message()));
      // Bytes that do not hash to their key are refused by every node alike:
      // no other node is tried.
      op->refused = op->refused || absl::IsInvalidArgument(s);
      if (!op->refused && op->next < op->rank.size()) {
        retry = op->rank[op->next++];
        ++op->inflight;
      }
    }
    if (op->done && op->stored >= op->needed) {
      finish = std::move(op->done);
      result = CheckZones(*op);
    } else if (op->done && op->inflight == 0 && op->refused) {
      finish = std::move(op->done);
      result = absl::InvalidArgumentError(absl::StrCat(
          "chunk ", op->key.ToString(), " was refused: ", absl::StrJoin(op->errors, "; ")));
    } else if (op->done && op->inflight == 0) {
      finish = std::move(op->done);
      result = absl::UnavailableError(absl::StrCat(
          "only ", op->stored, " of the ", op->needed, " nodes needed could store chunk ",
          op->key.ToString(), " (", absl::StrJoin(op->errors, "; "), ")"));
    }
  }
  if (retry != nullptr) Launch(op, retry);
  if (finish) std::move(finish)(result);
}

absl::Status ReplicatingBlobStore::CheckZones(const PutOp& op) {
  std::set<std::string> all, used;
  for (const NodeInfo& n : map_->nodes()) all.insert(n.zone);
  std::vector<std::string> holders;
  for (const NodeInfo* n : op.holders) {
    used.insert(n->zone);
    holders.push_back(n->id);
  }
  if (used.size() >= std::min<size_t>(op.needed, all.size())) return absl::OkStatus();
  if (!zones_.allow_degraded) {
    return absl::UnavailableError(
        absl::StrCat("chunk ", op.key.ToString(), " could be stored only in zone(s) ",
                     absl::StrJoin(used, ", "), " (", absl::StrJoin(holders, ", "),
                     "), and this node runs with --allow-zone-degraded=false: retry when the other "
                     "zone is back"));
  }
  if (zones_.on_degraded) zones_.on_degraded(op.key, holders);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Digest>> ReplicatingBlobStore::FindMissing(
    absl::Span<const Digest> digests) {
  std::vector<Digest> out;
  for (const Digest& d : digests) {
    std::vector<const NodeInfo*> rank = map_->Rank(d);
    int held = 0;
    for (int i = 0; i < map_->replication_factor(); ++i) {
      absl::StatusOr<std::vector<Digest>> missing = store_for_(*rank[i])->FindMissing({d});
      if (missing.ok() && missing->empty()) ++held;
    }
    if (held < map_->replication_factor()) out.push_back(d);
  }
  return out;
}

}  // namespace custody
