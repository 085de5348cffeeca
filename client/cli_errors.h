// How the CLI reports a failure: one line on stderr, and the exit code.
#ifndef CUSTODY_CLIENT_CLI_ERRORS_H_
#define CUSTODY_CLIENT_CLI_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace custody {

// INVALID_ARGUMENT for a command the CLI itself finds wrong before calling
// any node (a bad flag value, a missing flag): PrintFailure exits 2 for it.
// The same code from a node (it checked the request) exits 1.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& s);

// Prints "custody: CODE: message" (newlines folded) to stderr; returns 2 for
// a UsageError, else 1.
int PrintFailure(const absl::Status& s);

}  // namespace custody

#endif  // CUSTODY_CLIENT_CLI_ERRORS_H_
