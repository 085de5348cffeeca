// `custody export ID -o DIR` (regulation article 18, handing records out):
// with a live export grant, writes into the new folder DIR the object's
// bytes (verified against its id), manifest.json (the object's facts and the
// export's: its records, requester, approvers and reason, as the node signed
// them), audit.bundle (the object's events with inclusion proofs and the
// node's key), node-key.pem (that key) and VERIFY.txt (how to check the
// package offline with those files and `custody audit verify`).
#ifndef CUSTODY_CLIENT_EXPORT_CLI_H_
#define CUSTODY_CLIENT_EXPORT_CLI_H_

#include <string>

namespace custody {

struct ExportArgs {
  std::string server, id, out;
  bool json = false;
};

// 0, or 1 after printing why; a failed export removes the folder it made.
int ExportCommand(const ExportArgs& a);

}  // namespace custody

#endif  // CUSTODY_CLIENT_EXPORT_CLI_H_
