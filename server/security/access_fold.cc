#include "server/security/access_fold.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "server/security/access_state.h"
#include "server/security/decisions.h"
#include "server/security/ledger.h"

namespace custody {

namespace {

void Requested(const std::string& id, const v1::LedgerEntry& e, v1::AccessGrant* g) {
  g->set_request_id(id);
  g->set_object_id(EntryField(e, "object"));
  g->set_record_id(EntryField(e, "record"));
  g->set_requester(e.actor());
  g->set_reason(EntryField(e, "reason"));
  g->set_purpose(EntryField(e, "purpose"));
  g->set_agency(EntryField(e, "agency"));
  g->set_classification(EntryField(e, "classification"));
  g->set_requested_unix_nanos(e.time_unix_nanos());
  uint64_t seconds = 86400;
  (void)absl::SimpleAtoi(EntryField(e, "seconds"), &seconds);
  g->set_seconds(seconds);
  g->set_state("pending");
}

const std::string kZero(1, '\0');

}  // namespace

std::string UserGroupOf(const std::string& name) {
  return "user:" + name.substr(name.find(':') + 1);
}

std::string AccessRules::GroupOf(const Digest& id, const v1::LedgerEntry& e) const {
  if (absl::StartsWith(e.subject(), "user:")) return e.subject();
  if (e.kind() == "access.requested") return "request:" + id.Hex();
  if (absl::StartsWith(e.kind(), "access.") && absl::StartsWith(e.subject(), "request:")) {
    return e.subject();
  }
  return "";
}

absl::Status AccessRules::Apply(const Digest& id, const std::string& key, const v1::LedgerEntry& e,
                                FoldReader* reader, internal::v1::FoldGroup* g) const {
  if (absl::StartsWith(e.subject(), "user:")) return ApplyUser(key, e, g);
  return ApplyRequest(id, key, e, reader, g);
}

absl::Status AccessRules::ApplyUser(const std::string& key, const v1::LedgerEntry& e,
                                    internal::v1::FoldGroup* g) const {
  RETURN_IF_ERROR(Authorize(ledger_->verifier().Signer(e), Action::kManageUsers));
  const std::string name = e.subject().substr(5);  // "user:"
  if (e.kind() == "user.added") {
    std::vector<std::string> roles = absl::StrSplit(EntryField(e, "roles"), ',', absl::SkipEmpty());
    RETURN_IF_ERROR(MayAddTokenUser(g->has_user() ? &g->user() : nullptr, name, roles,
                                    EntryField(e, "clearance")));
    v1::Principal* p = g->mutable_user();
    p->set_name("user:" + name);
    for (const std::string& r : roles) p->add_roles(r);
    p->set_agency(EntryField(e, "agency"));
    p->set_clearance(EntryField(e, "clearance"));
    p->set_via("token");
    g->set_user_added_key(key);
    g->set_user_token(EntryField(e, "token_sha256"));
  } else if (e.kind() == "user.disabled") {  // also a certificate user not added here
    v1::Principal* p = g->mutable_user();
    p->set_name("user:" + name);
    p->set_disabled(true);
    if (g->user_disabled_key().empty()) g->set_user_disabled_key(key);
  }
  return absl::OkStatus();
}

absl::Status AccessRules::ApplyRequest(const Digest& id, const std::string& key,
                                       const v1::LedgerEntry& e, FoldReader* reader,
                                       internal::v1::FoldGroup* g) const {
  if (e.kind() == "access.requested") {
    Requested(id.Hex(), e, g->mutable_grant());
    return absl::OkStatus();
  }
  const v1::Principal signer = ledger_->verifier().Signer(e);
  internal::v1::FoldGroup::Decider* d = g->add_deciders();  // kept even if refused
  d->set_user_group(UserGroupOf(signer.name()));
  d->set_key(key);
  v1::AccessGrant* grant = g->mutable_grant();
  if (grant->request_id().empty()) return absl::NotFoundError("no such access request");
  ASSIGN_OR_RETURN(std::optional<internal::v1::FoldGroup> user, reader->Group(d->user_group()));
  if (user && !user->user_disabled_key().empty() && user->user_disabled_key() < key) {
    return absl::PermissionDeniedError(absl::StrCat(signer.name(), " is disabled"));
  }
  if (e.kind() == "access.approved") {
    ASSIGN_OR_RETURN(std::string role, ApprovalRole(signer, *grant));
    v1::Approval* a = grant->add_approvals();
    a->set_by(signer.name());
    a->set_role(role);
    a->set_clearance(ClearanceOf(signer));
    a->set_time_unix_nanos(e.time_unix_nanos());
    if (HasApproval(*grant, "archive-head") && HasApproval(*grant, "leader")) {
      grant->set_state("granted");
      grant->set_expires_unix_nanos(e.time_unix_nanos() +
                                    static_cast<int64_t>(grant->seconds()) * 1000000000);
    }
  } else if (e.kind() == "access.denied" || e.kind() == "access.revoked") {
    const bool revoke = e.kind() == "access.revoked";
    RETURN_IF_ERROR(MayClose(signer, *grant, revoke));
    grant->set_state(revoke ? "revoked" : "denied");
    grant->set_decided_by(signer.name());
    grant->set_note(EntryField(e, revoke ? "reason" : "note"));
  }
  return absl::OkStatus();
}

void AccessRules::Derived(const std::string& group, const internal::v1::FoldGroup& g,
                          std::map<std::string, std::string>* out) const {
  if (!g.user_token().empty()) {
    (*out)[absl::StrCat(kTokenKeys, g.user_token(), kZero, g.user_added_key(), group)] =
        g.user().name().substr(5);
  }
  const v1::AccessGrant& a = g.grant();
  if (!a.request_id().empty()) {
    (*out)[absl::StrCat(kRequesterKeys, a.requester(), kZero, a.purpose(), kZero,
                        a.record_id().empty() ? a.object_id() : "record:" + a.record_id(), kZero,
                        a.request_id())] = "";
  }
  for (const internal::v1::FoldGroup::Decider& d : g.deciders()) {
    (*out)[absl::StrCat(kDeciderKeys, d.user_group(), kZero, d.key(), group)] = group;
  }
}

absl::StatusOr<std::vector<std::string>> AccessRules::Dependents(
    const std::string& group, const internal::v1::FoldGroup& before,
    const internal::v1::FoldGroup& after, FoldReader* reader) const {
  std::vector<std::string> out;
  if (before.user_disabled_key() == after.user_disabled_key()) return out;
  RETURN_IF_ERROR(reader->Scan(absl::StrCat(kDeciderKeys, group, kZero),
                               [&](const std::string&, const std::string& request) {
                                 if (out.empty() || out.back() != request) out.push_back(request);
                               }));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace custody
