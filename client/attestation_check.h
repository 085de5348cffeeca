// Offline checks of what third parties said of a bundle's checkpoint
// (doc/witness.md): a witness's cosignature (C2SP tlog-cosignature) under a
// key the verifier trusts, and an RFC 3161 time-stamp token under a TSA
// certificate the verifier trusts.
#ifndef CUSTODY_CLIENT_ATTESTATION_CHECK_H_
#define CUSTODY_CLIENT_ATTESTATION_CHECK_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/checkpoint.h"
#include "custody/v1/audit.pb.h"
#include "custody/v1/custody.pb.h"

namespace custody {

struct AttestationReport {
  std::vector<std::string> problems;  // a required attestation missing or invalid
  std::vector<std::string> warnings;  // e.g. the node's clock far from the TSA's
  std::string witness;                // the cosigning witness's name ("" unchecked)
  int64_t witness_unix_seconds = 0;
  int cosignatures = 0;      // witness lines in the note, checked or not
  bool timestamped = false;  // the bundle carries a token
  bool tsa_checked = false;  // and it verified under the given certificate
  absl::Time tsa_time = absl::InfinitePast();
  std::string tsa;  // the TSA certificate's subject
};

// How far the TSA's time may be from the node's before it is a warning.
inline constexpr absl::Duration kTsaClockBound = absl::Minutes(5);

// `witness_key_pem` (may be empty: cosignatures are then only counted) must
// have cosigned `note`; `tsa_cert_pem` (may be empty: the token is then only
// read) must have signed `token` over SHA-256 of the note body. `c` is the
// verified checkpoint of the note.
AttestationReport CheckAttestations(const std::string& note, const Checkpoint& c,
                                    const std::string& token, const std::string& witness_key_pem,
                                    const std::string& tsa_cert_pem);

// A node's witness and TSA as its status reports them (status, cluster
// status): JSON, and lines of text ("" lines left out).
nlohmann::ordered_json AttestationStatusJson(const v1::Attestation& a);
std::vector<std::string> AttestationStatusLines(const v1::Attestation& a);

}  // namespace custody

#endif  // CUSTODY_CLIENT_ATTESTATION_CHECK_H_
