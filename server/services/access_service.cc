#include "server/services/access_service.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "common/unary.h"
#include "server/security/decisions.h"

namespace custody {

namespace {

bool ValidName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

// The token_sha256 field of a signed user.added: the client made the token
// and keeps it; the cluster only ever sees its hash.
absl::StatusOr<std::string> SignedTokenHash(const v1::SignedDecision& s) {
  v1::Decision d;
  if (!d.ParseFromString(s.decision())) {
    return absl::InvalidArgumentError("the signed user.added does not parse");
  }
  auto it = d.fields().find("token_sha256");
  if (it == d.fields().end() || it->second.size() != 64 ||
      it->second.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return absl::InvalidArgumentError("a signed user.added names its token's SHA-256 (64 hex)");
  }
  return it->second;
}

// What a grant's events are about: its object, or "record:ID".
std::string AuditSubject(const v1::AccessGrant& g) {
  return g.record_id().empty() ? g.object_id() : "record:" + g.record_id();
}

// The most grants a page holds, and looks at: a filter few grants pass gives
// short pages with a next token rather than one long scan.
constexpr uint32_t kMaxGrantPage = 1000;
constexpr uint32_t kMaxGrantsScanned = 20000;

}  // namespace

absl::Status AccessService::Change(v1::LedgerEntry entry, const std::string& audit_subject) {
  v1::AuditEvent e = EventOf(entry, audit_subject);
  ASSIGN_OR_RETURN(Ledger::Appended a, node_->ledger()->Append(std::move(entry), std::move(e)));
  (void)a;  // anti-entropy brings it to nodes that did not take it now
  return absl::OkStatus();
}

absl::StatusOr<v1::LedgerEntry> AccessService::Decision(
    const v1::Principal& by, const v1::SignedDecision& s, const std::string& kind,
    const std::string& subject, const std::map<std::string, std::string>& fields,
    const std::string& audit_subject) {
  absl::StatusOr<v1::LedgerEntry> e =
      node_->ledger()->verifier().FromClient(by, s, kind, subject, fields, absl::Now());
  if (!e.ok()) return node_->Refuse(by.name(), *DecisionAction(kind), audit_subject, e.status());
  return e;
}

absl::StatusOr<v1::AccessGrant> AccessService::Grant(const std::string& request_id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const AccessState> st, node_->access_state());
  ASSIGN_OR_RETURN(std::optional<v1::AccessGrant> g, st->Grant(request_id));
  if (!g) return absl::NotFoundError(absl::StrCat("no access request ", request_id));
  return std::move(*g);
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
    std::vector<std::string> roles(req->roles().begin(), req->roles().end());
    ASSIGN_OR_RETURN(std::optional<v1::Principal> existing, st->User(req->name()));
    if (absl::Status may =
            MayAddTokenUser(existing ? &*existing : nullptr, req->name(), roles, clearance);
        !may.ok()) {
      return node_->Refuse(by.name(), Action::kManageUsers, "user:" + req->name(), may);
    }
    std::string token, token_hash;
    if (node_->ledger()->verifier().signatures_required()) {
      // Unsigned, Decision below refuses it and says why.
      if (!req->signed_().decision().empty()) {
        ASSIGN_OR_RETURN(token_hash, SignedTokenHash(req->signed_()));
      }
    } else {
      ASSIGN_OR_RETURN(token, NewBearerToken());
      token_hash = Digest::Of(token).Hex();
    }
    const std::string subject = "user:" + req->name();
    ASSIGN_OR_RETURN(v1::LedgerEntry e, Decision(by, req->signed_(), "user.added", subject,
                                                 {{"roles", absl::StrJoin(req->roles(), ",")},
                                                  {"agency", req->agency()},
                                                  {"clearance", clearance},
                                                  {"token_sha256", token_hash}},
                                                 subject));
    RETURN_IF_ERROR(Change(std::move(e), subject));
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
    return st->ForEachUser([&](const v1::Principal& p) { *out->add_users() = p; });
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
    const std::string subject = "user:" + req->name();
    ASSIGN_OR_RETURN(v1::LedgerEntry e, Decision(by, req->signed_(), "user.disabled", subject,
                                                 {{"reason", req->reason()}}, subject));
    return Change(std::move(e), subject);
  });
}

absl::StatusOr<AccessService::Target> AccessService::ObjectTarget(const v1::Principal& by,
                                                                  const std::string& object_id) {
  ASSIGN_OR_RETURN(Digest id, Digest::Parse(object_id));
  ASSIGN_OR_RETURN(v1::ObjectManifest m, node_->VisibleManifest(by, id, Action::kRequestAccess));
  auto agency = m.metadata().find("agency");
  auto level = m.metadata().find("classification");
  return Target{id.ToString(),
                "object:" + id.ToString(),
                {{"object", id.ToString()},
                 {"agency", agency == m.metadata().end() ? "" : agency->second},
                 {"classification", level == m.metadata().end() ? "internal" : level->second}}};
}

absl::StatusOr<AccessService::Target> AccessService::RecordTarget(const v1::Principal& by,
                                                                  const std::string& ref) {
  ASSIGN_OR_RETURN(std::string id, node_->records()->Resolve(ref));
  ASSIGN_OR_RETURN(v1::Record r, node_->records()->Get(id));
  if (!Cleared(by, r.classification())) {
    (void)node_->Refuse(by.name(), Action::kRequestAccess, "record:" + id,
                        absl::PermissionDeniedError("the record is above the caller's clearance"));
    return absl::NotFoundError(absl::StrCat("no record ", ref));
  }
  return Target{"record:" + id,
                "request-for:record:" + id,
                {{"record", id}, {"agency", r.agency()}, {"classification", r.classification()}}};
}

grpc::ServerUnaryReactor* AccessService::RequestAccess(grpc::CallbackServerContext* ctx,
                                                       const v1::AccessRequestRequest* req,
                                                       v1::AccessGrant* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    const bool whole_record = !req->record_id().empty();
    if (whole_record == !req->object_id().empty()) {
      return absl::InvalidArgumentError("name one object or one record (--record REC)");
    }
    ASSIGN_OR_RETURN(v1::Principal by, node_->Authorize(*ctx, Action::kRequestAccess,
                                                        whole_record ? "record:" + req->record_id()
                                                                     : req->object_id()));
    ASSIGN_OR_RETURN(Target t, whole_record ? RecordTarget(by, req->record_id())
                                            : ObjectTarget(by, req->object_id()));
    std::string purpose = req->purpose().empty() ? "view" : req->purpose();
    if (purpose != "view" && purpose != "export") {
      return absl::InvalidArgumentError("purpose is view or export");
    }
    if (req->reason().size() < 3) {
      return absl::InvalidArgumentError("say why you need to see it (--reason)");
    }
    uint64_t seconds = req->seconds() == 0 ? 86400 : req->seconds();
    if (seconds > 30 * 86400) return absl::InvalidArgumentError("a grant lives at most 30 days");
    if (t.fields["agency"].empty()) {
      return node_->Refuse(by.name(), Action::kRequestAccess, t.audit_subject,
                           absl::FailedPreconditionError(
                               absl::StrCat(t.audit_subject,
                                            " has no agency, so no leader can "
                                            "approve viewing it: file it with its agency first")));
    }
    v1::LedgerEntry e;
    e.set_kind("access.requested");
    e.set_subject(t.ledger_subject);
    e.set_actor(by.name());
    t.fields.insert(
        {{"reason", req->reason()}, {"purpose", purpose}, {"seconds", absl::StrCat(seconds)}});
    v1::AuditEvent ev = NewEvent("access.requested", t.audit_subject, by.name());
    for (const auto& [k, v] : t.fields) {
      (*e.mutable_fields())[k] = v;
      AddDetail(&ev, k, v);
    }
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
    // Deciders and auditors see the requests of the agencies they see;
    // anyone else their own. Nobody sees requests for objects above their
    // clearance.
    bool decider = HasRole(by, "archive-head") || HasRole(by, "leader") || HasRole(by, "auditor");
    ASSIGN_OR_RETURN(std::shared_ptr<const AccessState> st, node_->access_state());
    const uint32_t size =
        req->page_size() == 0 ? kMaxGrantPage : std::min(req->page_size(), kMaxGrantPage);
    std::string after = req->page_token();
    if (!after.empty() && after.size() != 64) {
      return absl::InvalidArgumentError(
          absl::StrCat("page token \"", after, "\" is not one from a listing"));
    }
    // A whole id is its own grant; a start of one is where the scan begins.
    if (after.empty() && req->id_prefix().size() == 64) {
      after = req->id_prefix();
      after.back() = static_cast<char>(after.back() - 1);
    } else if (after.empty()) {
      after = req->id_prefix();
    }
    std::string last;  // the last request looked at
    uint32_t scanned = 0;
    return st->ForEachGrant(after, [&](const v1::AccessGrant& g) {
      if (!absl::StartsWith(g.request_id(), req->id_prefix())) return false;
      if (static_cast<uint32_t>(out->grants_size()) == size || scanned == kMaxGrantsScanned) {
        out->set_next_page_token(last);
        return false;
      }
      ++scanned;
      last = g.request_id();
      bool mine = g.requester() == by.name();
      if (!mine && !(decider && SeesAgency(by, g.agency()))) return true;
      if (!Cleared(by, g.classification())) return true;
      if (!req->object_id().empty() && g.object_id() != req->object_id()) return true;
      if (!req->record_id().empty() && g.record_id() != req->record_id()) return true;
      // The approver's inbox: what `by` may approve now.
      if (req->waiting_for_me() && !ApprovalRole(by, g).ok()) return true;
      *out->add_grants() = g;
      return true;
    });
  });
}

grpc::ServerUnaryReactor* AccessService::Decide(grpc::CallbackServerContext* ctx,
                                                const v1::AccessDecideRequest* req,
                                                v1::AccessGrant* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal by, node_->Authorize(*ctx, Action::kDecideAccess));
    ASSIGN_OR_RETURN(v1::AccessGrant g, Grant(req->request_id()));
    const std::string kind = req->approve() ? "access.approved" : "access.denied";
    std::map<std::string, std::string> fields{{"request", g.request_id()}};
    if (!req->note().empty()) fields["note"] = req->note();
    ASSIGN_OR_RETURN(
        v1::LedgerEntry e,
        Decision(by, req->signed_(), kind, "request:" + g.request_id(), fields, AuditSubject(g)));
    // The rules the fold applies, checked first for a clear answer.
    v1::Principal signer = node_->ledger()->verifier().Signer(e);
    absl::Status rule =
        req->approve() ? ApprovalRole(signer, g).status() : MayClose(signer, g, /*revoke=*/false);
    if (!rule.ok()) return node_->Refuse(by.name(), Action::kDecideAccess, AuditSubject(g), rule);
    RETURN_IF_ERROR(Change(std::move(e), AuditSubject(g)));
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
    if (req->reason().empty()) return absl::InvalidArgumentError("say why (--reason)");
    ASSIGN_OR_RETURN(
        v1::LedgerEntry e,
        Decision(by, req->signed_(), "access.revoked", "request:" + g.request_id(),
                 {{"request", g.request_id()}, {"reason", req->reason()}}, AuditSubject(g)));
    absl::Status rule = MayClose(node_->ledger()->verifier().Signer(e), g, /*revoke=*/true);
    if (!rule.ok()) return node_->Refuse(by.name(), Action::kDecideAccess, AuditSubject(g), rule);
    RETURN_IF_ERROR(Change(std::move(e), AuditSubject(g)));
    ASSIGN_OR_RETURN(*out, Grant(g.request_id()));
    return absl::OkStatus();
  });
}

}  // namespace custody
