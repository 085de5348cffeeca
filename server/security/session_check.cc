#include "server/security/session_check.h"

#include "absl/strings/str_cat.h"
#include "common/cert_signature.h"
#include "common/session_statement.h"
#include "common/status_macros.h"

namespace custody {

absl::StatusOr<v1::Principal> SessionPrincipal(const std::string& relay,
                                               absl::string_view assertion,
                                               const std::string& ca_pem, absl::Time now) {
  v1::SessionAssertion a;
  if (!a.ParseFromArray(assertion.data(), static_cast<int>(assertion.size()))) {
    return absl::PermissionDeniedError(absl::StrCat(relay, " sent a session that does not parse"));
  }
  absl::StatusOr<SessionStatement> s = SessionStatement::Parse(a.statement());
  if (!s.ok()) return absl::PermissionDeniedError(s.status().message());
  if (s->relay != relay) {
    return absl::PermissionDeniedError(absl::StrCat(relay, " relayed a session signed for ",
                                                    s->relay, ": a session serves one console"));
  }
  RETURN_IF_ERROR(s->CheckTime(now));
  ASSIGN_OR_RETURN(CertifiedIdentity id, CheckCertificate(a.certificate_pem(), ca_pem, s->issued));
  if (id.name != s->user) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the session names ", s->user, " but is signed with the certificate of ", id.name));
  }
  RETURN_IF_ERROR(VerifyWithCertificate(a.certificate_pem(), a.statement(), a.signature()));
  v1::Principal p;
  p.set_name(id.name);
  p.set_via("certificate");
  p.set_relay(relay);
  for (const std::string& r : id.roles) p.add_roles(r);
  p.set_agency(id.agency);
  p.set_clearance(id.clearance);
  return p;
}

}  // namespace custody
