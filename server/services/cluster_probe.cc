#include "server/services/cluster_probe.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/hybrid_clock.h"
#include "custody/v1/custody.grpc.pb.h"
#include "replication/cluster/placement.h"

namespace custody {

namespace {}  // namespace

void FillNodeStatus(Node* node, const Attester* attester, v1::NodeStatusResponse* response) {
  response->set_node_id(node->node_id());
  response->set_chunk_size(node->chunk_size());
  response->set_io_backend(std::string(node->io_backend()));
  response->set_objects(node->objects()->ApproximateCount());
  response->set_volume_bytes(node->volumes()->TotalBytes());
  response->set_free_bytes(node->FreeBytes());
  const ClusterMap& map = node->cluster();
  response->set_map_version(map.version());
  response->set_replication_factor(map.replication_factor());
  if (const NodeInfo* me = map.Find(node->node_id())) response->set_zone(me->zone);
  if (AntiEntropy* ae = node->anti_entropy()) {
    response->set_under_replicated(ae->under_replicated());
    if (auto last = ae->last()) *response->mutable_last_repair() = *last;
    if (auto now = ae->estimate()) *response->mutable_under_replication_now() = *now;
  }
  if (auto last = node->scrubber()->last()) *response->mutable_last_scrub() = *last;
  response->set_read_only(node->ReadOnlyReason());
  response->set_audit_events_held(node->trail()->held());
  response->set_now_unix_nanos(absl::ToUnixNanos(WallNow()));
  response->set_keeps_schedule(node->KeepsSchedule());
  if (attester != nullptr && attester->enabled()) attester->Fill(response->mutable_attestation());
  if (const EtcdClient* etcd = node->etcd()) {
    EtcdClient::Outcome o = etcd->last_outcome();
    response->set_etcd(o.state.empty() ? "not asked yet" : o.state);
    if (o.when != absl::InfinitePast()) {
      response->set_etcd_checked_unix_nanos(absl::ToUnixNanos(o.when));
    }
  }
}

namespace {

// Asks a peer for its NodeStatus. Counted down if it does not answer within
// 2 s, is another node than the map says, or runs another map version (the
// other nodes refuse its calls).
void AskPeer(Node* node, const NodeInfo& peer, uint64_t map_version, v1::ClusterNodeStatus* out) {
  PeerClient* client = node->placement() ? node->placement()->peer(peer.id) : nullptr;
  if (client == nullptr) {
    out->set_error("this node has no client for it (not in its map)");
    out->set_up(false);
    return;
  }
  auto stub = v1::Custody::NewStub(client->channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  const int64_t asked = absl::ToUnixNanos(absl::Now());
  grpc::Status s = stub->NodeStatus(&ctx, v1::NodeStatusRequest(), out->mutable_status());
  // Its clock against this node's, at the middle of the call.
  const int64_t middle = asked + (absl::ToUnixNanos(absl::Now()) - asked) / 2;
  out->set_clock_offset_nanos(out->status().now_unix_nanos() - middle);
  if (!s.ok()) {
    out->clear_status();
    out->set_error(s.error_message());
  } else if (out->status().node_id() != peer.id) {
    out->set_error(absl::StrCat("the node at ", peer.address, " is ", out->status().node_id()));
    out->clear_status();
  } else if (out->status().map_version() != map_version) {
    out->set_error(absl::StrCat("it runs cluster map version ", out->status().map_version(),
                                ", not ", map_version));
  }
  out->set_up(out->error().empty());
}

// The cluster's live estimate (ClusterStatusResponse.under_replication_now):
// the nodes' estimates added up; and for a node down now that a node's
// estimate did not see down, the copies that node holds for it.
void AddUpEstimates(v1::ClusterStatusResponse* r) {
  v1::UnderReplication sum;
  v1::UnderReplication* total = &sum;
  int64_t oldest = absl::ToUnixNanos(absl::Now());
  bool any = false;  // none yet (a second after start): the last rounds' counts stand
  for (const v1::ClusterNodeStatus& n : r->nodes()) {
    if (!n.up() || !n.status().has_under_replication_now()) continue;
    any = true;
    const v1::UnderReplication& u = n.status().under_replication_now();
    total->set_copies(total->copies() + u.copies());
    oldest = std::min(oldest, u.measured_unix_nanos());
    std::string reasons;
    for (const std::string& why : u.reasons()) {
      total->add_reasons(absl::StrCat(n.id(), ": ", why));
      absl::StrAppend(&reasons, why, "\n");
    }
    for (const v1::ClusterNodeStatus& down : r->nodes()) {
      auto held = u.held_for().find(down.id());
      if (down.up() || held == u.held_for().end() || held->second == 0 ||
          reasons.find(down.id() + " does not answer") != std::string::npos) {
        continue;
      }
      total->set_copies(total->copies() + held->second);
      total->add_reasons(absl::StrCat(n.id(), ": ", down.id(), " is down now: ", held->second,
                                      " copies held here that it should hold"));
    }
  }
  if (!any) return;
  total->set_measured_unix_nanos(oldest);
  *r->mutable_under_replication_now() = std::move(sum);
}

// Offsets against the median of the answering nodes' clocks, so that a
// skewed node answering the call does not make every other one look skewed.
void MarkSkew(v1::ClusterStatusResponse* r) {
  std::vector<int64_t> offsets;
  for (const v1::ClusterNodeStatus& n : r->nodes()) {
    if (n.has_status()) offsets.push_back(n.clock_offset_nanos());
  }
  if (offsets.empty()) return;
  std::sort(offsets.begin(), offsets.end());
  const int64_t median = offsets[(offsets.size() - 1) / 2];
  r->set_clock_skew_bound_nanos(absl::ToInt64Nanoseconds(kClockSkewBound));
  for (v1::ClusterNodeStatus& n : *r->mutable_nodes()) {
    if (!n.has_status()) continue;
    n.set_clock_offset_nanos(n.clock_offset_nanos() - median);
    n.set_clock_skewed(std::abs(n.clock_offset_nanos()) > r->clock_skew_bound_nanos());
  }
}

// Liveness from the nodes' etcd leases (doc/etcd.md) beside this node's
// probe; without etcd, or when etcd has not answered this node lately, the
// probe alone.
void MarkLiveness(const Node& node, v1::ClusterStatusResponse* r) {
  const EtcdMembership* m = node.membership();
  if (m == nullptr) return;
  const bool fresh = m->fresh();
  const std::map<std::string, MemberState> members = m->members();
  for (v1::ClusterNodeStatus& n : *r->mutable_nodes()) {
    auto it = members.find(n.id());
    const MemberState state = it == members.end() ? MemberState{} : it->second;
    const bool answers = n.up();
    if (!fresh) {
      n.set_liveness(answers ? "up" : "down");
      n.set_liveness_reason(
          absl::StrCat("etcd has not answered ", node.node_id(), " lately: from its probe alone"));
      continue;
    }
    if (state.since != absl::InfinitePast()) {
      n.set_liveness_since_unix_nanos(absl::ToUnixNanos(state.since));
    }
    if (state.alive == answers) {
      n.set_liveness(answers ? "up" : "down");
    } else {
      n.set_liveness("partitioned");
      n.set_liveness_reason(
          state.alive ? absl::StrCat("holds its etcd lease but does not answer ", node.node_id())
                      : absl::StrCat("answers ", node.node_id(),
                                     " but holds no etcd lease (cut off from etcd?)"));
    }
  }
  r->set_snapshot_scheduler(m->scheduler());
}

}  // namespace

v1::ClusterStatusResponse ProbeCluster(Node* node, const Attester* attester) {
  v1::ClusterStatusResponse r;
  const ClusterMap& map = node->cluster();
  r.set_map_version(map.version());
  r.set_replication_factor(map.replication_factor());
  r.set_answered_by(node->node_id());
  for (const NodeInfo& n : map.nodes()) {
    v1::ClusterNodeStatus* out = r.add_nodes();
    out->set_id(n.id);
    out->set_address(n.address);
    out->set_zone(n.zone);
    if (n.id == node->node_id()) {
      FillNodeStatus(node, attester, out->mutable_status());
      out->set_up(true);
    } else {
      AskPeer(node, n, map.version(), out);
    }
  }
  AddUpEstimates(&r);
  MarkSkew(&r);
  for (const v1::ClusterNodeStatus& n : r.nodes()) {
    if (n.status().keeps_schedule()) r.set_snapshot_scheduler(n.id());
  }
  MarkLiveness(*node, &r);
  return r;
}

}  // namespace custody
