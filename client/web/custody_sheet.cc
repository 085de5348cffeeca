#include "client/web/custody_sheet.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/audit_text.h"
#include "client/bundle_verifier.h"
#include "client/shown_time.h"
#include "client/web/register_proofs.h"
#include "common/sm3.h"
#include "custody/v1/access.pb.h"
#include "custody/v1/audit.pb.h"
#include "custody/v1/records.pb.h"

namespace custody::web {
namespace {

using json = nlohmann::ordered_json;

// One object's history, each event checked against the node's checkpoint.
json ObjectHistory(NodeRelay* relay, const v1::Segment& s, const CallerCredentials& who) {
  json out = {{"id", s.object_id()}, {"kind", s.kind()}, {"device", s.device()}};
  v1::AuditExportRequest req;
  req.set_subject(s.object_id());
  v1::AuditBundle bundle;
  absl::Status st = relay->Call("custody.v1.Audit/Export", req, &bundle, who);
  if (!st.ok()) {
    out["error"] = std::string(st.message());
    return out;
  }
  BundleReport report = VerifyBundleBytes(bundle.SerializeAsString(), BundleVerifyOptions());
  out["proof"] = report.ok() ? "verified" : "failed";
  out["problems"] = report.problems;
  out["checkpoint"] = {{"origin", report.checkpoint.origin},
                       {"size", report.checkpoint.size},
                       {"root", report.checkpoint.root.Hex()}};
  // Who else vouches for that checkpoint: witnesses' cosignatures (counted,
  // checked by `custody audit verify --witness-key`), the TSA's time.
  const AttestationReport& a = report.attestation;
  out["cosignatures"] = a.cosignatures;
  out["timestamp"] = a.tsa_time == absl::InfinitePast()
                         ? ""
                         : absl::StrCat(ShownTime(absl::ToUnixNanos(a.tsa_time)), " ", a.tsa);
  json events = json::array();
  for (const v1::AuditEvent& e : report.events) events.push_back(EventJson(e));
  out["events"] = events;
  return out;
}

// Every grant of record `id`, following the node's pages; {"error": ...}
// when a page fails.
json RecordGrants(NodeRelay* relay, const std::string& id, const CallerCredentials& who) {
  json out = {{"grants", json::array()}};
  std::string token;
  do {
    absl::StatusOr<std::string> page = relay->CallJson(
        "custody.v1.Access/ListAccess", json{{"record_id", id}, {"page_token", token}}.dump(), who);
    if (!page.ok()) return json{{"error", std::string(page.status().message())}};
    json p = json::parse(*page);
    for (const json& g : p.value("grants", json::array())) out["grants"].push_back(g);
    token = p.value("next_page_token", "");
  } while (!token.empty());
  return out;
}

}  // namespace

absl::StatusOr<std::string> CustodySheet(NodeRelay* relay, const std::string& record,
                                         const CallerCredentials& who) {
  v1::RecordRef ref;
  ref.set_record_id(record);
  v1::Record r;
  absl::Status st = relay->Call("custody.v1.Records/Show", ref, &r, who);
  if (!st.ok()) return st;
  absl::StatusOr<std::string> fields =
      relay->CallJson("custody.v1.Records/Show", json{{"record_id", r.id()}}.dump(), who);
  if (!fields.ok()) return fields.status();
  json sheet = {{"record", json::parse(*fields)}};
  json objects = json::array();
  for (const v1::Segment& s : r.segments()) objects.push_back(ObjectHistory(relay, s, who));
  sheet["objects"] = objects;
  // The record's own events, each proven against its node's checkpoint as
  // the register proves them.
  absl::StatusOr<std::string> history =
      ProvenRegister(relay, json{{"subject", "record:" + r.id()}}.dump(), who);
  sheet["record_history"] = history.ok() ? json::parse(*history)
                                         : json{{"error", std::string(history.status().message())}};
  sheet["grants"] = RecordGrants(relay, r.id(), who);
  // The sheet hashed with both SHA-256 and SM3 (GB/T 32905-2016): the
  // digests of its JSON text as served without this last member, i.e. the
  // text up to `,"digests"` followed by `}`.
  std::string text = sheet.dump(-1, ' ', false, json::error_handler_t::replace);
  sheet["digests"] = {{"sha256", Digest::Of(text).Hex()}, {"sm3", Sm3::ToString(Sm3::Of(text))}};
  return sheet.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace custody::web
