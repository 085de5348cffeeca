#include "server/objects/live_mirror.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace custody {

namespace {

// A step waits this long for a peer: a camera's acknowledgement waits too.
constexpr absl::Duration kStepDeadline = absl::Seconds(5);

}  // namespace

absl::StatusOr<LiveMirror::Sent> LiveMirror::Send(
    const internal::v1::LiveMirrorRequest& step,
    const std::function<absl::StatusOr<internal::v1::LiveMirrorRequest>()>& whole) {
  const std::string& id = step.record().info().live_id();
  const uint32_t need = replicas_ - 1;
  Sent sent;
  std::vector<std::string> failed;
  for (const NodeInfo* n : placement_->map().Rank(Digest::Of(id))) {
    if (sent.nodes.size() == need) break;
    PeerClient* peer = placement_->peer(n->id);
    if (peer == nullptr) continue;  // this node
    absl::StatusOr<internal::v1::LiveMirrorResponse> r = peer->MirrorLive(step, kStepDeadline);
    if (r.ok() && r->gap()) {
      absl::StatusOr<internal::v1::LiveMirrorRequest> all = whole();
      if (!all.ok()) return all.status();
      r = peer->MirrorLive(*all, 2 * kStepDeadline);
    }
    if (!r.ok()) {
      failed.push_back(absl::StrCat(n->id, ": ", r.status().message()));
      continue;
    }
    if (!r->held_by().empty()) {
      sent.taken_by = r->held_by();
      return sent;
    }
    sent.nodes.push_back(n->id);
  }
  if (sent.nodes.size() < need) {
    return absl::UnavailableError(
        absl::StrCat("live upload ", id, " is mirrored on ", sent.nodes.size(), " of the ", need,
                     " other nodes R needs (", absl::StrJoin(failed, "; "), ")"));
  }
  return sent;
}

absl::StatusOr<internal::v1::LiveRecord> LiveMirror::HandOff(const std::string& owner,
                                                             const std::string& live_id,
                                                             uint64_t held) {
  PeerClient* peer = placement_->peer(owner);
  if (peer == nullptr) {
    return absl::NotFoundError(absl::StrCat("node ", owner, " is not another node of the map"));
  }
  return peer->HandOffLive(live_id, held, kStepDeadline);
}

void LiveMirror::Tell(const internal::v1::LiveMirrorRequest& step) {
  for (const Placement::Other& other : placement_->Others()) {
    absl::StatusOr<internal::v1::LiveMirrorResponse> r =
        other.peer->MirrorLive(step, kStepDeadline);
    if (!r.ok()) {
      LOG(WARNING) << "live upload " << step.record().info().live_id() << ": node "
                   << other.info->id << " did not hear of its seal: " << r.status();
    }
  }
}

}  // namespace custody
