#include "server/security/access_state.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/roles.h"
#include "common/status_macros.h"
#include "server/security/decisions.h"
#include "server/security/principals.h"

namespace custody {

namespace {

std::string Field(const v1::LedgerEntry& e, const std::string& key) {
  auto it = e.fields().find(key);
  return it == e.fields().end() ? "" : it->second;
}

bool Approved(const v1::AccessGrant& g, const std::string& role) {
  for (const v1::Approval& a : g.approvals()) {
    if (a.role() == role) return true;
  }
  return false;
}

bool LeadsAgency(const v1::Principal& p, const std::string& agency) {
  return HasRole(p, "leader") &&
         (p.via() == "loopback" || (!agency.empty() && p.agency() == agency));
}

std::string ClearanceOf(const v1::Principal& p) {
  return p.clearance().empty() ? "internal" : p.clearance();
}

absl::Status ApplyUser(const v1::LedgerEntry& e, const v1::Principal& signer, AccessState* s) {
  RETURN_IF_ERROR(Authorize(signer, Action::kManageUsers));
  std::string name = e.subject().substr(5);  // "user:"
  if (e.kind() == "user.added") {
    std::vector<std::string> roles = absl::StrSplit(Field(e, "roles"), ',', absl::SkipEmpty());
    RETURN_IF_ERROR(MayAddTokenUser(*s, name, roles, Field(e, "clearance")));
    v1::Principal& p = s->users[name];
    p.set_name("user:" + name);
    for (const std::string& r : roles) p.add_roles(r);
    p.set_agency(Field(e, "agency"));
    p.set_clearance(Field(e, "clearance"));
    p.set_via("token");
    s->token_user[Field(e, "token_sha256")] = name;
  } else if (e.kind() == "user.disabled") {  // also a certificate user not added here
    v1::Principal& p = s->users[name];
    p.set_name("user:" + name);
    p.set_disabled(true);
  }
  return absl::OkStatus();
}

absl::Status ApplyAccess(const std::string& id, const v1::LedgerEntry& e,
                         const v1::Principal& signer, AccessState* s) {
  if (e.kind() == "access.requested") {
    v1::AccessGrant& g = s->grants[id];
    g.set_request_id(id);
    g.set_object_id(Field(e, "object"));
    g.set_record_id(Field(e, "record"));
    g.set_requester(e.actor());
    g.set_reason(Field(e, "reason"));
    g.set_purpose(Field(e, "purpose"));
    g.set_agency(Field(e, "agency"));
    g.set_classification(Field(e, "classification"));
    g.set_requested_unix_nanos(e.time_unix_nanos());
    uint64_t seconds = 86400;
    (void)absl::SimpleAtoi(Field(e, "seconds"), &seconds);
    g.set_seconds(seconds);
    g.set_state("pending");
    return absl::OkStatus();
  }
  if (e.subject().rfind("request:", 0) != 0) return absl::InvalidArgumentError("not a request");
  auto it = s->grants.find(e.subject().substr(8));
  if (it == s->grants.end()) return absl::NotFoundError("no such access request");
  auto user = s->users.find(signer.name().substr(signer.name().find(':') + 1));
  if (user != s->users.end() && user->second.disabled()) {
    return absl::PermissionDeniedError(absl::StrCat(signer.name(), " is disabled"));
  }
  v1::AccessGrant& g = it->second;
  if (e.kind() == "access.approved") {
    ASSIGN_OR_RETURN(std::string role, ApprovalRole(signer, g));
    v1::Approval* a = g.add_approvals();
    a->set_by(signer.name());
    a->set_role(role);
    a->set_clearance(ClearanceOf(signer));
    a->set_time_unix_nanos(e.time_unix_nanos());
    if (Approved(g, "archive-head") && Approved(g, "leader")) {
      g.set_state("granted");
      g.set_expires_unix_nanos(e.time_unix_nanos() +
                               static_cast<int64_t>(g.seconds()) * 1000000000);
    }
  } else if (e.kind() == "access.denied" || e.kind() == "access.revoked") {
    const bool revoke = e.kind() == "access.revoked";
    RETURN_IF_ERROR(MayClose(signer, g, revoke));
    g.set_state(revoke ? "revoked" : "denied");
    g.set_decided_by(signer.name());
    g.set_note(Field(e, revoke ? "reason" : "note"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MayAddTokenUser(const AccessState& state, const std::string& name,
                             const std::vector<std::string>& roles, const std::string& clearance) {
  auto old = state.users.find(name);
  if (old != state.users.end()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "user:", name,
        old->second.disabled() ? " was disabled: a disabled name stays disabled" : " exists",
        "; choose another name"));
  }
  for (const std::string& r : roles) {
    if (std::find(std::begin(kTokenRoles), std::end(kTokenRoles), r) == std::end(kTokenRoles)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "a token user may be ingest, officer or auditor, not ", r,
          ": roles that decide exist only in certificates issued with the offline CA key "
          "(custody ca issue --user NAME --role ",
          r, ")"));
    }
  }
  if (LevelRank(clearance.empty() ? "internal" : clearance) > LevelRank("internal")) {
    return absl::PermissionDeniedError(absl::StrCat(
        "a token user's clearance is at most internal, not ", clearance,
        ": higher clearances exist only in certificates issued with the offline CA key"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ApprovalRole(const v1::Principal& p, const v1::AccessGrant& g) {
  if (g.state() != "pending") {
    return absl::FailedPreconditionError(
        absl::StrCat("request ", g.request_id(), " is ", g.state(), ", not pending"));
  }
  if (p.name() == g.requester()) {
    return absl::PermissionDeniedError("nobody approves their own access request");
  }
  for (const v1::Approval& a : g.approvals()) {
    if (a.by() == p.name()) {
      return absl::PermissionDeniedError(
          absl::StrCat(p.name(),
                       " already approved this request; the second approval must come from "
                       "another person"));
    }
  }
  if (g.agency().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(g.record_id().empty() ? "object " + g.object_id() : "record " + g.record_id(),
                     " has no agency, so no leader can approve viewing it: it "
                     "must be filed with its agency first"));
  }
  if (!Cleared(p, g.classification())) {
    return absl::PermissionDeniedError(
        absl::StrCat("the object is classified ", g.classification(), "; ", p.name(),
                     " is cleared for ", ClearanceOf(p), " and cannot approve viewing it"));
  }
  if (HasRole(p, "archive-head") && !Approved(g, "archive-head"))
    return std::string("archive-head");
  if (HasRole(p, "leader") && !Approved(g, "leader")) {
    if (!LeadsAgency(p, g.agency())) {
      return absl::PermissionDeniedError(absl::StrCat("only a leader of agency \"", g.agency(),
                                                      "\", which made the record, approves it; ",
                                                      p.name(), " leads \"", p.agency(), "\""));
    }
    return std::string("leader");
  }
  return absl::FailedPreconditionError(
      "this request already has the approval your role gives; it needs the other one (an "
      "archive-head and a leader of the agency)");
}

absl::Status MayClose(const v1::Principal& p, const v1::AccessGrant& g, bool revoke) {
  if (g.state() != "pending" && !(revoke && g.state() == "granted")) {
    return absl::FailedPreconditionError(absl::StrCat("request ", g.request_id(), " is ", g.state(),
                                                      ": nothing to ", revoke ? "revoke" : "deny"));
  }
  if (p.name() == g.requester()) {
    return absl::PermissionDeniedError("nobody decides their own request");
  }
  if (HasRole(p, "archive-head") || LeadsAgency(p, g.agency())) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("only an archive-head or a leader of agency \"",
                                                  g.agency(), "\" decides this request; ", p.name(),
                                                  " leads \"", p.agency(), "\""));
}

absl::Status GrantFits(const v1::AccessGrant& g, const std::string& agency,
                       const std::string& classification) {
  if (g.agency() != agency) {
    return absl::PermissionDeniedError(
        absl::StrCat("grant ", g.request_id(), " was approved for agency \"", g.agency(),
                     "\", but the object is agency \"", agency, "\""));
  }
  for (const v1::Approval& a : g.approvals()) {
    v1::Principal p;
    p.set_clearance(a.clearance());
    if (!Cleared(p, classification)) {
      return absl::PermissionDeniedError(
          absl::StrCat("grant ", g.request_id(), " was approved by ", a.by(), ", cleared for ",
                       a.clearance().empty() ? "internal" : a.clearance(),
                       ", but the object is classified ", classification));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<AccessState> AccessState::Load(Ledger* ledger, absl::Time now) {
  ASSIGN_OR_RETURN(auto entries, ledger->InTimeOrder());
  AccessState st;
  for (const auto& [id, e] : entries) {
    absl::Status applied;
    if (e.subject().rfind("user:", 0) == 0) {
      applied = ApplyUser(e, ledger->verifier().Signer(e), &st);
    } else if (e.kind().rfind("access.", 0) == 0) {
      applied = ApplyAccess(id.Hex(), e, ledger->verifier().Signer(e), &st);
    }
    if (!applied.ok()) st.refused[id.Hex()] = std::string(applied.message());
  }
  const int64_t t = absl::ToUnixNanos(now);
  for (auto& [id, g] : st.grants) {
    if (g.state() == "granted" && g.expires_unix_nanos() <= t) g.set_state("expired");
  }
  return st;
}

const v1::AccessGrant* AccessState::LiveGrant(const std::string& principal,
                                              const std::string& object_id,
                                              const std::string& purpose, absl::Time now,
                                              const std::vector<std::string>& records) const {
  const int64_t t = absl::ToUnixNanos(now);
  for (const auto& [id, g] : grants) {
    if (g.requester() != principal || g.purpose() != purpose || g.state() != "granted" ||
        g.expires_unix_nanos() <= t) {
      continue;
    }
    const bool covers = g.record_id().empty() ? g.object_id() == object_id
                                              : std::find(records.begin(), records.end(),
                                                          g.record_id()) != records.end();
    if (covers) return &g;
  }
  return nullptr;
}

}  // namespace custody
