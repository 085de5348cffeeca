// RFC 3161 time-stamp tokens through OpenSSL's TS_* API: the query a node
// sends a time-stamping authority (TSA), the token taken from its reply, and
// the offline check of a token against the TSA's certificate.
//
// custody timestamps a checkpoint by the SHA-256 of its note body (the
// checkpoint without signature lines), so that
//   openssl ts -verify -data checkpoint-body.txt -in token.tst -token_in -CAfile tsa.pem
// checks the same token (doc/witness.md).
#ifndef CUSTODY_COMMON_TIMESTAMP_TOKEN_H_
#define CUSTODY_COMMON_TIMESTAMP_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/digest.h"

namespace custody {

// A DER TimeStampReq for the SHA-256 `imprint`, with a fresh random nonce and
// the TSA's certificate asked for.
absl::StatusOr<std::string> MakeTimestampQuery(const Digest& imprint);

// The DER TimeStampToken of the DER TimeStampResp `reply` to `query`:
// FAILED_PRECONDITION naming the TSA's status when it refused, DATA_LOSS
// when the reply is malformed or its token is for another imprint or nonce.
// The signature is not checked here (VerifyTimestampToken does).
absl::StatusOr<std::string> TokenFromReply(absl::string_view reply, absl::string_view query);

struct TimestampFacts {
  absl::Time time;     // the TSA's genTime
  std::string tsa;     // the signer certificate's subject (one line)
  std::string serial;  // the token's serial number, hex
};

// What `token` (DER TimeStampToken) says, without checking its signature.
absl::StatusOr<TimestampFacts> ReadTimestampToken(absl::string_view token);

// Checks `token` offline: its CMS signature by the TSA certificate
// `tsa_cert_pem` (the trust anchor; its timeStamping key usage is required),
// and that it stamps `imprint`. DATA_LOSS saying what fails.
absl::StatusOr<TimestampFacts> VerifyTimestampToken(absl::string_view token, const Digest& imprint,
                                                    absl::string_view tsa_cert_pem);

}  // namespace custody

#endif  // CUSTODY_COMMON_TIMESTAMP_TOKEN_H_
