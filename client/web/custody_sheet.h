// The chain-of-custody sheet of a record (doc/console.md): its fields, each
// object with its hash and every event of its history with the proof status
// against the node's signed checkpoint, the record's own history, and the
// access grants with their approvals. The console's page prints it.
#ifndef CUSTODY_CLIENT_WEB_CUSTODY_SHEET_H_
#define CUSTODY_CLIENT_WEB_CUSTODY_SHEET_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/web/node_relay.h"

namespace custody::web {

// The sheet of `record` as JSON, read with `who`'s credentials (what they
// may not see is refused by the nodes, as anywhere else).
absl::StatusOr<std::string> CustodySheet(NodeRelay* relay, const std::string& record,
                                         const CallerCredentials& who);

}  // namespace custody::web

#endif  // CUSTODY_CLIENT_WEB_CUSTODY_SHEET_H_
