// Records.StationReport, StationRetry and Stations (doc/console.md,
// "Stations"): the docking stations' reports, kept per node
// (server/services/station_board.h), listed cluster-wide, and people's
// requests to put quarantined files back, audited and sent to every node so
// that the station's next report takes them wherever it reports. And
// Records.Docked: a station's signed dock manifest (doc/records.md).
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/unary.h"
#include "replication/cluster/placement.h"
#include "server/audit/audited_write.h"
#include "server/services/records_service.h"

namespace custody {
namespace {

// Calls every other node of the map with `call` (a 2 s deadline each);
// returns the nodes that did not answer, "id: why".
std::vector<std::string> EachPeer(
    Node* node, const std::function<grpc::Status(v1::Records::Stub*, grpc::ClientContext*)>& call) {
  std::vector<std::string> unreachable;
  for (const NodeInfo& n : node->cluster().nodes()) {
    if (n.id == node->node_id()) continue;
    PeerClient* client = node->placement() ? node->placement()->peer(n.id) : nullptr;
    if (client == nullptr) continue;
    auto stub = v1::Records::NewStub(client->channel());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::Status s = call(stub.get(), &ctx);
    if (!s.ok()) unreachable.push_back(absl::StrCat(n.id, ": ", s.error_message()));
  }
  return unreachable;
}

bool ValidStation(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace

RecordsService::Reactor* RecordsService::StationReport(Ctx* ctx, const v1::StationStatus* req,
                                                       v1::StationReportResponse* out) {
  return Run(ctx, Action::kPut, "station:" + req->station(),
             [=, this](const v1::Principal& p) -> absl::Status {
               if (!ValidStation(req->station())) {
                 return absl::InvalidArgumentError(
                     "a station's name is 1-64 of [A-Za-z0-9._-] (custody-ingestd --station)");
               }
               v1::StationStatus s = *req;
               s.set_reported_by(p.name());
               s.set_node(node_->node_id());
               for (v1::StationRetryRequest& r : stations_.Report(std::move(s), absl::Now())) {
                 *out->add_retries() = std::move(r);
               }
               return absl::OkStatus();
             });
}

RecordsService::Reactor* RecordsService::Docked(Ctx* ctx, const v1::DockRequest* req,
                                                v1::DockResponse* out) {
  return Run(ctx, Action::kPut, "dock:" + req->dock_id(),
             [=, this](const v1::Principal& p) -> absl::Status {
               if (!req->station().empty() && !ValidStation(req->station())) {
                 return absl::InvalidArgumentError(
                     "a station's name is 1-64 of [A-Za-z0-9._-] (custody-ingestd --station)");
               }
               ASSIGN_OR_RETURN(*out, keeper_->Docked(p, *req));
               return absl::OkStatus();
             });
}

RecordsService::Reactor* RecordsService::StationRetry(Ctx* ctx, const v1::StationRetryRequest* req,
                                                      v1::StationRetryResponse* out) {
  // From a peer: queue it here (the person's request was audited where it
  // was made). From a person: audit it, queue it, and pass it on.
  const Action action = req->forwarded() ? Action::kStatus : Action::kDevices;
  return Run(
      ctx, action, "station:" + req->station(), [=, this](const v1::Principal& p) -> absl::Status {
        if (req->forwarded() && !HasRole(p, "node")) {
          return absl::PermissionDeniedError("only a node passes a retry on");
        }
        if (!ValidStation(req->station()) || (req->all() == (req->files_size() > 0))) {
          return absl::InvalidArgumentError(
              "a retry names a station and either files (under quarantine/) or all");
        }
        v1::StationRetryRequest r = *req;
        if (!req->forwarded()) {
          r.set_requested_by(p.name());
          v1::AuditEvent e =
              NewEvent("station.retry-requested", "station:" + r.station(), p.name());
          AddDetail(&e, "files", r.all() ? "all" : absl::StrJoin(r.files(), ","));
          RETURN_IF_ERROR(node_->Record(std::move(e)));
        }
        stations_.Retry(r, absl::Now());
        out->set_nodes(1);
        if (req->forwarded()) return absl::OkStatus();
        r.set_forwarded(true);
        std::vector<std::string> missed =
            EachPeer(node_, [&](v1::Records::Stub* stub, grpc::ClientContext* c) {
              v1::StationRetryResponse ignored;
              return stub->StationRetry(c, r, &ignored);
            });
        out->set_nodes(static_cast<uint32_t>(
            node_->cluster().nodes().empty() ? 1
                                             : node_->cluster().nodes().size() - missed.size()));
        for (std::string& m : missed) out->add_unreachable(std::move(m));
        return absl::OkStatus();
      });
}

RecordsService::Reactor* RecordsService::Stations(Ctx* ctx, const v1::StationsRequest* req,
                                                  v1::StationsResponse* out) {
  return Run(ctx, Action::kStatus, "stations", [=, this](const v1::Principal&) -> absl::Status {
    std::map<std::string, v1::StationStatus> newest;
    auto keep = [&](const v1::StationStatus& s) {
      auto it = newest.find(s.station());
      if (it == newest.end() || it->second.sent_unix_nanos() < s.sent_unix_nanos()) {
        newest[s.station()] = s;
      }
    };
    for (const v1::StationStatus& s : stations_.List()) keep(s);
    if (!req->local_only()) {
      v1::StationsRequest local;
      local.set_local_only(true);
      for (std::string& m : EachPeer(node_, [&](v1::Records::Stub*stub, grpc::ClientContext*c) {
             v1::StationsResponse theirs;
             grpc::Status s = stub->Stations(c, local, &theirs);
             for (const v1::StationStatus& x : theirs.stations()) keep(x);
             return s;
           })) {
        out->add_unreachable(std::move(m));
      }
    }
    for (auto& [name, s] : newest) *out->add_stations() = std::move(s);
    return absl::OkStatus();
  });
}

}  // namespace custody
