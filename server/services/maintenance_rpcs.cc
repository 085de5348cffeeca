// CustodyService's maintenance RPCs: Repair and Scrub on one node or on every
// node of the map, in parallel (the node asks the others through their
// Replica service). They wait for long work, so they run on the node's
// maintenance pool.
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/unary.h"
#include "server/services/custody_service.h"

namespace custody {

namespace {

constexpr absl::Duration kMaintenanceDeadline = absl::Hours(6);

// The ids `node` names: every node of the map for "", else that one.
absl::StatusOr<std::vector<std::string>> Targets(const ClusterMap& map, const std::string& node) {
  std::vector<std::string> ids;
  for (const NodeInfo& n : map.nodes()) {
    if (node.empty() || n.id == node) ids.push_back(n.id);
  }
  if (ids.empty()) {
    std::vector<std::string> known;
    for (const NodeInfo& n : map.nodes()) known.push_back(n.id);
    return absl::InvalidArgumentError(absl::StrCat(
        "node \"", node, "\" is not in the cluster map (", absl::StrJoin(known, ", "), ")"));
  }
  return ids;
}

// Runs `one(id)` for every target on its own thread; results in map order.
template <typename Report, typename One>
std::vector<Report> FanOut(const std::vector<std::string>& ids, One one) {
  std::vector<Report> out(ids.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] { out[i] = one(ids[i]); });
  }
  for (std::thread& t : threads) t.join();
  return out;
}

template <typename Report>
Report Failed(const std::string& id, const absl::Status& s) {
  Report r;
  r.set_node_id(id);
  r.add_errors(std::string(s.message()));
  return r;
}

absl::Status RecordRequest(Node* node, const std::string& who, const char* what,
                           const std::string& target) {
  v1::AuditEvent e = NewEvent("maintenance.requested", "node", who);
  AddDetail(&e, "what", what);
  AddDetail(&e, "nodes", target.empty() ? "all" : target);
  return node->Record(std::move(e));
}

}  // namespace

grpc::ServerUnaryReactor* CustodyService::Repair(grpc::CallbackServerContext* ctx,
                                                 const v1::RepairRequest* request,
                                                 v1::RepairResponse* response) {
  return RunUnary(ctx, node_->maintenance_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal who, node_->Authorize(*ctx, Action::kMaintain));
    if (node_->anti_entropy() == nullptr) {
      return absl::FailedPreconditionError(
          "this node runs without a cluster map (a cluster of one): there is no other node to "
          "repair from or to");
    }
    absl::StatusOr<std::vector<std::string>> ids = Targets(node_->cluster(), request->node());
    if (!ids.ok()) return ids.status();
    absl::Status s = RecordRequest(node_, who.name(), "repair", request->node());
    if (!s.ok()) return s;
    for (v1::RepairReport& r : FanOut<v1::RepairReport>(*ids, [this](const std::string& id) {
           if (id == node_->node_id()) return node_->anti_entropy()->RunNow();
           absl::StatusOr<v1::RepairReport> r =
               node_->placement()->peer(id)->RunRepair(kMaintenanceDeadline);
           return r.ok() ? *r : Failed<v1::RepairReport>(id, r.status());
         })) {
      *response->add_reports() = std::move(r);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustodyService::Scrub(grpc::CallbackServerContext* ctx,
                                                const v1::ScrubRequest* request,
                                                v1::ScrubResponse* response) {
  return RunUnary(ctx, node_->maintenance_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal who, node_->Authorize(*ctx, Action::kMaintain));
    absl::StatusOr<std::vector<std::string>> ids = Targets(node_->cluster(), request->node());
    if (!ids.ok()) return ids.status();
    absl::Status s = RecordRequest(node_, who.name(), "scrub", request->node());
    if (!s.ok()) return s;
    for (v1::ScrubReport& r : FanOut<v1::ScrubReport>(*ids, [this](const std::string& id) {
           if (id == node_->node_id()) return node_->scrubber()->RunNow();
           absl::StatusOr<v1::ScrubReport> r =
               node_->placement()->peer(id)->RunScrub(kMaintenanceDeadline);
           return r.ok() ? *r : Failed<v1::ScrubReport>(id, r.status());
         })) {
      *response->add_reports() = std::move(r);
    }
    return absl::OkStatus();
  });
}

}  // namespace custody
