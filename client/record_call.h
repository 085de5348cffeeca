// One Records call from a record command: the answer as --json or a
// confirmation line, and a record named by a prefix or archive number turned
// into its id before anything is signed about it.
#ifndef CUSTODY_CLIENT_RECORD_CALL_H_
#define CUSTODY_CLIENT_RECORD_CALL_H_

#include <iostream>
#include <string>

#include "absl/status/statusor.h"
#include "client/cli_errors.h"
#include "client/record_cli.h"
#include "client/unary_call.h"
#include "custody/v1/records.grpc.pb.h"

namespace custody {

// With --json the record; otherwise `confirmation`, and the record's flags as
// a warning on stderr. Returns 0.
int RecordDone(const RecordArgs& a, const v1::Record& r, const std::string& confirmation);

// Calls `method` with `req`; prints the failure, or RecordDone(confirm(record)).
template <typename Req, typename Confirm>
int RecordCall(const RecordArgs& a,
               grpc::Status (v1::Records::Stub::*method)(grpc::ClientContext*, const Req&,
                                                         v1::Record*),
               const Req& req, Confirm confirm) {
  v1::Record r;
  absl::Status s = UnaryCall(a.server, method, req, &r);
  if (!s.ok()) return PrintFailure(s);
  return RecordDone(a, r, confirm(r));
}

// Whether `ref` is a whole record id ("rec-" and 12 hex digits).
bool IsRecordId(const std::string& ref);
// The record `ref` names (an id, a unique prefix of one, or an archive
// number), as the node shows it.
absl::StatusOr<v1::Record> ShowRecord(const std::string& server, const std::string& ref);

}  // namespace custody

#endif  // CUSTODY_CLIENT_RECORD_CALL_H_
