// A node's record of what third parties said of its checkpoints: each
// checkpoint's note with the cosignature lines its witness gave it, and the
// TSA's time-stamp token (meta column family, "attest/cp/<size>"), and the
// size its witness holds ("attest/witness-size").
//
// These are written without audit events: they are signatures over the log
// that anyone can check, and an event for each would make the log grow, be
// checkpointed and be cosigned again, for ever, on an idle node.
#ifndef CUSTODY_REPLICATION_WITNESS_ATTESTATIONS_H_
#define CUSTODY_REPLICATION_WITNESS_ATTESTATIONS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "custody/internal/v1/witness_state.pb.h"
#include "server/storage/committer.h"
#include "server/storage/index.h"

namespace custody {

// Thread-safe; the read-modify-writes of one node are serialized here.
class Attestations {
 public:
  Attestations(Index* index, Committer* committer) : index_(index), committer_(committer) {}

  // What is held for the checkpoint `note` (matched by its body; a stored
  // record of the same size with another body is ignored).
  absl::StatusOr<internal::v1::CheckpointAttestation> For(const std::string& note);
  // Adds the cosignature `line` to `note`'s record; returns the note with
  // every line held.
  absl::StatusOr<std::string> AddCosignature(const std::string& note, const std::string& line);
  absl::Status SetToken(const std::string& note, const std::string& token, absl::Time tsa_time);
  // The size the witness last said it holds (0 before any).
  absl::StatusOr<uint64_t> WitnessSize();
  absl::Status SetWitnessSize(uint64_t size);

 private:
  absl::StatusOr<std::optional<std::string>> Get(const std::string& key);
  absl::Status Put(const std::string& key, const std::string& value);

  Index* index_;
  Committer* committer_;
  absl::Mutex mu_;  // over each read-modify-write
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_WITNESS_ATTESTATIONS_H_
