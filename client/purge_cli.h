// `custody purge --expired [--confirm REQ]`, `custody purge request` and
// `custody purge approve REQ`: purging the data of records whose retention
// has ended (records.proto's PurgeCandidates, RequestPurge, ApprovePurge and
// ExecutePurge). Without --confirm nothing is removed.
#ifndef CUSTODY_CLIENT_PURGE_CLI_H_
#define CUSTODY_CLIENT_PURGE_CLI_H_

#include <string>

#include "client/record_cli.h"

namespace custody {

// The flags of `custody purge` beyond RecordArgs.
struct PurgeArgs {
  bool expired = false;              // --expired: the records whose retention has ended
  std::string confirm;               // --confirm REQ: execute this approved request
  std::string request;               // approve REQ
  std::vector<std::string> records;  // request --record: only these
};

// Each returns the exit code: 0, or 1 after printing why.
// Without p.confirm the dry run: what could go, and the requests so far;
// with it, executes that request.
int PurgeCommand(const RecordArgs& a, const PurgeArgs& p);
// Asks to purge every record that could go now (or p.records of them);
// takes a.reason.
int PurgeRequestCommand(const RecordArgs& a, const PurgeArgs& p);
// Approves p.request (an archive-head other than the requester).
int PurgeApproveCommand(const RecordArgs& a, const PurgeArgs& p);

}  // namespace custody

#endif  // CUSTODY_CLIENT_PURGE_CLI_H_
