// The `custody audit ...` commands.
#ifndef CUSTODY_CLIENT_AUDIT_CLI_H_
#define CUSTODY_CLIENT_AUDIT_CLI_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/digest.h"
#include "custody/v1/audit.pb.h"

namespace custody {

struct AuditArgs {
  std::string server;
  bool json = false;
  std::string id;           // log, export
  std::string output;       // export
  std::string bundle;       // verify
  std::string pubkey;       // verify: PEM file
  std::string witness_key;  // verify: a witness's PEM public key
  std::string tsa_cert;     // verify: a TSA's PEM certificate
  std::string file;         // verify: the object's bytes
  std::string manifest;     // verify: an export's manifest.json (default: beside the bundle)
  std::string since;        // verify-node: a checkpoint file
  bool since_last_verified = false;  // verify-node: from the node's last verified checkpoint
  bool fresh = false;                // checkpoint: sign one over the log as it is now
  bool key_only = false;             // witness: print its key alone
  // log: filters (the register, across subjects, without an ID)
  std::string actor, action, from, to;
  uint32_t limit = 0;
};

// Each returns the process exit code and prints as the CLI does.
int AuditLogCommand(const AuditArgs& a);
int AuditCheckpointCommand(const AuditArgs& a);
int AuditExportCommand(const AuditArgs& a);
int AuditVerifyCommand(const AuditArgs& a);  // offline
int AuditVerifyNodeCommand(const AuditArgs& a);
int AuditWitnessCommand(const AuditArgs& a);  // client/witness_cli.cc

// Fetches the audit bundle of object `id` from `server` (proofs against a
// checkpoint signed now, and the node-signed manifest) and writes it to the
// new file `path`; returns it.
absl::StatusOr<v1::AuditBundle> WriteAuditBundle(const std::string& server, const Digest& id,
                                                 const std::string& path);

}  // namespace custody

#endif  // CUSTODY_CLIENT_AUDIT_CLI_H_
