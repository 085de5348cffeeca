#include "client/shown_time.h"

#include "absl/strings/str_cat.h"
#include "client/cli_errors.h"
#include "common/units.h"

namespace custody {
namespace {

struct Shown {
  absl::TimeZone zone = absl::UTCTimeZone();
  std::string name = "UTC";
};

Shown& State() {
  static Shown* s = new Shown;
  return *s;
}

}  // namespace

absl::Status SetShownTimeZone(const std::string& name) {
  if (name.empty() || name == "UTC") {
    State() = Shown();
    return absl::OkStatus();
  }
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(name, &tz)) {
    return UsageError(absl::StrCat("--time-zone \"", name,
                                   "\" is not a time zone this machine knows (an IANA name such "
                                   "as Asia/Shanghai; Debian's tzdata has them)"));
  }
  State() = Shown{tz, name};
  return absl::OkStatus();
}

absl::TimeZone ShownTimeZone() { return State().zone; }

const std::string& ShownTimeZoneName() { return State().name; }

std::string ShownTime(int64_t nanos) {
  if (State().name == "UTC") return FormatUnixNanos(nanos);
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3S%Ez", absl::FromUnixNanos(nanos), State().zone);
}

}  // namespace custody
