#include "server/security/access_state.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/roles.h"
#include "common/status_macros.h"
#include "server/security/access_fold.h"
#include "server/security/decisions.h"
#include "server/security/principals.h"

namespace custody {

namespace {

bool LeadsAgency(const v1::Principal& p, const std::string& agency) {
  return HasRole(p, "leader") &&
         (p.via() == "loopback" || (!agency.empty() && p.agency() == agency));
}

}  // namespace

bool HasApproval(const v1::AccessGrant& g, const std::string& role) {
  for (const v1::Approval& a : g.approvals()) {
    if (a.role() == role) return true;
  }
  return false;
}

std::string ClearanceOf(const v1::Principal& p) {
  return p.clearance().empty() ? "internal" : p.clearance();
}

absl::Status MayAddTokenUser(const v1::Principal* existing, const std::string& name,
                             const std::vector<std::string>& roles, const std::string& clearance) {
  if (existing != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat(
        "user:", name,
        existing->disabled() ? " was disabled: a disabled name stays disabled" : " exists",
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
  if (HasRole(p, "archive-head") && !HasApproval(g, "archive-head"))
    return std::string("archive-head");
  if (HasRole(p, "leader") && !HasApproval(g, "leader")) {
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

v1::AccessGrant AccessState::AtNow(v1::AccessGrant g) const {
  if (g.state() == "granted" && g.expires_unix_nanos() <= absl::ToUnixNanos(now_)) {
    g.set_state("expired");
  }
  return g;
}

absl::StatusOr<std::optional<v1::Principal>> AccessState::User(const std::string& name) const {
  ASSIGN_OR_RETURN(std::optional<internal::v1::FoldGroup> g, fold_->Group("user:" + name));
  if (!g || !g->has_user()) return std::nullopt;
  return g->user();
}

absl::Status AccessState::ForEachUser(const std::function<void(const v1::Principal&)>& fn) const {
  absl::Status bad;
  RETURN_IF_ERROR(fold_->Scan("g/user:", "", [&](const std::string&, const std::string& v) {
    internal::v1::FoldGroup g;
    if (!g.ParseFromString(v)) bad = absl::DataLossError("a fold group does not parse");
    if (bad.ok() && g.has_user()) fn(g.user());
    return bad.ok();
  }));
  return bad;
}

absl::StatusOr<std::optional<std::string>> AccessState::TokenUser(
    const std::string& sha256_hex) const {
  return fold_->Last(absl::StrCat(kTokenKeys, sha256_hex, std::string(1, '\0')));
}

absl::StatusOr<std::optional<v1::AccessGrant>> AccessState::Grant(
    const std::string& request_id) const {
  ASSIGN_OR_RETURN(std::optional<internal::v1::FoldGroup> g, fold_->Group("request:" + request_id));
  if (!g || g->grant().request_id().empty()) return std::nullopt;
  return AtNow(g->grant());
}

absl::Status AccessState::ForEachGrant(
    const std::string& after, const std::function<bool(const v1::AccessGrant&)>& fn) const {
  absl::Status bad;
  RETURN_IF_ERROR(fold_->Scan("g/request:", after, [&](const std::string&, const std::string& v) {
    internal::v1::FoldGroup g;
    if (!g.ParseFromString(v)) bad = absl::DataLossError("a fold group does not parse");
    if (!bad.ok()) return false;
    return g.grant().request_id().empty() || fn(AtNow(g.grant()));
  }));
  return bad;
}

absl::StatusOr<std::vector<v1::AccessGrant>> AccessState::GrantsStartingWith(
    const std::string& prefix, size_t limit) const {
  std::vector<v1::AccessGrant> out;
  absl::Status bad;
  RETURN_IF_ERROR(
      fold_->Scan("g/request:" + prefix, "", [&](const std::string&, const std::string& v) {
        internal::v1::FoldGroup g;
        if (!g.ParseFromString(v)) bad = absl::DataLossError("a fold group does not parse");
        if (bad.ok() && !g.grant().request_id().empty()) out.push_back(AtNow(g.grant()));
        return bad.ok() && out.size() < limit;
      }));
  RETURN_IF_ERROR(bad);
  return out;
}

absl::StatusOr<std::optional<v1::AccessGrant>> AccessState::LiveGrant(
    const std::string& principal, const std::string& object_id, const std::string& purpose,
    const std::vector<std::string>& records) const {
  const int64_t t = absl::ToUnixNanos(now_);
  const std::string zero(1, '\0');
  // The requests of `principal` for `purpose` about the object or one of its
  // records: a few keys, however many grants there are. Of the live ones,
  // the lowest request id, as ever.
  std::vector<std::string> targets{object_id};
  for (const std::string& r : records) targets.push_back("record:" + r);
  std::vector<std::string> ids;
  for (const std::string& target : targets) {
    RETURN_IF_ERROR(
        fold_->Scan(absl::StrCat(kRequesterKeys, principal, zero, purpose, zero, target, zero), "",
                    [&](const std::string& id, const std::string&) {
                      ids.push_back(id);
                      return true;
                    }));
  }
  std::sort(ids.begin(), ids.end());
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(std::optional<internal::v1::FoldGroup> f, fold_->Group("request:" + id));
    if (!f) continue;
    const v1::AccessGrant& g = f->grant();
    if (g.requester() == principal && g.purpose() == purpose && g.state() == "granted" &&
        g.expires_unix_nanos() > t) {
      return std::optional<v1::AccessGrant>(g);
    }
  }
  return std::nullopt;
}

}  // namespace custody
