#include "server/access_state.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace custody {

namespace {

std::string Field(const v1::LedgerEntry& e, const std::string& key) {
  auto it = e.fields().find(key);
  return it == e.fields().end() ? "" : it->second;
}

void ApplyUser(const v1::LedgerEntry& e, AccessState* s) {
  std::string name = e.subject().substr(5);  // "user:"
  if (e.kind() == "user.added") {
    v1::Principal& p = s->users[name];
    p.set_name("user:" + name);
    p.clear_roles();
    for (absl::string_view r : absl::StrSplit(Field(e, "roles"), ',', absl::SkipEmpty())) {
      p.add_roles(std::string(r));
    }
    p.set_agency(Field(e, "agency"));
    p.set_clearance(Field(e, "clearance"));
    p.set_disabled(false);
    p.set_via("token");
    s->token_user[Field(e, "token_sha256")] = name;
  } else if (e.kind() == "user.disabled") {  // also a certificate user not added here
    v1::Principal& p = s->users[name];
    p.set_name("user:" + name);
    p.set_disabled(true);
  }
}

void ApplyAccess(const std::string& id, const v1::LedgerEntry& e, AccessState* s) {
  if (e.kind() == "access.requested") {
    v1::AccessGrant& g = s->grants[id];
    g.set_request_id(id);
    g.set_object_id(Field(e, "object"));
    g.set_requester(e.actor());
    g.set_reason(Field(e, "reason"));
    g.set_purpose(Field(e, "purpose"));
    g.set_agency(Field(e, "agency"));
    g.set_requested_unix_nanos(e.time_unix_nanos());
    uint64_t seconds = 86400;
    (void)absl::SimpleAtoi(Field(e, "seconds"), &seconds);
    g.set_seconds(seconds);
    g.set_state("pending");
    return;
  }
  auto it = s->grants.find(e.subject().substr(8));  // "request:"
  if (it == s->grants.end()) return;
  v1::AccessGrant& g = it->second;
  if (e.kind() == "access.approved" && g.state() == "pending") {
    v1::Approval* a = g.add_approvals();
    a->set_by(e.actor());
    a->set_role(Field(e, "role"));
    a->set_time_unix_nanos(e.time_unix_nanos());
    bool head = false, leader = false;
    for (const v1::Approval& x : g.approvals()) {
      head = head || x.role() == "archive-head";
      leader = leader || x.role() == "leader";
    }
    if (head && leader) {
      g.set_state("granted");
      g.set_expires_unix_nanos(e.time_unix_nanos() + static_cast<int64_t>(g.seconds()) * 1000000000);
    }
  } else if (e.kind() == "access.denied" && g.state() == "pending") {
    g.set_state("denied");
    g.set_decided_by(e.actor());
    g.set_note(Field(e, "note"));
  } else if (e.kind() == "access.revoked" && (g.state() == "granted" || g.state() == "pending")) {
    g.set_state("revoked");
    g.set_decided_by(e.actor());
    g.set_note(Field(e, "reason"));
  }
}

}  // namespace

absl::StatusOr<AccessState> AccessState::Load(Ledger* ledger, absl::Time now) {
  ASSIGN_OR_RETURN(auto entries, ledger->InTimeOrder());
  AccessState st;
  for (const auto& [id, e] : entries) {
    if (e.subject().rfind("user:", 0) == 0) ApplyUser(e, &st);
    else if (e.kind().rfind("access.", 0) == 0) ApplyAccess(id.Hex(), e, &st);
  }
  const int64_t t = absl::ToUnixNanos(now);
  for (auto& [id, g] : st.grants) {
    if (g.state() == "granted" && g.expires_unix_nanos() <= t) g.set_state("expired");
  }
  return st;
}

const v1::AccessGrant* AccessState::LiveGrant(const std::string& principal,
                                              const std::string& object_id,
                                              const std::string& purpose, absl::Time now) const {
  const int64_t t = absl::ToUnixNanos(now);
  for (const auto& [id, g] : grants) {
    if (g.requester() == principal && g.object_id() == object_id && g.purpose() == purpose &&
        g.state() == "granted" && g.expires_unix_nanos() > t) {
      return &g;
    }
  }
  return nullptr;
}

}  // namespace custody
