#include "client/cli_errors.h"

#include <iostream>
#include <string>

#include "absl/strings/cord.h"

namespace custody {
namespace {

constexpr absl::string_view kUsage = "custody.dev/usage-error";

}  // namespace

absl::Status UsageError(absl::string_view message) {
  absl::Status s = absl::InvalidArgumentError(message);
  s.SetPayload(kUsage, absl::Cord("1"));
  return s;
}

bool IsUsageError(const absl::Status& s) { return s.GetPayload(kUsage).has_value(); }

int PrintFailure(const absl::Status& s) {
  std::string msg(s.message());
  for (char& c : msg) {
    if (c == '\n') c = ' ';
  }
  std::cerr << "custody: " << absl::StatusCodeToString(s.code()) << ": " << msg << "\n";
  return IsUsageError(s) ? 2 : 1;
}

}  // namespace custody
