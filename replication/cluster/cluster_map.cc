#include "replication/cluster/cluster_map.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/units.h"

namespace custody {
namespace {

using json = nlohmann::json;

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("cluster map: ", what));
}

absl::StatusOr<NodeInfo> ParseNode(const json& j, size_t i) {
  static const std::regex kId("[A-Za-z0-9._-]{1,64}");
  std::string where = absl::StrCat("nodes[", i, "]");
  if (!j.is_object()) return Invalid(where + " must be an object");
  for (const auto& [k, v] : j.items()) {
    if (k != "id" && k != "address" && k != "zone") {
      return Invalid(absl::StrCat(where, ": unknown field \"", k, "\""));
    }
    if (!v.is_string()) return Invalid(absl::StrCat(where, ".", k, " must be a string"));
  }
  NodeInfo n{j.value("id", ""), j.value("address", ""), j.value("zone", "")};
  if (!std::regex_match(n.id, kId)) {
    return Invalid(absl::StrCat(where, ".id \"", n.id, "\" is not 1 to 64 of [A-Za-z0-9._-]"));
  }
  size_t colon = n.address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == n.address.size()) {
    return Invalid(absl::StrCat(where, ".address \"", n.address, "\" is not host:port"));
  }
  if (n.zone.empty()) n.zone = n.id;  // no zone given: its own failure domain
  return n;
}

absl::Status ParseTop(const json& j, uint64_t* version, int* r, uint64_t* chunk,
                      std::string* offsite) {
  if (!j.contains("version") || !j["version"].is_number_unsigned() || j["version"] == 0) {
    return Invalid("\"version\" must be a positive integer");
  }
  *version = j["version"].get<uint64_t>();
  if (!j.contains("replication_factor") || !j["replication_factor"].is_number_unsigned()) {
    return Invalid("\"replication_factor\" must be a positive integer");
  }
  *r = j["replication_factor"].get<int>();
  if (j.contains("chunk_size")) {
    if (!j["chunk_size"].is_string()) return Invalid("\"chunk_size\" must be a size like \"4MiB\"");
    absl::StatusOr<uint64_t> c = ParseByteSize(j["chunk_size"].get<std::string>());
    if (!c.ok()) return Invalid(absl::StrCat("chunk_size: ", c.status().message()));
    *chunk = *c;
  }
  if (j.contains("offsite")) {
    const json& o = j["offsite"];
    if (!o.is_object() || !o.contains("address") || !o["address"].is_string()) {
      return Invalid("\"offsite\" must be {\"address\": \"host:port\"}");
    }
    *offsite = o["address"].get<std::string>();
  }
  for (const auto& [k, v] : j.items()) {
    static const std::set<std::string> kKnown = {"version", "replication_factor", "chunk_size",
                                                 "offsite", "nodes"};
    if (!kKnown.count(k)) return Invalid(absl::StrCat("unknown field \"", k, "\""));
  }
  return absl::OkStatus();
}

}  // namespace

uint64_t RendezvousScore(const Digest& key, const std::string& node_id) {
  Sha256 h;
  h.Update(key.data(), Digest::kSize);
  h.Update(node_id.data(), node_id.size());
  Digest d = h.Finish();
  return absl::big_endian::Load64(d.data());
}

absl::StatusOr<ClusterMap> ClusterMap::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the cluster map ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<ClusterMap> m = Parse(ss.str());
  if (!m.ok())
    return absl::Status(m.status().code(), absl::StrCat(path, ": ", m.status().message()));
  return m;
}

absl::StatusOr<ClusterMap> ClusterMap::Parse(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Invalid("not a JSON object");
  ClusterMap m;
  RETURN_IF_ERROR(
      ParseTop(j, &m.version_, &m.replication_factor_, &m.chunk_size_, &m.offsite_address_));
  if (!j.contains("nodes") || !j["nodes"].is_array() || j["nodes"].empty()) {
    return Invalid("\"nodes\" must be a non-empty list");
  }
  std::set<std::string> ids, addresses;
  for (size_t i = 0; i < j["nodes"].size(); ++i) {
    ASSIGN_OR_RETURN(NodeInfo n, ParseNode(j["nodes"][i], i));
    if (!ids.insert(n.id).second) return Invalid(absl::StrCat("node id \"", n.id, "\" twice"));
    if (!addresses.insert(n.address).second) {
      return Invalid(absl::StrCat("address \"", n.address, "\" twice"));
    }
    m.nodes_.push_back(std::move(n));
  }
  if (m.replication_factor_ < 1 || m.replication_factor_ > static_cast<int>(m.nodes_.size())) {
    return Invalid(absl::StrCat("replication_factor ", m.replication_factor_, " needs 1 to ",
                                m.nodes_.size(), " (the number of nodes)"));
  }
  return m;
}

ClusterMap ClusterMap::Single(const std::string& node_id, const std::string& address) {
  ClusterMap m;
  m.nodes_.push_back(NodeInfo{node_id, address, node_id});
  return m;
}

const NodeInfo* ClusterMap::Find(const std::string& id) const {
  for (const NodeInfo& n : nodes_) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

std::vector<const NodeInfo*> ClusterMap::Rank(const Digest& key) const {
  std::vector<std::pair<uint64_t, const NodeInfo*>> scored;
  for (const NodeInfo& n : nodes_) scored.emplace_back(RendezvousScore(key, n.id), &n);
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second->id < b.second->id;
  });
  // Home replicas: the best node of each zone not used yet, then by score.
  std::vector<const NodeInfo*> out;
  std::set<std::string> zones;
  std::vector<bool> taken(scored.size(), false);
  for (size_t i = 0; i < scored.size() && static_cast<int>(out.size()) < replication_factor_; ++i) {
    if (zones.insert(scored[i].second->zone).second) {
      out.push_back(scored[i].second);
      taken[i] = true;
    }
  }
  for (size_t i = 0; i < scored.size(); ++i) {
    if (!taken[i]) out.push_back(scored[i].second);
  }
  return out;
}

}  // namespace custody
