// `custody snapshot create|list|show`, `custody offsite
// sync|status|verify|snapshots` and `custody restore --from-offsite ADDR`
// (proto/custody/v1/offsite.proto's Snapshots service; doc/offsite.md).
#ifndef CUSTODY_CLIENT_OFFSITE_CLI_H_
#define CUSTODY_CLIENT_OFFSITE_CLI_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "custody/v1/offsite.pb.h"

namespace custody {

struct OffsiteArgs {
  std::string server;
  bool json = false;
  std::string snapshot;  // ID ("" = the latest)
  std::string peer;      // --peer / --from-offsite
  std::string rate;      // --rate, e.g. 50MiB/s
  uint32_t streams = 0;  // --streams (0 = the node's default)
  // restore: what the node otherwise refuses (RestoreRequest).
  bool allow_empty_snapshot = false;             // --allow-empty-snapshot
  bool allow_foreign_cluster = false;            // --allow-foreign-cluster
  std::vector<std::string> trusted_signer_keys;  // --trust-signer-key
  bool dry_run = false;                          // --dry-run: name the snapshot only
  uint32_t samples = 0;                          // challenge --samples (0 = the node's)
};

// Each returns the exit code: 0, or 1 after printing why.
int SnapshotCreateCommand(const OffsiteArgs& a);
int SnapshotListCommand(const OffsiteArgs& a);
int SnapshotShowCommand(const OffsiteArgs& a);
int OffsiteSyncCommand(const OffsiteArgs& a);
int OffsiteStatusCommand(const OffsiteArgs& a);
// 1 also when the peer found something missing or corrupt.
int OffsiteVerifyCommand(const OffsiteArgs& a);
// client/offsite_challenge_cli.cc: a challenge of the peer (1 when it
// failed), and a report's JSON and words (offsite status shows the last).
int OffsiteChallengeCommand(const OffsiteArgs& a);
nlohmann::ordered_json ChallengeJson(const v1::ChallengeReport& r);
void PrintChallenge(std::ostream& out, const v1::ChallengeReport& r);
// client/restore_cli.cc: the peer's sealed snapshots (through a node), and a
// restore, which first prints the snapshot it uses.
int OffsiteSnapshotsCommand(const OffsiteArgs& a);
int RestoreCommand(const OffsiteArgs& a);

}  // namespace custody

#endif  // CUSTODY_CLIENT_OFFSITE_CLI_H_
