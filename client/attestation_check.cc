#include "client/attestation_check.h"

#include "absl/strings/str_cat.h"
#include "client/shown_time.h"
#include "common/cosignature.h"
#include "common/ed25519.h"
#include "common/timestamp_token.h"

namespace custody {
namespace {

void CheckWitness(const std::string& note, const std::string& key_pem, AttestationReport* r) {
  r->cosignatures = static_cast<int>(NoteSignatureLines(note).size()) - 1;
  if (key_pem.empty()) return;
  absl::StatusOr<std::string> key = Ed25519PublicFromPem(key_pem);
  if (!key.ok()) {
    r->problems.push_back(absl::StrCat("witness key: ", key.status().message()));
    return;
  }
  absl::StatusOr<VerifiedCosignature> v = VerifyCosignature(note, *key);
  if (absl::IsNotFound(v.status())) {
    r->problems.push_back(
        "the checkpoint carries no cosignature by the witness key given: the witness did not "
        "vouch for this log at this size (a fork or a rollback, or the witness was not reached)");
  } else if (!v.ok()) {
    r->problems.push_back(absl::StrCat("witness: ", v.status().message()));
  } else {
    r->witness = v->name;
    r->witness_unix_seconds = v->unix_seconds;
  }
}

void CheckToken(const std::string& note, const Checkpoint& c, const std::string& token,
                const std::string& cert_pem, AttestationReport* r) {
  r->timestamped = !token.empty();
  if (token.empty()) {
    if (!cert_pem.empty()) r->problems.push_back("the bundle carries no RFC 3161 time-stamp token");
    return;
  }
  absl::StatusOr<std::string> body = NoteBody(note);
  absl::StatusOr<TimestampFacts> facts =
      !body.ok()         ? absl::StatusOr<TimestampFacts>(body.status())
      : cert_pem.empty() ? ReadTimestampToken(token)
                         : VerifyTimestampToken(token, Digest::Of(*body), cert_pem);
  if (!facts.ok()) {
    r->problems.push_back(absl::StrCat("time-stamp token: ", facts.status().message()));
    return;
  }
  r->tsa_checked = !cert_pem.empty();
  r->tsa_time = facts->time;
  r->tsa = facts->tsa;
  absl::Time node_time = absl::FromUnixNanos(c.time_unix_nanos);
  if (absl::AbsDuration(facts->time - node_time) > kTsaClockBound) {
    r->warnings.push_back(absl::StrCat(
        "the node signed the checkpoint at ", ShownTime(c.time_unix_nanos),
        " by its clock, the TSA stamped it at ", ShownTime(absl::ToUnixNanos(facts->time)),
        ": more than ", absl::FormatDuration(kTsaClockBound), " apart"));
  }
}

std::string When(int64_t nanos) { return nanos == 0 ? "never" : ShownTime(nanos); }

}  // namespace

nlohmann::ordered_json AttestationStatusJson(const v1::Attestation& a) {
  return nlohmann::ordered_json{{"witness", a.witness()},
                                {"cosigned_size", a.cosigned_size()},
                                {"cosigned", When(a.cosigned_unix_nanos())},
                                {"witness_refused", a.witness_refused()},
                                {"witness_error", a.witness_error()},
                                {"tsa", a.tsa()},
                                {"timestamped_size", a.timestamped_size()},
                                {"timestamped", When(a.timestamped_unix_nanos())},
                                {"tsa_error", a.tsa_error()}};
}

std::vector<std::string> AttestationStatusLines(const v1::Attestation& a) {
  std::vector<std::string> out;
  if (!a.witness().empty()) {
    out.push_back(absl::StrCat("witness ", a.witness(), ": cosigned up to size ", a.cosigned_size(),
                               " (", When(a.cosigned_unix_nanos()), ")"));
  }
  if (!a.witness_refused().empty()) {
    out.push_back(absl::StrCat("WITNESS REFUSED (", When(a.refused_unix_nanos()),
                               "): ", a.witness_refused()));
  }
  if (!a.witness_error().empty()) out.push_back("witness unreachable: " + a.witness_error());
  if (!a.tsa().empty()) {
    out.push_back(absl::StrCat("TSA ", a.tsa(), ": timestamped up to size ", a.timestamped_size(),
                               " (TSA time ", When(a.timestamped_unix_nanos()), ")"));
  }
  if (!a.tsa_error().empty()) out.push_back("TSA not reached: " + a.tsa_error());
  return out;
}

AttestationReport CheckAttestations(const std::string& note, const Checkpoint& c,
                                    const std::string& token, const std::string& witness_key_pem,
                                    const std::string& tsa_cert_pem) {
  AttestationReport r;
  CheckWitness(note, witness_key_pem, &r);
  CheckToken(note, c, token, tsa_cert_pem, &r);
  return r;
}

}  // namespace custody
