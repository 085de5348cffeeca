// Challenging the offsite peer (doc/offsite.md, "Challenges"): a proof of
// retrievability. Chunks are drawn at random (a fresh seed the peer cannot
// predict, common/spot_check.h's draw) from the chunks of the last snapshot
// the peer verified; the peer answers SHA-256(nonce || bytes) for each,
// which only the bytes give, while the node computes the same from its own
// copies; both read at the challenge rate. A peer that lost a chunk, or
// keeps only hashes, cannot answer.
#ifndef CUSTODY_REPLICATION_OFFSITE_OFFSITE_CHALLENGE_H_
#define CUSTODY_REPLICATION_OFFSITE_OFFSITE_CHALLENGE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "custody/v1/offsite.pb.h"
#include "replication/offsite/offsite_client.h"
#include "server/node.h"

namespace custody {

struct ChallengeOptions {
  uint32_t samples = 200;
  uint64_t rate_bytes_per_second = 20ull << 20;  // each side reads no faster
};

// Challenges the peer behind `client` (named `peer`) and puts the result on
// record: offsite.challenged, and offsite.challenge-failed naming each miss
// (the peer marks a corrupt chunk bad, so the next sync sends it again).
// The report is kept for `offsite status` (LastChallenge).
absl::StatusOr<v1::ChallengeReport> ChallengePeer(Node* node, OffsiteClient* client,
                                                  const std::string& peer,
                                                  const ChallengeOptions& options,
                                                  const std::string& actor);
// The last challenge's report, if any.
absl::StatusOr<std::optional<v1::ChallengeReport>> LastChallenge(Node* node);
// Prometheus gauges of the last challenge: custody_offsite_challenge_misses
// (the alert's metric) and custody_offsite_challenge_finished_seconds.
std::string ChallengeMetrics(Node* node);

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_OFFSITE_CHALLENGE_H_
