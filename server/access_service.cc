#include "server/access_service.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "server/unary.h"

namespace custody {

namespace {

bool ValidName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string NewToken() {
  unsigned char raw[32];
  RAND_bytes(raw, sizeof(raw));
  return "cust_" + absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(raw), 32));
}

// A grant as it stands at `now` (a granted one past its end is expired).
v1::AccessGrant AsOfNow(v1::AccessGrant g) {
  if (g.state() == "granted" && g.expires_unix_nanos() <= absl::ToUnixNanos(absl::Now())) {
    g.set_state("expired");
  }
  return g;
}

bool Approved(const v1::AccessGrant& g, const std::string& role) {
  for (const v1::Approval& a : g.approvals()) {
    if (a.role() == role) return true;
  }
  return false;
}

// The role `p` approves `g` in, or why it cannot.
absl::StatusOr<std::string> ApprovalRole(const v1::Principal& p, const v1::AccessGrant& g) {
  if (p.name() == g.requester()) {
    return absl::PermissionDeniedError("nobody approves their own access request");
  }
  for (const v1::Approval& a : g.approvals()) {
    if (a.by() == p.name()) {
      return absl::PermissionDeniedError(absl::StrCat(
          p.name(), " already approved this request; the second approval must come from "
                    "another person"));
    }
  }
  if (HasRole(p, "archive-head") && !Approved(g, "archive-head")) return std::string("archive-head");
  if (HasRole(p, "leader") && !Approved(g, "leader")) {
    if (!g.agency().empty() && p.agency() != g.agency()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "only a leader of agency \"", g.agency(), "\", which made the record, approves it; ",
          p.name(), " leads \"", p.agency(), "\""));
    }
    return std::string("leader");
  }
  return absl::FailedPreconditionError(
      "this request already has the approval your role gives; it needs the other one (an "
      "archive-head and a leader of the agency)");
}

}  // namespace

absl::Status AccessService::Change(const v1::Principal& by, v1::LedgerEntry entry,
                                   const std::string& action, const std::string& audit_subject) {
  entry.set_actor(by.name());
  v1::AuditEvent e = NewEvent(action, audit_subject, by.name());
  for (const auto& [k, v] : entry.fields()) {
    if (k != "token_sha256") AddDetail(&e, k, v);
  }
  ASSIGN_OR_RETURN(Ledger::Appended a, node_->ledger()->Append(std::move(entry), std::move(e)));
  (void)a;  // anti-entropy brings it to nodes that did not take it now
  return absl::OkStatus();
}

absl::StatusOr<v1::AccessGrant> AccessService::Grant(const std::string& request_id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const AccessState> st, node_->access_state());
  auto it = st->grants.find(request_id);
  if (it == st->grants.end()) {
    return absl::NotFoundError(absl::StrCat("no access request ", request_id));
  }
  return AsOfNow(it->second);
}

grpc::ServerUnaryReactor* AccessService::WhoAmI(grpc::CallbackServerContext* ctx,
                                                const v1::WhoAmIRequest*, v1::Principal* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(*out, node_->Authorize(*ctx, Action::kStatus));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccessService::UserAdd(grpc::CallbackServerContext* ctx,
                                                 const v1::UserAddRequest* req,
                                                 v1::UserAddResponse* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal by, node_->Authorize(*ctx, Action::kManageUsers));
    if (!ValidName(req->name())) {
      return absl::InvalidArgumentError("a user name is 1-64 of [A-Za-z0-9._-]");
    }
    if (req->roles().empty()) return absl::InvalidArgumentError("a user needs at least one --role");
    for (const std::string& r : req->roles()) {
      if (!IsRole(r)) return absl::InvalidArgumentError(absl::StrCat("unknown role \"", r, "\""));
    }
    std::string clearance = req->clearance().empty() ? "internal" : req->clearance();
    if (LevelRank(clearance) < 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown clearance \"", clearance, "\""));
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const AccessState> st, node_->access_state());
    auto existing = st->users.find(req->name());
    if (existing != st->users.end() && !existing->second.disabled()) {
      return absl::AlreadyExistsError(absl::StrCat("user ", req->name(), " exists"));
    }
    std::string token = NewToken();
    v1::LedgerEntry e;
    e.set_kind("user.added");
    e.set_subject("user:" + req->name());
    (*e.mutable_fields())["roles"] = absl::StrJoin(req->roles(), ",");
    (*e.mutable_fields())["agency"] = req->agency();
    (*e.mutable_fields())["clearance"] = clearance;
    (*e.mutable_fields())["token_sha256"] = Digest::Of(token).Hex();
    RETURN_IF_ERROR(Change(by, std::move(e), "user.added", "user:" + req->name()));
    out->set_token(token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccessService::UserList(grpc::CallbackServerContext* ctx,
                                                  const v1::UserListRequest*,
                                                  v1::UserListResponse* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(node_->Authorize(*ctx, Action::kManageUsers).status());
    ASSIGN_OR_RETURN(std::shared_ptr<const AccessState> st, node_->access_state());
    for (const auto& [name, p] : st->users) *out->add_users() = p;
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccessService::UserDisable(grpc::CallbackServerContext* ctx,
                                                     const v1::UserDisableRequest* req,
                                                     v1::UserDisableResponse*) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal by, node_->Authorize(*ctx, Action::kManageUsers));
    if (!ValidName(req->name())) {
      return absl::InvalidArgumentError("a user name is 1-64 of [A-Za-z0-9._-]");
    }
    if (req->reason().empty()) return absl::InvalidArgumentError("say why (--reason)");
    v1::LedgerEntry e;
    e.set_kind("user.disabled");
    e.set_subject("user:" + req->name());
    (*e.mutable_fields())["reason"] = req->reason();
    return Change(by, std::move(e), "user.disabled", "user:" + req->name());
  });
}

grpc::ServerUnaryReactor* AccessService::RequestAccess(grpc::CallbackServerContext* ctx,
                                                       const v1::AccessRequestRequest* req,
                                                       v1::AccessGrant* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal by,
                     node_->Authorize(*ctx, Action::kRequestAccess, req->object_id()));
    ASSIGN_OR_RETURN(Digest id, Digest::Parse(req->object_id()));
    ASSIGN_OR_RETURN(v1::ObjectManifest m, node_->VisibleManifest(by, id, Action::kRequestAccess));
    std::string purpose = req->purpose().empty() ? "view" : req->purpose();
    if (purpose != "view" && purpose != "export") {
      return absl::InvalidArgumentError("purpose is view or export");
    }
    if (req->reason().size() < 3) {
      return absl::InvalidArgumentError("say why you need to see it (--reason)");
    }
    uint64_t seconds = req->seconds() == 0 ? 86400 : req->seconds();
    if (seconds > 30 * 86400) return absl::InvalidArgumentError("a grant lives at most 30 days");
    v1::LedgerEntry e;
    e.set_kind("access.requested");
    e.set_subject("object:" + id.ToString());
    auto& f = *e.mutable_fields();
    f["object"] = id.ToString();
    f["reason"] = req->reason();
    f["purpose"] = purpose;
    f["seconds"] = absl::StrCat(seconds);
    auto agency = m.metadata().find("agency");
    f["agency"] = agency == m.metadata().end() ? "" : agency->second;
    e.set_actor(by.name());
    v1::AuditEvent ev = NewEvent("access.requested", id.ToString(), by.name());
    for (const auto& [k, v] : f) AddDetail(&ev, k, v);
    ASSIGN_OR_RETURN(Ledger::Appended a, node_->ledger()->Append(std::move(e), std::move(ev)));
    ASSIGN_OR_RETURN(*out, Grant(a.id.Hex()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccessService::ListAccess(grpc::CallbackServerContext* ctx,
                                                    const v1::AccessListRequest* req,
                                                    v1::AccessListResponse* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal by, node_->Authorize(*ctx, Action::kStatus));
    bool all = HasRole(by, "archive-head") || HasRole(by, "leader") || HasRole(by, "auditor");
    ASSIGN_OR_RETURN(std::shared_ptr<const AccessState> st, node_->access_state());
    for (const auto& [id, g] : st->grants) {
      if (!all && g.requester() != by.name()) continue;
      if (!req->object_id().empty() && g.object_id() != req->object_id()) continue;
      *out->add_grants() = AsOfNow(g);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccessService::Decide(grpc::CallbackServerContext* ctx,
                                                const v1::AccessDecideRequest* req,
                                                v1::AccessGrant* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal by, node_->Authorize(*ctx, Action::kDecideAccess));
    ASSIGN_OR_RETURN(v1::AccessGrant g, Grant(req->request_id()));
    if (g.state() != "pending") {
      return node_->Refuse(by.name(), Action::kDecideAccess, g.object_id(),
                           absl::FailedPreconditionError(absl::StrCat(
                               "request ", g.request_id(), " is ", g.state(), ", not pending")));
    }
    v1::LedgerEntry e;
    e.set_subject("request:" + g.request_id());
    (*e.mutable_fields())["request"] = g.request_id();
    if (req->approve()) {
      absl::StatusOr<std::string> role = ApprovalRole(by, g);
      if (!role.ok()) return node_->Refuse(by.name(), Action::kDecideAccess, g.object_id(), role.status());
      e.set_kind("access.approved");
      (*e.mutable_fields())["role"] = *role;
    } else {
      if (by.name() == g.requester()) {
        return node_->Refuse(by.name(), Action::kDecideAccess, g.object_id(),
                             absl::PermissionDeniedError("nobody decides their own request"));
      }
      e.set_kind("access.denied");
      (*e.mutable_fields())["note"] = req->note();
    }
    if (!req->note().empty()) (*e.mutable_fields())["note"] = req->note();
    std::string kind = e.kind();
    RETURN_IF_ERROR(Change(by, std::move(e), kind, g.object_id()));
    ASSIGN_OR_RETURN(*out, Grant(g.request_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccessService::Revoke(grpc::CallbackServerContext* ctx,
                                                const v1::AccessRevokeRequest* req,
                                                v1::AccessGrant* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal by, node_->Authorize(*ctx, Action::kDecideAccess));
    ASSIGN_OR_RETURN(v1::AccessGrant g, Grant(req->request_id()));
    if (g.state() != "granted" && g.state() != "pending") {
      return absl::FailedPreconditionError(
          absl::StrCat("request ", g.request_id(), " is ", g.state(), ": nothing to revoke"));
    }
    if (req->reason().empty()) return absl::InvalidArgumentError("say why (--reason)");
    v1::LedgerEntry e;
    e.set_kind("access.revoked");
    e.set_subject("request:" + g.request_id());
    (*e.mutable_fields())["request"] = g.request_id();
    (*e.mutable_fields())["reason"] = req->reason();
    RETURN_IF_ERROR(Change(by, std::move(e), "access.revoked", g.object_id()));
    ASSIGN_OR_RETURN(*out, Grant(g.request_id()));
    return absl::OkStatus();
  });
}

}  // namespace custody
