// Has an RFC 3161 time-stamping authority (TSA) timestamp a node's
// checkpoints (doc/witness.md): the query over SHA-256 of the checkpoint's
// note body goes by HTTP POST (application/timestamp-query), the token is
// checked against the query and, given the TSA's certificate, its signature,
// and is kept with the checkpoint (attestations.h).
#ifndef CUSTODY_REPLICATION_WITNESS_TIMESTAMPER_H_
#define CUSTODY_REPLICATION_WITNESS_TIMESTAMPER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "custody/v1/custody.pb.h"
#include "replication/witness/attestations.h"

namespace custody {

// Thread-safe.
class Timestamper {
 public:
  // `url`: http:// or https://HOST[:PORT][/PATH]. `tsa_cert_pem` may be
  // empty (tokens are then checked against the query only).
  Timestamper(std::string url, std::string tsa_cert_pem, Attestations* store);

  // A token for `note` (held, or asked for now and kept).
  absl::StatusOr<std::string> Stamp(const std::string& note);
  // The largest checkpoint stamped and the last error.
  void Fill(v1::Attestation* a) const;
  uint64_t stamped_size() const;
  std::string last_error() const;
  const std::string& url() const { return url_; }

 private:
  absl::StatusOr<std::string> Post(const std::string& query);

  const std::string url_, tsa_cert_pem_;
  Attestations* store_;
  mutable absl::Mutex mu_;
  uint64_t stamped_size_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t stamped_unix_nanos_ ABSL_GUARDED_BY(mu_) = 0;
  std::string error_ ABSL_GUARDED_BY(mu_);
};

// The imprint a checkpoint is timestamped by: SHA-256 of its note body.
absl::StatusOr<Digest> TimestampImprint(const std::string& note);

}  // namespace custody

#endif  // CUSTODY_REPLICATION_WITNESS_TIMESTAMPER_H_
