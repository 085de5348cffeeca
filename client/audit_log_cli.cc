// `custody audit log`: one subject's history, or the register (article 21)
// across subjects, filtered by actor, action and period.
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/audit_cli.h"
#include "client/audit_text.h"
#include "client/cli_errors.h"
#include "client/record_text.h"
#include "client/unary_call.h"
#include "custody/v1/audit.grpc.pb.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;

// The subject `id` names, or why it names none.
absl::StatusOr<std::string> Subject(const std::string& id) {
  absl::StatusOr<Digest> digest = Digest::Parse(id);
  if (digest.ok()) return digest->ToString();
  // Also the subjects of records, devices, snapshots and the security
  // ledger.
  bool named = id == "node" || id == "offsite";
  for (const char* prefix : {"upload:", "record:", "device:", "snapshot:", "request:", "purge:",
                             "user:", "witness:", "dock:", "live:"}) {
    named = named || (id.rfind(prefix, 0) == 0 && id.size() > strlen(prefix));
  }
  if (named) return id;
  return UsageError(absl::StrCat(
      digest.status().message(),
      " (or give \"node\", \"offsite\", \"upload:<upload id>\", \"record:<id>\", "
      "\"device:<id>\", \"snapshot:<id>\", \"request:<id>\", \"purge:<id>\", "
      "\"user:<name>\", \"witness:<origin>\", \"dock:<id>\" or \"live:<id>\"; or no ID and "
      "filters for the register)"));
}

absl::StatusOr<v1::AuditLogRequest> Request(const AuditArgs& a) {
  v1::AuditLogRequest req;
  if (!a.id.empty()) {
    absl::StatusOr<std::string> subject = Subject(a.id);
    if (!subject.ok()) return subject.status();
    req.set_subject(*subject);
  } else if (a.actor.empty() && a.action.empty() && a.from.empty() && a.to.empty()) {
    return UsageError("give an ID, or filters for the register: --actor, --action, --from, --to");
  }
  req.set_actor(a.actor);
  req.set_action(a.action);
  absl::StatusOr<int64_t> from = ParseTimeFlag("--from", a.from);
  if (!from.ok()) return from.status();
  absl::StatusOr<int64_t> to = ParseTimeFlag("--to", a.to);
  if (!to.ok()) return to.status();
  req.set_from_unix_nanos(*from);
  req.set_to_unix_nanos(*to);
  req.set_limit(a.limit);
  return req;
}

// A subject's history is filtered here (the node filters the register).
bool Passes(const AuditArgs& a, const v1::AuditLogRequest& req, const v1::AuditEvent& e) {
  if (!a.actor.empty() && e.actor() != a.actor) return false;
  if (!a.action.empty() &&
      (a.action.back() == '.' ? e.action().rfind(a.action, 0) != 0 : e.action() != a.action)) {
    return false;
  }
  if (req.from_unix_nanos() != 0 && e.time_unix_nanos() < req.from_unix_nanos()) return false;
  return req.to_unix_nanos() == 0 || e.time_unix_nanos() < req.to_unix_nanos();
}

}  // namespace

int AuditLogCommand(const AuditArgs& a) {
  absl::StatusOr<v1::AuditLogRequest> req = Request(a);
  if (!req.ok()) return PrintFailure(req.status());
  v1::AuditLogResponse resp;
  absl::Status s = UnaryCall(a.server, &v1::Audit::Stub::Log, *req, &resp);
  if (!s.ok()) return PrintFailure(s);
  for (const std::string& u : resp.unreachable()) {
    std::cerr << "warning: the history may be incomplete: node " << u << "\n";
  }
  if (resp.truncated()) {
    std::cerr << "warning: a node stopped at the limit (--limit); narrow the period or filters\n";
  }
  std::vector<v1::AuditEvent> events;
  for (const std::string& bytes : resp.events()) {
    v1::AuditEvent e;
    if (!e.ParseFromString(bytes)) return PrintFailure(absl::DataLossError("bad event"));
    if (Passes(a, *req, e)) events.push_back(std::move(e));
  }
  if (!req->subject().empty() && resp.events_size() == 0) {
    return PrintFailure(
        absl::NotFoundError(absl::StrCat("no audited events about ", req->subject())));
  }
  std::vector<AuditLine> lines = GroupEvents(events);
  if (a.json) {
    json all = json::array(), grouped = json::array();
    for (const auto& e : events) all.push_back(EventJson(e));
    for (const auto& l : lines) grouped.push_back(LineJson(l));
    std::cout << json{{"subject", req->subject()},
                      {"events", all},
                      {"lines", grouped},
                      {"truncated", resp.truncated()},
                      {"unreachable", std::vector<std::string>(resp.unreachable().begin(),
                                                               resp.unreachable().end())}}
                     .dump()
              << "\n";
    return 0;
  }
  PrintLines(lines);
  std::cerr << lines.size() << " line(s) from " << events.size() << " event(s)\n";
  return 0;
}

}  // namespace custody
