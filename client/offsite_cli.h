// `custody snapshot create|list|show`, `custody offsite
// sync|status|verify|snapshots` and `custody restore --from-offsite ADDR`
// (proto/custody/v1/offsite.proto's Snapshots service; doc/offsite.md).
#ifndef CUSTODY_CLIENT_OFFSITE_CLI_H_
#define CUSTODY_CLIENT_OFFSITE_CLI_H_

#include <cstdint>
#include <string>
#include <vector>

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
};

// Each returns the exit code: 0, or 1 after printing why.
int SnapshotCreateCommand(const OffsiteArgs& a);
int SnapshotListCommand(const OffsiteArgs& a);
int SnapshotShowCommand(const OffsiteArgs& a);
int OffsiteSyncCommand(const OffsiteArgs& a);
int OffsiteStatusCommand(const OffsiteArgs& a);
// 1 also when the peer found something missing or corrupt.
int OffsiteVerifyCommand(const OffsiteArgs& a);
// client/restore_cli.cc: the peer's sealed snapshots (through a node), and a
// restore, which first prints the snapshot it uses.
int OffsiteSnapshotsCommand(const OffsiteArgs& a);
int RestoreCommand(const OffsiteArgs& a);

}  // namespace custody

#endif  // CUSTODY_CLIENT_OFFSITE_CLI_H_
