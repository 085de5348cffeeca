#include "client/cluster_map_cli.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "client/cli_errors.h"
#include "client/client.h"
#include "common/files.h"
#include "common/grpc_status.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;

void Print(const ClusterArgs& a, const v1::ClusterMapResponse& r) {
  if (a.json) {
    std::cout << json{{"version", r.version()},
                      {"source", r.source()},
                      {"running_version", r.running_version()},
                      {"map", json::parse(r.map_json(), nullptr, false)}}
                     .dump()
              << "\n";
    return;
  }
  std::cout << r.map_json();
  if (r.map_json().empty() || r.map_json().back() != '\n') std::cout << "\n";
  std::cerr << "cluster map version " << r.version() << " (from " << r.source() << "); the node "
            << "that answered runs version " << r.running_version() << "\n";
}

std::unique_ptr<v1::Custody::Stub> Stub(const ClusterArgs& a) {
  return v1::Custody::NewStub(CustodyClient::ChannelToAnyOf(a.server));
}

}  // namespace

int ClusterMapShowCommand(const ClusterArgs& a) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::ClusterMapResponse r;
  absl::Status s = FromGrpcStatus(Stub(a)->GetClusterMap(&ctx, {}, &r));
  if (!s.ok()) return PrintFailure(s);
  Print(a, r);
  return 0;
}

int ClusterMapApplyCommand(const ClusterArgs& a, const std::string& file) {
  absl::StatusOr<std::string> text = ReadFileToString(file);
  if (!text.ok()) return PrintFailure(UsageError(text.status().message()));
  v1::ApplyClusterMapRequest req;
  req.set_map_json(*text);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::ClusterMapResponse r;
  absl::Status s = FromGrpcStatus(Stub(a)->ApplyClusterMap(&ctx, req, &r));
  if (!s.ok()) return PrintFailure(s);
  if (a.json) {
    Print(a, r);
  } else {
    std::cout << "cluster map version " << r.version()
              << " is in etcd; every node switches to it within seconds (custody cluster status "
                 "shows each node's version)\n";
  }
  return 0;
}

}  // namespace custody
