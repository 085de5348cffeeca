// How the CLI reports a failure: one line on stderr, and the exit code.
#ifndef CUSTODY_CLIENT_CLI_ERRORS_H_
#define CUSTODY_CLIENT_CLI_ERRORS_H_

#include "absl/status/status.h"

namespace custody {

// Prints "custody: CODE: message" (newlines folded) to stderr; returns 1.
int PrintFailure(const absl::Status& s);

}  // namespace custody

#endif  // CUSTODY_CLIENT_CLI_ERRORS_H_
