#include "client/decision_signer.h"

#include <openssl/rand.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "common/cert_signature.h"
#include "common/random.h"
#include "common/status_macros.h"

namespace custody {

absl::StatusOr<v1::SignedDecision> SignDecision(const std::string& kind, const std::string& subject,
                                                const std::map<std::string, std::string>& fields) {
  std::optional<TlsFiles> tls = CustodyClient::TlsCredentials();
  if (!tls) return v1::SignedDecision();
  if (!tls->has_certificate()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "a ", kind,
        " is a decision, signed with the decider's own certificate key: pass --tls "
        "with your folder from `custody ca issue --user` (cert.pem, key.pem); a token cannot "
        "decide"));
  }
  ASSIGN_OR_RETURN(CertifiedIdentity me, ReadIdentity(tls->cert_pem));
  v1::Decision d;
  d.set_kind(kind);
  d.set_subject(subject);
  for (const auto& [k, v] : fields) (*d.mutable_fields())[k] = v;
  d.set_signer(me.name);
  d.set_time_unix_nanos(absl::ToUnixNanos(absl::Now()));
  ASSIGN_OR_RETURN(std::string nonce, RandomBytes(16, "the decision's nonce"));
  d.set_nonce(nonce);
  v1::SignedDecision out;
  out.set_decision(d.SerializeAsString());
  ASSIGN_OR_RETURN(std::string sig, SignWithKey(tls->key_pem, DecisionMessage(out.decision())));
  out.set_signature(sig);
  out.set_certificate_pem(tls->cert_pem);
  return out;
}

}  // namespace custody
