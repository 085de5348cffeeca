#include "client/access_cli.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/cli_errors.h"
#include "client/decision_signer.h"
#include "client/record_text.h"
#include "client/shown_time.h"
#include "client/unary_call.h"
#include "common/digest.h"
#include "common/tls.h"
#include "common/units.h"
#include "custody/v1/access.grpc.pb.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;

json PrincipalJson(const v1::Principal& p) {
  return json{{"name", p.name()},           {"roles", p.roles()},       {"agency", p.agency()},
              {"clearance", p.clearance()}, {"disabled", p.disabled()}, {"via", p.via()}};
}

json GrantJson(const v1::AccessGrant& g) {
  json approvals = json::array();
  for (const v1::Approval& x : g.approvals()) {
    approvals.push_back(
        {{"by", x.by()}, {"role", x.role()}, {"time", ShownTime(x.time_unix_nanos())}});
  }
  json j{{"request", g.request_id()},  {"object", g.object_id()}, {"record", g.record_id()},
         {"requester", g.requester()}, {"purpose", g.purpose()},  {"reason", g.reason()},
         {"state", g.state()},         {"seconds", g.seconds()},  {"agency", g.agency()},
         {"approvals", approvals}};
  if (g.expires_unix_nanos() != 0) j["expires"] = ShownTime(g.expires_unix_nanos());
  if (!g.decided_by().empty()) j["decided_by"] = g.decided_by();
  if (!g.note().empty()) j["note"] = g.note();
  return j;
}

int PrintGrant(const AccessArgs& a, const v1::AccessGrant& g) {
  if (a.json) {
    std::cout << GrantJson(g).dump() << "\n";
    return 0;
  }
  std::cout << "request " << g.request_id() << ": " << g.state() << "\n"
            << (g.record_id().empty() ? "  object    " + g.object_id()
                                      : "  record    " + g.record_id() + " (all its objects)")
            << " (" << g.purpose() << ")\n  requester " << g.requester() << "\n  reason    "
            << g.reason() << "\n";
  for (const v1::Approval& x : g.approvals()) {
    std::cout << "  approved  by " << x.by() << " as " << x.role() << " at "
              << ShownTime(x.time_unix_nanos()) << "\n";
  }
  if (g.expires_unix_nanos() != 0) {
    std::cout << "  until     " << ShownTime(g.expires_unix_nanos()) << "\n";
  }
  return 0;
}

// The whole id of the request `ref` starts (ids are printed short).
absl::StatusOr<std::string> ResolveRequest(const std::string& server, const std::string& ref) {
  if (ref.size() == 64) return ref;
  if (ref.size() < 6 || ref.size() > 64 ||
      ref.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return UsageError(absl::StrCat("request \"", ref,
                                   "\" is not the start of a request id (6 or more hex digits)"));
  }
  v1::AccessListRequest req;
  req.set_id_prefix(ref);
  req.set_page_size(6);
  v1::AccessListResponse resp;
  absl::Status s = UnaryCall(server, &v1::Access::Stub::ListAccess, req, &resp);
  if (!s.ok()) return s;
  std::vector<std::string> matches;
  for (const v1::AccessGrant& g : resp.grants()) {
    if (g.request_id().rfind(ref, 0) == 0) matches.push_back(g.request_id());
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty())
    return ref;  // the node says why: no such request, or not the caller's to decide
  return UsageError(
      absl::StrCat("\"", ref, "\" starts ", matches.size(), " request ids; give more of it"));
}

std::string ApprovalsText(const v1::AccessGrant& g) {
  std::vector<std::string> by;
  for (const v1::Approval& x : g.approvals()) by.push_back(x.by() + " (" + x.role() + ")");
  return by.empty() ? "-" : absl::StrJoin(by, ", ");
}

}  // namespace

int WhoAmICommand(const AccessArgs& a) {
  v1::Principal p;
  absl::Status s = UnaryCall(a.server, &v1::Access::Stub::WhoAmI, v1::WhoAmIRequest(), &p);
  if (!s.ok()) return PrintFailure(s);
  if (a.json) {
    std::cout << PrincipalJson(p).dump() << "\n";
    return 0;
  }
  std::cout << "name:       " << p.name() << (p.disabled() ? " (disabled)" : "") << "\n"
            << "roles:      " << absl::StrJoin(p.roles(), ", ") << "\n"
            << "agency:     "
            << (p.agency().empty() ? "none (not bound to one agency)" : p.agency()) << "\n"
            << "clearance:  " << p.clearance() << "\n"
            << "via:        " << p.via() << "\n";
  return 0;
}

int UserAddCommand(const AccessArgs& a) {
  v1::UserAddRequest req;
  req.set_name(a.name);
  for (const std::string& r : a.roles) req.add_roles(r);
  req.set_agency(a.agency);
  req.set_clearance(a.clearance.empty() ? "internal" : a.clearance);
  // Over TLS the admin signs the new user, and the token is made here: the
  // cluster only ever sees its hash.
  std::string token;
  if (CustodyClient::TlsCredentials()) {
    absl::StatusOr<std::string> t = NewBearerToken();
    if (!t.ok()) return PrintFailure(t.status());
    token = *t;
    absl::StatusOr<v1::SignedDecision> d =
        SignDecision("user.added", "user:" + a.name,
                     {{"roles", absl::StrJoin(a.roles, ",")},
                      {"agency", a.agency},
                      {"clearance", req.clearance()},
                      {"token_sha256", Digest::Of(token).Hex()}});
    if (!d.ok()) return PrintFailure(d.status());
    *req.mutable_signed_() = *d;
  }
  v1::UserAddResponse resp;
  absl::Status s = UnaryCall(a.server, &v1::Access::Stub::UserAdd, req, &resp);
  if (!s.ok()) return PrintFailure(s);
  if (!resp.token().empty()) token = resp.token();
  resp.set_token(token);
  if (a.json) {
    std::cout << json{{"user", a.name}, {"token", resp.token()}}.dump() << "\n";
  } else {
    std::cout << resp.token() << "\n";
    std::cerr << "the token of " << a.name
              << " is shown once; the cluster keeps only its hash. Keep it in a file only you can "
                 "read and pass --token-file FILE (or set $CUSTODY_TOKEN).\n";
  }
  return 0;
}

int UserListCommand(const AccessArgs& a) {
  v1::UserListResponse resp;
  absl::Status s = UnaryCall(a.server, &v1::Access::Stub::UserList, v1::UserListRequest(), &resp);
  if (!s.ok()) return PrintFailure(s);
  json users = json::array();
  for (const v1::Principal& p : resp.users()) users.push_back(PrincipalJson(p));
  if (a.json) {
    std::cout << json{{"users", users}}.dump() << "\n";
    return 0;
  }
  for (const v1::Principal& p : resp.users()) {
    std::cout << p.name() << "  roles=" << absl::StrJoin(p.roles(), ",")
              << "  agency=" << p.agency() << "  clearance=" << p.clearance()
              << (p.disabled() ? "  DISABLED" : "") << "\n";
  }
  return 0;
}

int UserDisableCommand(const AccessArgs& a) {
  v1::UserDisableRequest req;
  req.set_name(a.name);
  req.set_reason(a.reason);
  absl::StatusOr<v1::SignedDecision> d =
      SignDecision("user.disabled", "user:" + a.name, {{"reason", a.reason}});
  if (!d.ok()) return PrintFailure(d.status());
  *req.mutable_signed_() = *d;
  v1::UserDisableResponse resp;
  absl::Status s = UnaryCall(a.server, &v1::Access::Stub::UserDisable, req, &resp);
  if (!s.ok()) return PrintFailure(s);
  std::cout << "user " << a.name << " is disabled\n";
  return 0;
}

int AccessRequestCommand(const AccessArgs& a) {
  v1::AccessRequestRequest req;
  req.set_object_id(a.object);
  req.set_record_id(a.record);
  req.set_reason(a.reason);
  req.set_purpose(a.purpose);
  absl::Duration d;
  if (!absl::ParseDuration(a.duration, &d) || d <= absl::ZeroDuration()) {
    return PrintFailure(UsageError("--for takes a duration such as 30m, 24h or 72h"));
  }
  req.set_seconds(static_cast<uint64_t>(absl::ToInt64Seconds(d)));
  v1::AccessGrant g;
  absl::Status s = UnaryCall(a.server, &v1::Access::Stub::RequestAccess, req, &g);
  return s.ok() ? PrintGrant(a, g) : PrintFailure(s);
}

int AccessListCommand(const AccessArgs& a) {
  v1::AccessListRequest req;
  req.set_object_id(a.object);
  req.set_record_id(a.record);
  req.set_waiting_for_me(a.waiting_for_me);
  // Page by page, each printed as it comes: the list may be long.
  size_t count = 0;
  if (a.json) std::cout << "{\"grants\":[";
  do {
    v1::AccessListResponse resp;
    absl::Status s = UnaryCall(a.server, &v1::Access::Stub::ListAccess, req, &resp);
    if (!s.ok()) return PrintFailure(s);
    std::vector<std::vector<std::string>> rows;
    for (const v1::AccessGrant& g : resp.grants()) {
      if (a.json) {
        std::cout << (count++ == 0 ? "" : ",") << GrantJson(g).dump();
        continue;
      }
      rows.push_back({g.request_id().substr(0, 16), g.state(),
                      g.record_id().empty() ? g.object_id() : "record " + g.record_id(),
                      g.purpose(), g.requester(), ApprovalsText(g), g.reason()});
    }
    if (!a.json) {
      PrintTable(std::cout,
                 {"REQUEST", "STATE", "FOR", "PURPOSE", "REQUESTER", "APPROVED BY", "REASON"}, rows,
                 req.page_token().empty());
      count += rows.size();
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (a.json) {
    std::cout << "]}\n";
    return 0;
  }
  std::cerr << count << " request(s)" << (a.waiting_for_me ? " waiting for you" : "")
            << "; a request is named by the start of its id\n";
  return 0;
}

int AccessDecideCommand(const AccessArgs& given, bool approve) {
  absl::StatusOr<std::string> id = ResolveRequest(given.server, given.request);
  if (!id.ok()) return PrintFailure(id.status());
  AccessArgs a = given;
  a.request = *id;
  v1::AccessDecideRequest req;
  req.set_request_id(a.request);
  req.set_approve(approve);
  req.set_note(a.reason);
  std::map<std::string, std::string> fields{{"request", a.request}};
  if (!a.reason.empty()) fields["note"] = a.reason;
  absl::StatusOr<v1::SignedDecision> d =
      SignDecision(approve ? "access.approved" : "access.denied", "request:" + a.request, fields);
  if (!d.ok()) return PrintFailure(d.status());
  *req.mutable_signed_() = *d;
  v1::AccessGrant g;
  absl::Status s = UnaryCall(a.server, &v1::Access::Stub::Decide, req, &g);
  return s.ok() ? PrintGrant(a, g) : PrintFailure(s);
}

int AccessRevokeCommand(const AccessArgs& given) {
  absl::StatusOr<std::string> id = ResolveRequest(given.server, given.request);
  if (!id.ok()) return PrintFailure(id.status());
  AccessArgs a = given;
  a.request = *id;
  v1::AccessRevokeRequest req;
  req.set_request_id(a.request);
  req.set_reason(a.reason);
  absl::StatusOr<v1::SignedDecision> d = SignDecision(
      "access.revoked", "request:" + a.request, {{"request", a.request}, {"reason", a.reason}});
  if (!d.ok()) return PrintFailure(d.status());
  *req.mutable_signed_() = *d;
  v1::AccessGrant g;
  absl::Status s = UnaryCall(a.server, &v1::Access::Stub::Revoke, req, &g);
  return s.ok() ? PrintGrant(a, g) : PrintFailure(s);
}

}  // namespace custody
