// Who is calling (doc/security.md, "Principals and roles"), and what each
// role may do.
//   - A user certificate (CN "user:NAME") carries its roles, agency and
//     clearance as OU entries "role:R", "agency:A", "clearance:L" (custody
//     ca issue --user NAME --role R ...).
//   - A bearer token ("authorization: Bearer T") names a user an admin added
//     (custody user add); the cluster keeps only SHA-256(T).
//   - A node certificate (CN "node:ID") is a peer: role "node".
//   - On a plaintext loopback node (--insecure-loopback) every caller is the
//     local operator, with every role: that mode is for tests and demos.
// A user disabled in the ledger is refused whichever way it comes.
#ifndef CUSTODY_SERVER_SECURITY_PRINCIPALS_H_
#define CUSTODY_SERVER_SECURITY_PRINCIPALS_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/roles.h"
#include "custody/v1/access.pb.h"
#include "server/security/access_state.h"

namespace custody {

// What a caller may ask of a node.
enum class Action {
  kPut,               // upload footage
  kReadMetadata,      // stat, ls
  kReadFootage,       // get (also needs a live grant)
  kAuditRead,         // audit log, export, checkpoint, verify-node
  kStatus,            // status, cluster status, cluster map show
  kMaintain,          // cluster repair, scrub, cluster map apply
  kManageUsers,       // user add, list, disable
  kRequestAccess,     // access request
  kDecideAccess,      // access approve, deny, revoke
  kRecordRead,        // catalog, record show, list, overdue, hold list
  kRecordWrite,       // record create, attach, correct, note, exempt, late
  kArchive,           // record archive
  kRetain,            // record retain
  kHold,              // hold set, release
  kApproveExemption,  // record approve-exemption, approve-late
  kDevices,           // device add, list, checkout, checkin
  kReport,            // report
  kPurge,             // purge request, purge --confirm
  kApprovePurge,      // purge approve
  kSnapshot,          // snapshot create, offsite sync
  kSnapshotRead,      // snapshot list, show, offsite status, offsite verify, offsite snapshots
  kRestore,           // restore --from-offsite
  kOffsitePeer,       // the offsite peer's service: cluster nodes only
  kWitness,           // the witness service: cluster nodes only
  kLiveUpload,        // live (stream a growing recording; doc/live.md)
  kLiveSeal,          // live seal (an upload the camera will not finish)
};
const char* ActionName(Action a);
// The commands that ask for `a` (the comments above).
const char* ActionCommands(Action a);
// Every action, in the order above.
const std::vector<Action>& AllActions();
// The roles that may do `a`: the one table every check, the docs' role
// table (RoleTableMarkdown) and the role tests come from.
const std::vector<std::string>& RolesFor(Action a);
// The table as Markdown, one row per action; doc/security.md carries it
// between <!-- role-table --> markers (a unit test compares them).
std::string RoleTableMarkdown();

// The caller of `ctx` on a node that runs with TLS (`tls`) or plaintext.
// A web console ("console:NAME") calls for the person whose session or token
// it relays (server/security/session_check.h; `ca_pem` is the cluster CA's
// certificate), and is then that person with `relay` set.
// UNAUTHENTICATED when nobody can be named, PERMISSION_DENIED for a disabled
// user or a session that does not check out.
absl::StatusOr<v1::Principal> Caller(const grpc::ServerContextBase& ctx, bool tls,
                                     const std::string& ca_pem, const AccessState& state);
// The principal a bearer token names, or UNAUTHENTICATED.
absl::StatusOr<v1::Principal> TokenUser(const std::string& token, const AccessState& state);

bool HasRole(const v1::Principal& p, const std::string& role);
// OK if one of the caller's roles allows `a`; PERMISSION_DENIED naming the
// roles that would.
absl::Status Authorize(const v1::Principal& p, Action a);
// Whether the caller's clearance covers `level` ("" counts as internal).
bool Cleared(const v1::Principal& p, const std::string& level);
// Whether the caller sees records and requests of `agency`: archive-heads,
// auditors and nodes see every agency; anyone else only their own.
bool SeesAgency(const v1::Principal& p, const std::string& agency);

}  // namespace custody

#endif  // CUSTODY_SERVER_SECURITY_PRINCIPALS_H_
