// `custody report sample`: a spot check of an agency's records over a period
// (records.proto's Sample; common/spot_check.h), and `--verify FILE`, which
// reproduces a saved draw offline from its checkpoint.
#ifndef CUSTODY_CLIENT_SAMPLE_CLI_H_
#define CUSTODY_CLIENT_SAMPLE_CLI_H_

#include <string>

#include "client/record_cli.h"

namespace custody {

struct SampleArgs {
  uint32_t n = 20;
  std::string verify;  // a saved `--json` output to reproduce
  std::string pubkey;  // with --verify: the node's PEM key to trust
};

// Takes a.agency, a.from, a.to and s.n; or s.verify alone (offline).
int SampleCommand(const RecordArgs& a, const SampleArgs& s);

}  // namespace custody

#endif  // CUSTODY_CLIENT_SAMPLE_CLI_H_
