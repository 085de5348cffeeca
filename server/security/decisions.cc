#include "server/security/decisions.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/cert_signature.h"
#include "common/digest.h"
#include "common/roles.h"
#include "common/status_macros.h"

namespace custody {

namespace {

constexpr absl::Duration kMaxSkew = absl::Minutes(10);

bool SameFields(const google::protobuf::Map<std::string, std::string>& a,
                const google::protobuf::Map<std::string, std::string>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second != v) return false;
  }
  return true;
}

absl::Status Refused(const std::string& kind, absl::string_view why) {
  return absl::PermissionDeniedError(absl::StrCat("the ", kind, " decision is refused: ", why));
}

}  // namespace

std::optional<Action> DecisionAction(const std::string& kind) {
  static const std::map<std::string, Action>* kinds = new std::map<std::string, Action>{
      {"access.approved", Action::kDecideAccess},
      {"access.denied", Action::kDecideAccess},
      {"access.revoked", Action::kDecideAccess},
      {"device.docked", Action::kPut},  // a station's dock manifest
      {"live.seal-ordered", Action::kLiveSeal},
      {"purge.approved", Action::kApprovePurge},
      {"record.exemption-approved", Action::kApproveExemption},
      {"record.late-approved", Action::kApproveExemption},
      {"record.hold-set", Action::kHold},
      {"record.hold-released", Action::kHold},
      {"record.retained", Action::kRetain},
      {"record.corrected", Action::kRecordWrite},
      {"user.added", Action::kManageUsers},
      {"user.disabled", Action::kManageUsers},
  };
  auto it = kinds->find(kind);
  if (it == kinds->end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<v1::LedgerEntry> DecisionVerifier::FromClient(
    const v1::Principal& caller, const v1::SignedDecision& s, const std::string& kind,
    const std::string& subject, const std::map<std::string, std::string>& fields,
    absl::Time now) const {
  v1::LedgerEntry e;
  e.set_kind(kind);
  e.set_subject(subject);
  for (const auto& [k, v] : fields) (*e.mutable_fields())[k] = v;
  if (!signatures_required()) {
    e.set_actor(caller.name());
    return e;
  }
  if (s.decision().empty()) {
    return Refused(kind,
                   "it is not signed. Decisions are signed with the decider's own "
                   "certificate key (custody --tls with cert.pem and key.pem); a token "
                   "cannot decide, and nobody decides for someone else");
  }
  v1::Decision d;
  if (!d.ParseFromString(s.decision())) return Refused(kind, "the statement does not parse");
  if (std::abs(absl::ToInt64Seconds(absl::FromUnixNanos(d.time_unix_nanos()) - now)) >
      absl::ToInt64Seconds(kMaxSkew)) {
    return Refused(kind,
                   "it was signed more than 10 minutes from this node's time; sign it "
                   "again (is the signer's clock right?)");
  }
  e.set_actor(d.signer());
  *e.mutable_signed_() = s;
  RETURN_IF_ERROR(Check(e));
  return e;
}

absl::Status DecisionVerifier::Check(const v1::LedgerEntry& e) const {
  std::optional<Action> action = DecisionAction(e.kind());
  if (!action || !signatures_required()) return absl::OkStatus();
  if (!e.has_signed_() || e.signed_().decision().empty()) {
    return Refused(e.kind(), "it carries no signature of the person who made it");
  }
  v1::Decision d;
  if (!d.ParseFromString(e.signed_().decision())) {
    return Refused(e.kind(), "the signed statement does not parse");
  }
  if (d.kind() != e.kind() || d.subject() != e.subject() || d.signer() != e.actor() ||
      !SameFields(d.fields(), e.fields())) {
    return Refused(e.kind(), absl::StrCat("the entry does not say what ", d.signer(), " signed (",
                                          d.kind(), " about ", d.subject(), ")"));
  }
  ASSIGN_OR_RETURN(CertifiedIdentity id,
                   CheckCertificate(e.signed_().certificate_pem(), ca_pem_,
                                    absl::FromUnixNanos(d.time_unix_nanos())));
  if (id.name != d.signer()) {
    return Refused(e.kind(),
                   absl::StrCat("signed as ", d.signer(), " with the certificate of ", id.name));
  }
  RETURN_IF_ERROR(VerifyWithCertificate(e.signed_().certificate_pem(),
                                        DecisionMessage(e.signed_().decision()),
                                        e.signed_().signature()));
  v1::Principal signer = Signer(e);
  if (absl::Status s = Authorize(signer, *action); !s.ok()) return Refused(e.kind(), s.message());
  return absl::OkStatus();
}

v1::Principal DecisionVerifier::Signer(const v1::LedgerEntry& e) const {
  v1::Principal p;
  p.set_name(e.actor());
  if (!e.has_signed_() && signatures_required()) return p;
  if (!e.has_signed_()) {  // a loopback node's local operator
    p.set_via("loopback");
    for (const char* r : kRoles) p.add_roles(r);
    p.set_clearance("state-secret");
    return p;
  }
  p.set_via("certificate");
  absl::StatusOr<CertifiedIdentity> id = ReadIdentity(e.signed_().certificate_pem());
  if (!id.ok()) return p;
  for (const std::string& r : id->roles) p.add_roles(r);
  p.set_agency(id->agency);
  p.set_clearance(id->clearance);
  return p;
}

std::string DecisionVerifier::StatementId(const v1::LedgerEntry& e) {
  if (!e.has_signed_()) return "";
  return Digest::Of(e.signed_().decision()).Hex();
}

}  // namespace custody
