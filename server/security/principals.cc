#include "server/security/principals.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/cert_signature.h"
#include "common/digest.h"
#include "common/session_statement.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "server/security/session_check.h"

namespace custody {

namespace {

const std::map<Action, std::vector<std::string>>& Allowed() {
  static const auto* m = new std::map<Action, std::vector<std::string>>{
      {Action::kPut, {"ingest", "officer", "archivist"}},
      {Action::kReadMetadata, {"officer", "archivist", "archive-head", "leader", "auditor"}},
      {Action::kReadFootage, {"officer", "archivist", "archive-head", "leader"}},
      {Action::kAuditRead, {"auditor", "archivist", "archive-head", "leader", "node"}},
      {Action::kStatus,
       {"ingest", "officer", "archivist", "archive-head", "leader", "auditor", "admin", "node"}},
      {Action::kMaintain, {"admin"}},
      {Action::kManageUsers, {"admin"}},
      {Action::kRequestAccess, {"officer", "archivist", "archive-head", "leader"}},
      {Action::kDecideAccess, {"archive-head", "leader"}},
      {Action::kRecordRead, {"officer", "archivist", "archive-head", "leader", "auditor"}},
      {Action::kRecordWrite, {"ingest", "officer", "archivist"}},
      {Action::kArchive, {"archivist", "archive-head"}},
      {Action::kRetain, {"archivist", "archive-head"}},
      {Action::kHold, {"archive-head", "leader"}},
      {Action::kApproveExemption, {"leader"}},
      {Action::kDevices, {"officer", "archivist", "admin"}},
      {Action::kReport, {"archive-head", "leader", "auditor", "archivist"}},
      {Action::kPurge, {"archivist", "archive-head"}},
      {Action::kApprovePurge, {"archive-head"}},
      {Action::kSnapshot, {"admin", "archive-head"}},
      {Action::kSnapshotRead, {"admin", "archive-head", "auditor"}},
      {Action::kRestore, {"admin"}},
      {Action::kOffsitePeer, {"node"}},
      {Action::kWitness, {"node"}},
      {Action::kLiveUpload, {"device", "ingest", "officer"}},
      {Action::kLiveSeal, {"archivist", "admin"}},
  };
  return *m;
}

std::string Property(const grpc::AuthContext& auth, const char* name) {
  std::vector<grpc::string_ref> v = auth.FindPropertyValues(name);
  return v.empty() ? "" : std::string(v[0].data(), v[0].size());
}

v1::Principal FromCertificate(const std::string& cn, const grpc::AuthContext& auth) {
  v1::Principal p;
  p.set_name(cn);
  p.set_via("certificate");
  if (cn.rfind("node:", 0) == 0) {
    p.add_roles("node");
    p.set_clearance("state-secret");  // nodes hold and replicate everything
    return p;
  }
  absl::StatusOr<CertifiedIdentity> id = ReadIdentity(Property(auth, "x509_pem_cert"));
  if (!id.ok()) return p;
  for (const std::string& r : id->roles) p.add_roles(r);
  p.set_agency(id->agency);
  p.set_clearance(id->clearance);
  return p;
}

std::string BearerToken(const grpc::ServerContextBase& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return "";
  std::string v(it->second.data(), it->second.size());
  return v.rfind("Bearer ", 0) == 0 ? v.substr(7) : "";
}

// A certificate of a user the ledger disabled, or of a name a token user
// holds, is refused.
absl::Status CheckCertificateUser(const std::string& cn, const AccessState& state) {
  if (cn.rfind("user:", 0) != 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<v1::Principal> u, state.User(cn.substr(cn.find(':') + 1)));
  if (!u) return absl::OkStatus();
  if (u->disabled()) return absl::PermissionDeniedError(absl::StrCat(cn, " is disabled"));
  if (u->via() == "token") {
    return absl::PermissionDeniedError(absl::StrCat(
        cn,
        " is the name of a token user; a name is one principal, so this certificate is "
        "refused: issue it under another name"));
  }
  return absl::OkStatus();
}

// A web console's call: for the person whose signed session (or token) it
// relays; without either, the console itself, which may do nothing.
absl::StatusOr<v1::Principal> Relayed(const grpc::ServerContextBase& ctx, const std::string& cn,
                                      const std::string& ca_pem, const AccessState& state) {
  auto it = ctx.client_metadata().find(kSessionMetadataKey);
  if (it != ctx.client_metadata().end()) {
    ASSIGN_OR_RETURN(v1::Principal p,
                     SessionPrincipal(cn, absl::string_view(it->second.data(), it->second.size()),
                                      ca_pem, absl::Now()));
    RETURN_IF_ERROR(CheckCertificateUser(p.name(), state));
    return p;
  }
  std::string token = BearerToken(ctx);
  if (!token.empty()) {
    ASSIGN_OR_RETURN(v1::Principal p, TokenUser(token, state));
    p.set_relay(cn);
    return p;
  }
  v1::Principal p;  // no roles: every action is refused, naming the console
  p.set_name(cn);
  p.set_via("certificate");
  return p;
}

}  // namespace

const char* ActionName(Action a) {
  switch (a) {
    case Action::kPut:
      return "put footage";
    case Action::kReadMetadata:
      return "see objects";
    case Action::kReadFootage:
      return "read footage";
    case Action::kAuditRead:
      return "read the audit trail";
    case Action::kStatus:
      return "see node status";
    case Action::kMaintain:
      return "run cluster maintenance";
    case Action::kManageUsers:
      return "manage users";
    case Action::kRequestAccess:
      return "request access";
    case Action::kDecideAccess:
      return "decide access requests";
    case Action::kRecordRead:
      return "see records";
    case Action::kRecordWrite:
      return "make or change records";
    case Action::kArchive:
      return "archive records";
    case Action::kRetain:
      return "set retention";
    case Action::kHold:
      return "set or release legal holds";
    case Action::kApproveExemption:
      return "approve exemptions and late hand-overs";
    case Action::kDevices:
      return "manage devices";
    case Action::kReport:
      return "make compliance reports";
    case Action::kPurge:
      return "request or carry out purges";
    case Action::kApprovePurge:
      return "approve purges";
    case Action::kSnapshot:
      return "make snapshots and send them offsite";
    case Action::kSnapshotRead:
      return "see snapshots and the offsite copy";
    case Action::kRestore:
      return "restore the cluster from offsite";
    case Action::kOffsitePeer:
      return "send snapshots to this offsite peer";
    case Action::kWitness:
      return "have audit checkpoints cosigned by this witness";
    case Action::kLiveUpload:
      return "stream footage live";
    case Action::kLiveSeal:
      return "seal a live upload as truncated";
  }
  return "?";
}

const char* ActionCommands(Action a) {
  switch (a) {
    case Action::kPut:
      return "put (and custody-ingestd uploads)";
    case Action::kReadMetadata:
      return "stat, ls";
    case Action::kReadFootage:
      return "get, export";
    case Action::kAuditRead:
      return "audit log, export, checkpoint, verify-node";
    case Action::kStatus:
      return "status, cluster status, cluster map show";
    case Action::kMaintain:
      return "cluster repair, scrub, cluster map apply";
    case Action::kManageUsers:
      return "user add, list, disable";
    case Action::kRequestAccess:
      return "access request";
    case Action::kDecideAccess:
      return "access approve, deny, revoke";
    case Action::kRecordRead:
      return "catalog, record show, list, overdue, hold list";
    case Action::kRecordWrite:
      return "record create, attach, correct, note, exempt, late";
    case Action::kArchive:
      return "record archive";
    case Action::kRetain:
      return "record retain";
    case Action::kHold:
      return "hold set, release";
    case Action::kApproveExemption:
      return "record approve-exemption, approve-late";
    case Action::kDevices:
      return "device add, list, checkout, checkin";
    case Action::kReport:
      return "report";
    case Action::kPurge:
      return "purge request, purge --confirm";
    case Action::kApprovePurge:
      return "purge approve";
    case Action::kSnapshot:
      return "snapshot create, offsite sync";
    case Action::kSnapshotRead:
      return "snapshot list, show, offsite status, offsite verify, offsite snapshots";
    case Action::kRestore:
      return "restore --from-offsite";
    case Action::kOffsitePeer:
      return "the offsite peer service (nodes only)";
    case Action::kWitness:
      return "the witness service (nodes only)";
    case Action::kLiveUpload:
      return "live (a device appends only to its own uploads)";
    case Action::kLiveSeal:
      return "live seal";
  }
  return "?";
}

const std::vector<Action>& AllActions() {
  static const auto* all = [] {
    auto* v = new std::vector<Action>;
    for (const auto& [a, roles] : Allowed()) v->push_back(a);
    return v;
  }();
  return *all;
}

const std::vector<std::string>& RolesFor(Action a) { return Allowed().at(a); }

std::string RoleTableMarkdown() {
  std::string out = "| action | commands | roles |\n|---|---|---|\n";
  for (Action a : AllActions()) {
    absl::StrAppend(&out, "| ", ActionName(a), " | ", ActionCommands(a), " | ",
                    absl::StrJoin(RolesFor(a), ", "),
                    a == Action::kReadFootage ? ", **and a live grant**" : "", " |\n");
  }
  return out;
}

absl::StatusOr<v1::Principal> TokenUser(const std::string& token, const AccessState& state) {
  ASSIGN_OR_RETURN(std::optional<std::string> name, state.TokenUser(Digest::Of(token).Hex()));
  if (!name) return absl::UnauthenticatedError("unknown token");
  ASSIGN_OR_RETURN(std::optional<v1::Principal> p, state.User(*name));
  if (!p) return absl::UnauthenticatedError("unknown token");
  if (p->disabled()) {
    return absl::PermissionDeniedError(absl::StrCat(p->name(), " is disabled"));
  }
  return std::move(*p);
}

absl::StatusOr<v1::Principal> Caller(const grpc::ServerContextBase& ctx, bool tls,
                                     const std::string& ca_pem, const AccessState& state) {
  if (!tls) {
    v1::Principal p;
    p.set_name("local-operator");
    p.set_via("loopback");
    for (const char* r : kRoles) p.add_roles(r);
    p.add_roles("node");  // a plaintext node's peers are local operators too
    p.set_clearance("state-secret");
    return p;
  }
  std::string cn = PeerIdentity(ctx);
  if (cn.rfind("console:", 0) == 0) return Relayed(ctx, cn, ca_pem, state);
  if (!cn.empty()) {
    RETURN_IF_ERROR(CheckCertificateUser(cn, state));
    return FromCertificate(cn, *ctx.auth_context());
  }
  std::string token = BearerToken(ctx);
  if (token.empty()) {
    return absl::UnauthenticatedError("no client certificate and no bearer token");
  }
  return TokenUser(token, state);
}

bool HasRole(const v1::Principal& p, const std::string& role) {
  for (const std::string& r : p.roles()) {
    if (r == role) return true;
  }
  return false;
}

absl::Status Authorize(const v1::Principal& p, Action a) {
  const std::vector<std::string>& allowed = RolesFor(a);
  for (const std::string& r : allowed) {
    if (HasRole(p, r)) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      p.name(), " (roles: ", p.roles().empty() ? "none" : absl::StrJoin(p.roles(), ","),
      ") may not ", ActionName(a), "; that needs one of: ", absl::StrJoin(allowed, ", ")));
}

bool SeesAgency(const v1::Principal& p, const std::string& agency) {
  if (HasRole(p, "archive-head") || HasRole(p, "auditor") || HasRole(p, "node")) return true;
  return !p.agency().empty() && p.agency() == agency;
}

bool Cleared(const v1::Principal& p, const std::string& level) {
  int need = LevelRank(level.empty() ? "internal" : level);
  if (need < 0) need = LevelRank("state-secret");  // an unknown level is treated as the highest
  return LevelRank(p.clearance().empty() ? "internal" : p.clearance()) >= need;
}

}  // namespace custody
