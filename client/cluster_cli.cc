#include "client/cluster_cli.h"

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/attestation_check.h"
#include "client/cli_errors.h"
#include "client/client.h"
#include "client/record_text.h"
#include "client/shown_time.h"
#include "common/grpc_status.h"
#include "common/units.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;

std::unique_ptr<v1::Custody::Stub> Stub(const ClusterArgs& a) {
  return v1::Custody::NewStub(CustodyClient::ChannelToAnyOf(a.server));
}

std::string When(int64_t nanos) { return nanos == 0 ? "never" : ShownTime(nanos); }

json RepairJson(const v1::RepairReport& r) {
  return json{{"node", r.node_id()},
              {"started", When(r.started_unix_nanos())},
              {"finished", When(r.finished_unix_nanos())},
              {"keys_held", r.keys_held()},
              {"buckets_compared", r.buckets_compared()},
              {"buckets_differing", r.buckets_differing()},
              {"chunks_pushed", r.chunks_pushed()},
              {"manifests_pushed", r.manifests_pushed()},
              {"bytes_pushed", r.bytes_pushed()},
              {"under_replicated", r.under_replicated()},
              {"errors", r.errors()}};
}

json ScrubJson(const v1::ScrubReport& r) {
  return json{{"node", r.node_id()},
              {"started", When(r.started_unix_nanos())},
              {"finished", When(r.finished_unix_nanos())},
              {"chunks", r.chunks()},
              {"bytes", r.bytes()},
              {"corrupt", r.corrupt()},
              {"repaired", r.repaired()},
              {"rate_mb_per_s", r.rate_mb_per_s()},
              {"errors", r.errors()}};
}

// "up", "down" or "partitioned" with since when; without etcd, up or DOWN.
std::string Liveness(const v1::ClusterNodeStatus& n) {
  if (n.liveness().empty()) return n.up() ? "up" : "DOWN";
  std::string s = n.liveness() == "up" ? "up" : absl::AsciiStrToUpper(n.liveness());
  if (n.liveness_since_unix_nanos() != 0) {
    absl::StrAppend(&s, " since ", ShownTime(n.liveness_since_unix_nanos()));
  }
  return s;
}

json NodeJson(const v1::ClusterNodeStatus& n) {
  json j{{"id", n.id()}, {"address", n.address()}, {"zone", n.zone()}, {"up", n.up()}};
  if (!n.liveness().empty()) {
    j["liveness"] = n.liveness();
    j["liveness_since"] = n.liveness_since_unix_nanos() == 0
                              ? json(nullptr)
                              : json(When(n.liveness_since_unix_nanos()));
    if (!n.liveness_reason().empty()) j["liveness_reason"] = n.liveness_reason();
  }
  if (n.has_status()) {
    j["clock_offset_seconds"] = n.clock_offset_nanos() / 1e9;
    j["clock_skewed"] = n.clock_skewed();
  }
  if (!n.up()) {
    j["error"] = n.error();
    return j;
  }
  const v1::NodeStatusResponse& s = n.status();
  j["objects"] = s.objects();
  j["used_bytes"] = s.volume_bytes();
  j["free_bytes"] = s.free_bytes();
  j["map_version"] = s.map_version();
  // The live estimate when the node has one, else its last round's count.
  j["under_replicated"] =
      s.has_under_replication_now() ? s.under_replication_now().copies() : s.under_replicated();
  j["under_replicated_measured"] = s.has_under_replication_now()
                                       ? json(When(s.under_replication_now().measured_unix_nanos()))
                                       : json(nullptr);
  j["under_replicated_last_round"] = s.under_replicated();
  j["read_only"] = s.read_only();
  j["keeps_schedule"] = s.keeps_schedule();
  if (!s.etcd().empty()) j["etcd"] = s.etcd();
  j["audit_events_held"] = s.audit_events_held();
  if (s.has_attestation()) j["attestation"] = AttestationStatusJson(s.attestation());
  j["last_repair"] = s.has_last_repair() ? RepairJson(s.last_repair()) : json(nullptr);
  j["last_scrub"] = s.has_last_scrub() ? ScrubJson(s.last_scrub()) : json(nullptr);
  return j;
}

void PrintStatusTable(const v1::ClusterStatusResponse& r, uint64_t under) {
  std::cout << "cluster map version " << r.map_version() << ", R = " << r.replication_factor()
            << " (as seen by " << r.answered_by() << "); under-replicated copies: " << under;
  if (r.has_under_replication_now()) {
    std::cout << " (estimated " << When(r.under_replication_now().measured_unix_nanos()) << ")";
  }
  std::cout << "\n";
  for (const std::string& why : r.under_replication_now().reasons()) {
    std::cout << "  " << why << "\n";
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> read_only;
  for (const auto& n : r.nodes()) {
    if (!n.up()) {
      rows.push_back({n.id(), n.zone(), n.address(), Liveness(n), "-", "-", "-", "-", n.error()});
      continue;
    }
    const v1::NodeStatusResponse& s = n.status();
    std::string scrub = "never";
    if (s.has_last_scrub()) {
      scrub =
          absl::StrCat(When(s.last_scrub().finished_unix_nanos()), " (", s.last_scrub().corrupt(),
                       " corrupt, ", s.last_scrub().repaired(), " repaired)");
    }
    rows.push_back({n.id(), n.zone().empty() ? "-" : n.zone(), n.address(), Liveness(n),
                    absl::StrCat(s.objects()), FormatBytes(s.volume_bytes()),
                    FormatBytes(s.free_bytes()),
                    absl::StrCat(s.has_under_replication_now() ? s.under_replication_now().copies()
                                                               : s.under_replicated()),
                    scrub});
    if (!s.read_only().empty()) read_only.push_back(n.id() + " READ-ONLY: " + s.read_only());
  }
  PrintTable(std::cout,
             {"NODE", "ZONE", "ADDRESS", "UP", "OBJECTS", "USED", "FREE", "UNDER", "LAST SCRUB"},
             rows);
  for (const std::string& line : read_only) std::cout << "  " << line << "\n";
  for (const auto& n : r.nodes()) {
    if (!n.liveness_reason().empty())
      std::cout << "  " << n.id() << ": " << n.liveness_reason() << "\n";
    if (n.clock_skewed()) {
      std::cout << "  CLOCK: " << n.id() << "'s clock is " << std::abs(n.clock_offset_nanos()) / 1e9
                << " s " << (n.clock_offset_nanos() > 0 ? "ahead of" : "behind")
                << " the others' (bound " << r.clock_skew_bound_nanos() / 1e9
                << " s); the ledger orders by its hybrid logical clock, not by this\n";
    }
  }
  std::cout << "snapshot scheduler: "
            << (r.snapshot_scheduler().empty() ? "none known now" : r.snapshot_scheduler()) << "\n";
  for (const auto& n : r.nodes()) {  // the control plane, as each node last found it
    if (n.up() && !n.status().etcd().empty()) {
      std::cout << "etcd, as " << n.id() << " last found it: " << n.status().etcd() << "\n";
    }
  }
  for (const auto& n : r.nodes()) {  // who vouches for each node's audit log
    for (const std::string& line : AttestationStatusLines(n.status().attestation())) {
      std::cout << n.id() << " " << line << "\n";
    }
  }
}

}  // namespace

int ClusterStatusCommand(const ClusterArgs& a) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::ClusterStatusResponse r;
  absl::Status s = FromGrpcStatus(Stub(a)->ClusterStatus(&ctx, {}, &r));
  if (!s.ok()) return PrintFailure(s);
  // The live estimate when the nodes make one (a map of several), else the
  // sum of the last rounds' counts.
  uint64_t last_rounds = 0;
  json nodes = json::array();
  for (const auto& n : r.nodes()) {
    last_rounds += n.status().under_replicated();
    nodes.push_back(NodeJson(n));
  }
  const v1::UnderReplication& now = r.under_replication_now();
  uint64_t under = r.has_under_replication_now() ? now.copies() : last_rounds;
  if (a.json) {
    std::cout << json{{"map_version", r.map_version()},
                      {"replication_factor", r.replication_factor()},
                      {"answered_by", r.answered_by()},
                      {"under_replicated", under},
                      {"under_replicated_measured", r.has_under_replication_now()
                                                        ? json(When(now.measured_unix_nanos()))
                                                        : json(nullptr)},
                      {"under_replicated_reasons",
                       std::vector<std::string>(now.reasons().begin(), now.reasons().end())},
                      {"under_replicated_last_rounds", last_rounds},
                      {"snapshot_scheduler", r.snapshot_scheduler()},
                      {"clock_skew_bound_seconds", r.clock_skew_bound_nanos() / 1e9},
                      {"nodes", nodes}}
                     .dump()
              << "\n";
  } else {
    PrintStatusTable(r, under);
  }
  return 0;
}

int ClusterRepairCommand(const ClusterArgs& a) {
  grpc::ClientContext ctx;  // no deadline: a round takes as long as the copies do
  v1::RepairRequest req;
  req.set_node(a.node);
  v1::RepairResponse r;
  absl::Status s = FromGrpcStatus(Stub(a)->Repair(&ctx, req, &r));
  if (!s.ok()) return PrintFailure(s);
  bool clean = true;
  json reports = json::array();
  for (const v1::RepairReport& n : r.reports()) {
    clean = clean && n.errors().empty() && n.under_replicated() == 0;
    reports.push_back(RepairJson(n));
    if (a.json) continue;
    std::cout << n.node_id() << ": " << n.keys_held() << " chunks and manifests held, "
              << n.buckets_differing() << " of " << n.buckets_compared()
              << " buckets differed; copied " << n.chunks_pushed() << " chunks ("
              << FormatBytes(n.bytes_pushed()) << ") and " << n.manifests_pushed()
              << " manifests; under-replicated now " << n.under_replicated() << "\n";
    for (const std::string& e : n.errors()) std::cout << "  error: " << e << "\n";
  }
  if (a.json) std::cout << json{{"reports", reports}, {"complete", clean}}.dump() << "\n";
  if (!clean) {
    std::cerr << "custody: repair is not complete: a node could not be reached or copies are "
                 "still missing (see above); it is retried every round\n";
  }
  return clean ? 0 : 1;
}

int ClusterScrubCommand(const ClusterArgs& a) {
  grpc::ClientContext ctx;  // no deadline: a pass reads every chunk at the bounded rate
  v1::ScrubRequest req;
  req.set_node(a.node);
  v1::ScrubResponse r;
  absl::Status s = FromGrpcStatus(Stub(a)->Scrub(&ctx, req, &r));
  if (!s.ok()) return PrintFailure(s);
  bool clean = true;
  json reports = json::array();
  for (const v1::ScrubReport& n : r.reports()) {
    clean = clean && n.errors().empty();
    reports.push_back(ScrubJson(n));
    if (a.json) continue;
    double secs = (n.finished_unix_nanos() - n.started_unix_nanos()) / 1e9;
    std::cout << n.node_id() << ": checked " << n.chunks() << " chunks (" << FormatBytes(n.bytes())
              << ") in " << std::fixed << std::setprecision(1) << secs << " s; " << n.corrupt()
              << " corrupt, " << n.repaired() << " repaired\n";
    for (const std::string& e : n.errors()) std::cout << "  error: " << e << "\n";
  }
  if (a.json) std::cout << json{{"reports", reports}, {"complete", clean}}.dump() << "\n";
  if (!clean) std::cerr << "custody: scrub found damage it could not repair (see above)\n";
  return clean ? 0 : 1;
}

}  // namespace custody
