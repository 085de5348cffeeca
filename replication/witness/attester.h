// What third parties vouch for a node's checkpoints (doc/witness.md): its
// witness's cosignatures and its TSA's time-stamp tokens, asked for in the
// background (off every request's path) and for each export.
#ifndef CUSTODY_REPLICATION_WITNESS_ATTESTER_H_
#define CUSTODY_REPLICATION_WITNESS_ATTESTER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "common/job_loop.h"
#include "custody/v1/custody.pb.h"
#include "replication/witness/attestations.h"
#include "replication/witness/cosigner.h"
#include "replication/witness/timestamper.h"

namespace custody {

struct AttestOptions {
  std::string witness;  // HOST:PORT of a witness; "" for none
  std::shared_ptr<grpc::ChannelCredentials> witness_credentials;
  absl::Duration witness_every = absl::Seconds(60);
  std::string tsa_url;  // "" for none
  std::string tsa_cert_pem;
  // At most one TSA request per this interval in the background (exports
  // ask at once).
  absl::Duration tsa_interval = absl::Seconds(60);
};

// Thread-safe.
class Attester {
 public:
  Attester(AuditLog* log, AuditTrail* trail, Index* index, Committer* committer,
           AttestOptions options);
  ~Attester();

  bool enabled() const { return cosigner_ || timestamper_; }

  struct Attested {
    std::string note;                            // with the cosignatures held
    std::string token;                           // "" without one
    std::string witness_state, timestamp_state;  // why one is missing, "" otherwise
  };
  // For an export: asks the witness and the TSA now for what is not held.
  Attested Now(const std::string& note);
  // What is held for `note`, asking nobody.
  Attested Held(const std::string& note);
  // For the node's status; unset fields without a witness or a TSA.
  void Fill(v1::Attestation* a) const;

  // The background rounds: every second, the latest checkpoint goes to the
  // witness (at most every witness_every) and to the TSA (at most every
  // tsa_interval) when it has not yet.
  void Start();
  void Stop();

 private:
  absl::Time Round();

  AuditLog* log_;
  AttestOptions options_;
  Attestations store_;
  std::unique_ptr<Cosigner> cosigner_;
  std::unique_ptr<Timestamper> timestamper_;
  absl::Time last_witness_ = absl::InfinitePast(), last_tsa_ = absl::InfinitePast();  // loop only
  std::unique_ptr<JobLoop<absl::Time>> loop_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_WITNESS_ATTESTER_H_
