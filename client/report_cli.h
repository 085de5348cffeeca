// `custody report`: an agency's compliance report over a period
// (records.proto's MakeReport) as an aligned table, JSON or CSV.
#ifndef CUSTODY_CLIENT_REPORT_CLI_H_
#define CUSTODY_CLIENT_REPORT_CLI_H_

#include "client/record_cli.h"

namespace custody {

// Takes a.agency, a.from, a.to and a.format ("" is table, or json with
// --json). Returns the exit code: 0, or 1 after printing why.
int ReportCommand(const RecordArgs& a);

}  // namespace custody

#endif  // CUSTODY_CLIENT_REPORT_CLI_H_
