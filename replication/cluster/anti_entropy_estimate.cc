// AntiEntropy's live estimate of under-replication (anti_entropy.h, Estimate).
#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "replication/cluster/anti_entropy.h"
#include "replication/cluster/peer_client.h"

namespace custody {
namespace {

// Copies `peer` lacks of those this node holds for it, from its bucket
// digests: a bucket with fewer keys lacks the difference; one with as many
// (or more) keys but another digest lacks at least one.
uint64_t Lacking(const BucketTable& mine, const BucketTable& theirs) {
  uint64_t n = 0;
  for (int b : mine.Differing(theirs)) {
    uint64_t m = mine.counts()[b], t = theirs.counts()[b];
    n += m > t ? m - t : (m > 0 ? 1 : 0);
  }
  return n;
}

}  // namespace

v1::UnderReplication AntiEntropy::Estimate() {
  v1::UnderReplication u;
  const std::string& self = placement_->self();
  std::map<std::string, uint64_t> shared, down, lacking;
  std::map<std::string, std::string> why_down;
  uint64_t handoffs = 0;
  for (internal::v1::BlobKind kind : {internal::v1::CHUNK, internal::v1::MANIFEST}) {
    std::map<std::string, BucketTable> tables;
    absl::Status scan = ForEachKey(kind, -1, [&](const Digest& key) {
      std::vector<const NodeInfo*> homes = Homes(kind, key);
      if (!IsHome(homes, self)) {
        if (!Delivered(kind, key)) ++handoffs;
        return true;
      }
      for (const NodeInfo* h : homes) {
        if (h->id != self) tables[h->id].Add(key);
      }
      return true;
    });
    if (!scan.ok()) {
      u.add_reasons(absl::StrCat("reading this node's index: ", scan.message()));
      continue;
    }
    for (auto& [peer, mine] : tables) {
      if (estimates_.stopping()) break;
      shared[peer] += mine.total();
      // Short: a peer whose host is off must not hold the estimate up.
      absl::StatusOr<BucketTable> theirs = placement_->peer(peer)->Buckets(kind, absl::Seconds(3));
      if (!theirs.ok()) {
        down[peer] += mine.total();
        why_down[peer] = std::string(theirs.status().message());
      } else {
        lacking[peer] += Lacking(mine, *theirs);
      }
    }
  }
  uint64_t copies = handoffs;
  for (const auto& [peer, n] : down) {
    copies += n;
    u.add_reasons(absl::StrCat(peer, " does not answer (", why_down[peer], "): ", n,
                               " copies held here that it should hold"));
  }
  for (const auto& [peer, n] : lacking) {
    copies += n;
    if (n > 0) u.add_reasons(absl::StrCat(peer, " lacks about ", n, " copies held here"));
  }
  if (handoffs > 0) {
    u.add_reasons(absl::StrCat(handoffs,
                               " copies held here for nodes that were down or full, not yet home "
                               "(zone-degraded puts among them)"));
  }
  u.set_copies(copies);
  u.set_measured_unix_nanos(absl::ToUnixNanos(absl::Now()));
  u.mutable_held_for()->insert(shared.begin(), shared.end());
  return u;
}

}  // namespace custody
