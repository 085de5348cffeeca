#include "tests/integration/cluster_util.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "common/files.h"
#include "custody/internal/v1/replica.grpc.pb.h"

namespace custody::testing {

std::string WriteMap(const std::string& path, int n, int version, int r, std::vector<int>* ports) {
  std::string nodes;
  for (int i = 0; i < n; ++i) {
    ports->push_back(FreePort());
    absl::StrAppend(&nodes, i ? "," : "", R"({"id": "n)", i + 1, R"(", "address": "127.0.0.1:)",
                    ports->back(), R"(", "zone": ")", i % 2 ? "b" : "a", "\"}");
  }
  std::ofstream(path) << absl::StrCat(R"({"version": )", version, R"(, "replication_factor": )", r,
                                      R"(, "nodes": [)", nodes, "]}");
  return path;
}

std::vector<std::unique_ptr<NodeProcess>> StartMappedNodes(const TempDir& dir,
                                                           const std::string& map_file,
                                                           const std::vector<int>& ports,
                                                           const std::vector<std::string>& extra) {
  std::vector<std::unique_ptr<NodeProcess>> nodes;
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string id = "n" + std::to_string(i + 1);
    std::vector<std::string> args{"--cluster", map_file, "--node-id", id};
    args.insert(args.end(), extra.begin(), extra.end());
    nodes.push_back(std::make_unique<NodeProcess>(dir / id, args, ports[i]));
    if (!nodes.back()->Start()) {
      ADD_FAILURE() << id << " did not start: " << nodes.back()->Log();
      return {};
    }
  }
  WaitUntilPeersAreUp(nodes);
  return nodes;
}

void WaitUntilPeersAreUp(const std::vector<std::unique_ptr<NodeProcess>>& nodes,
                         const std::string& tls_dir) {
  // A node started before its peers has its channels to them in reconnect
  // backoff for up to 3 s; a put then would place a handoff copy.
  for (const auto& node : nodes) {
    absl::Time deadline = absl::Now() + absl::Seconds(20);
    for (bool all_up = false; !all_up && absl::Now() < deadline;) {
      std::vector<std::string> args = {"--server", node->address()};
      if (!tls_dir.empty()) args.insert(args.end(), {"--tls", tls_dir});
      args.insert(args.end(), {"cluster", "status", "--json"});
      CliResult r = RunCli(args);
      nlohmann::json st =
          r.exit_code == 0 ? nlohmann::json::parse(r.out, nullptr, false) : nlohmann::json();
      all_up = st.is_object() && st.contains("nodes");
      if (all_up) {
        for (const auto& n : st["nodes"]) all_up = all_up && n.value("up", false);
      }
      if (!all_up) absl::SleepFor(absl::Milliseconds(200));
    }
  }
}

std::vector<std::string> Holders(const std::vector<std::unique_ptr<NodeProcess>>& nodes,
                                 internal::v1::BlobKind kind, const Digest& key, int map_version) {
  std::vector<std::string> out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto stub = internal::v1::Replica::NewStub(CustodyClient::NewChannel(nodes[i]->address()));
    internal::v1::FindMissingRequest req;
    req.set_kind(kind);
    req.add_keys(std::string(key.Raw()));
    internal::v1::FindMissingResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    ctx.AddMetadata("custody-map-version", std::to_string(map_version));
    if (stub->FindMissing(&ctx, req, &resp).ok() && resp.missing_size() == 0) {
      out.push_back("n" + std::to_string(i + 1));
    }
  }
  return out;
}

std::vector<std::unique_ptr<NodeProcess>> StartTlsCluster(
    const TempDir& dir, const std::map<std::string, std::vector<std::string>>& users,
    const std::string& status_user, int n, const std::vector<std::string>& extra) {
  // A test may have made the CA first (to issue certificates of its own).
  if (!std::filesystem::exists(dir / "ca/ca.pem")) {
    EXPECT_EQ(RunCli({"ca", "init", dir / "ca"}).exit_code, 0);
  }
  for (const auto& [name, flags] : users) {
    std::vector<std::string> args = {"ca",     "issue", "--ca", dir / "ca",
                                     "--user", name,    "-o",   dir / name};
    args.insert(args.end(), flags.begin(), flags.end());
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
  EXPECT_TRUE(CustodyClient::UseTls(dir / status_user).ok());
  std::vector<int> ports;
  std::string map = WriteMap(dir / "map.json", n, 1, std::min(n, 2), &ports);
  for (int i = 0; i < n; ++i) {
    std::string id = "n" + std::to_string(i + 1);
    CliResult r = RunCli({"ca", "issue", "--ca", dir / "ca", "--node", id, "--host", "127.0.0.1",
                          "-o", dir / ("tls-" + id)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  // Each node finds its certificate in dir/tls-ID; StartMappedNodes names
  // the data folders dir/ID.
  std::vector<std::unique_ptr<NodeProcess>> nodes;
  for (int i = 0; i < n; ++i) {
    std::string id = "n" + std::to_string(i + 1);
    std::vector<std::string> args{"--cluster", map, "--node-id", id, "--tls", dir / ("tls-" + id)};
    args.insert(args.end(), extra.begin(), extra.end());
    nodes.push_back(std::make_unique<NodeProcess>(dir / id, args, ports[i]));
    if (!nodes.back()->Start()) {
      ADD_FAILURE() << id << " did not start: " << nodes.back()->Log();
      return {};
    }
  }
  return nodes;
}

std::string WriteTokenFile(const std::string& path, const std::string& token) {
  EXPECT_TRUE(WriteNewFile(path, token + "\n", 0600).ok()) << path;
  return path;
}

}  // namespace custody::testing
