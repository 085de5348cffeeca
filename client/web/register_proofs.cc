#include "client/web/register_proofs.h"

#include <google/protobuf/util/json_util.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "client/audit_text.h"
#include "client/bundle_verifier.h"
#include "custody/v1/audit.pb.h"

namespace custody::web {
namespace {

using json = nlohmann::ordered_json;
using Key = std::pair<std::string, uint64_t>;  // node, seq

// The events of `subject`'s bundle that verify, or nullopt when the bundle
// does not (the subject's events are then "failed").
std::optional<std::set<Key>> ProvenEvents(NodeRelay* relay, const std::string& subject,
                                          const CallerCredentials& who) {
  v1::AuditExportRequest req;
  req.set_subject(subject);
  v1::AuditBundle bundle;
  if (!relay->Call("custody.v1.Audit/Export", req, &bundle, who).ok()) return std::set<Key>();
  BundleReport report = VerifyBundleBytes(bundle.SerializeAsString(), BundleVerifyOptions());
  if (!report.ok()) return std::nullopt;
  std::set<Key> out;
  for (const v1::AuditEvent& e : report.events) out.insert({e.node_id(), e.seq()});
  return out;
}

}  // namespace

absl::StatusOr<std::string> ProvenRegister(NodeRelay* relay, const std::string& request_json,
                                           const CallerCredentials& who) {
  v1::AuditLogRequest req;
  if (!google::protobuf::util::JsonStringToMessage(request_json.empty() ? "{}" : request_json, &req)
           .ok()) {
    return absl::InvalidArgumentError("the register's filters are not an AuditLogRequest");
  }
  v1::AuditLogResponse log;
  absl::Status s = relay->Call("custody.v1.Audit/Log", req, &log, who);
  if (!s.ok()) return s;
  std::vector<v1::AuditEvent> events;
  for (const std::string& bytes : log.events()) {
    if (!events.emplace_back().ParseFromString(bytes)) {
      return absl::DataLossError("an event of the log does not parse");
    }
  }
  std::map<std::string, std::optional<std::set<Key>>> proven;  // by subject
  for (const v1::AuditEvent& e : events) {
    if (proven.count(e.subject()) || static_cast<int>(proven.size()) >= kMaxProvenSubjects) {
      continue;
    }
    proven[e.subject()] = ProvenEvents(relay, e.subject(), who);
  }
  json out = {{"events", json::array()},
              {"truncated", log.truncated()},
              {"unreachable",
               std::vector<std::string>(log.unreachable().begin(), log.unreachable().end())}};
  for (const v1::AuditEvent& e : events) {
    json j = EventJson(e);
    auto p = proven.find(e.subject());
    j["proof"] = p == proven.end()                          ? "not checked"
                 : !p->second                               ? "failed"
                 : p->second->count({e.node_id(), e.seq()}) ? "proven"
                                                            : "not checked";
    out["events"].push_back(std::move(j));
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace custody::web
