#include "common/session_statement.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace custody {
namespace {

constexpr char kTag[] = "custody session v1";
constexpr const char* kKeys[] = {"user", "relay", "issued", "expires", "nonce"};

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseTime(absl::string_view key, const std::string& v) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%SZ", v, absl::UTCTimeZone(), &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat("session statement: ", key, " \"", v, "\" is not a UTC RFC 3339 time"));
  }
  return t;
}

bool IsHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(c)) return false;
  }
  return true;
}

}  // namespace

std::string SessionStatement::ToText() const {
  return absl::StrCat(kTag, "\nuser: ", user, "\nrelay: ", relay, "\nissued: ", Rfc3339(issued),
                      "\nexpires: ", Rfc3339(expires), "\nnonce: ", nonce, "\n");
}

absl::StatusOr<SessionStatement> SessionStatement::Parse(absl::string_view text) {
  if (!absl::EndsWith(text, "\n")) {
    return absl::InvalidArgumentError("session statement: does not end with a newline");
  }
  std::vector<std::string> lines = absl::StrSplit(text.substr(0, text.size() - 1), '\n');
  if (lines.size() != 6 || lines[0] != kTag) {
    return absl::InvalidArgumentError(
        absl::StrCat("session statement: not \"", kTag, "\" and 5 lines"));
  }
  std::string values[5];
  for (int i = 0; i < 5; ++i) {
    std::string prefix = absl::StrCat(kKeys[i], ": ");
    if (!absl::StartsWith(lines[i + 1], prefix)) {
      return absl::InvalidArgumentError(
          absl::StrCat("session statement: line ", i + 2, " is not \"", prefix, "...\""));
    }
    values[i] = lines[i + 1].substr(prefix.size());
  }
  SessionStatement s;
  s.user = values[0];
  s.relay = values[1];
  ASSIGN_OR_RETURN(s.issued, ParseTime("issued", values[2]));
  ASSIGN_OR_RETURN(s.expires, ParseTime("expires", values[3]));
  s.nonce = values[4];
  if (!absl::StartsWith(s.user, "user:") || !absl::StartsWith(s.relay, "console:")) {
    return absl::InvalidArgumentError(
        "session statement: user must be user:NAME and relay console:NAME");
  }
  if (s.nonce.size() < 16 || s.nonce.size() > 64 || !IsHex(s.nonce)) {
    return absl::InvalidArgumentError("session statement: nonce must be 16 to 64 hex digits");
  }
  if (s.ToText() != text) {
    return absl::InvalidArgumentError("session statement: not in its canonical form");
  }
  return s;
}

absl::Status SessionStatement::CheckTime(absl::Time now) const {
  if (expires <= issued || expires - issued > kMaxSession) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the session of ", user, " runs from ", Rfc3339(issued), " to ", Rfc3339(expires),
        ": a session lasts at most ", absl::FormatDuration(kMaxSession)));
  }
  if (now < issued - absl::Minutes(5)) {
    return absl::PermissionDeniedError(absl::StrCat("the session of ", user, " is issued at ",
                                                    Rfc3339(issued), ", in the future"));
  }
  if (now >= expires) {
    return absl::PermissionDeniedError(
        absl::StrCat("the session of ", user, " expired at ", Rfc3339(expires), ": sign in again"));
  }
  return absl::OkStatus();
}

}  // namespace custody
