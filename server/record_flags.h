// custodyd's flags for records (doc/records.md): the matter catalog, the
// archive-number format and the tolerances of the regulation's checks.
#ifndef CUSTODY_SERVER_RECORD_FLAGS_H_
#define CUSTODY_SERVER_RECORD_FLAGS_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/node.h"

namespace custody {

class RecordFlags {
 public:
  // Adds the flags to `app`; Apply() writes them into `opts` after parsing.
  RecordFlags(CLI::App* app, NodeOptions* opts) : opts_(opts) {
    app->add_option("--catalog", opts->catalog_file,
                    "the agency's matter catalog (CSV like deploy/catalog/matters.csv); "
                    "default: the regulation's 13 matters, built in");
    app->add_option("--archive-format", opts->records.archive_format,
                    "archive numbers: {agency} {date} {target} {stage} and {seq:N}; default " +
                        opts->records.archive_format);
    app->add_option("--gap-tolerance", gap_,
                    "a break longer than this between two segments "
                    "of one device is a gap (default 2s)");
    app->add_option("--time-tolerance", time_,
                    "documents' times may differ from the "
                    "footage's by this much (default 60s)");
    app->add_option("--clock-tolerance", clock_,
                    "device clock skew flagged above this "
                    "(default 30s)");
    app->add_option("--record-idle-close", idle_,
                    "a record that ingest opened ends at its last segment once its device "
                    "sent no footage for this long, or is checked in (default 12h)");
    app->add_option("--time-zone", opts->records.time_zone,
                    "the agencies' time zone (IANA name, e.g. Asia/Shanghai): archive-number "
                    "dates and the times people read are local to it (default UTC)");
    app->add_option("--agency-time-zone", agency_zones_,
                    "AGENCY=ZONE: one agency's own time zone (repeatable)");
    app->add_option("--unsafe-testing-archive-deadline", deadline_,
                    "TESTS ONLY: records are overdue this long after their end instead of "
                    "the 24 h of article 17");
    app->add_option("--unsafe-testing-retention", testing_,
                    "TESTS ONLY: archived records are kept this long instead of the 2 years "
                    "of article 19 (recorded in the audit log)");
    app->add_option("--unsafe-testing-clock-offset", clock_offset_,
                    "TESTS ONLY: this node's clock runs this much ahead (e.g. 10m, or -10m "
                    "behind), to play a node with a skewed clock");
  }

  absl::Status Apply() {
    for (auto [text, out, flag] :
         {std::tuple{&gap_, &opts_->records.gap_tolerance, "--gap-tolerance"},
          std::tuple{&time_, &opts_->records.time_tolerance, "--time-tolerance"},
          std::tuple{&clock_, &opts_->records.clock_tolerance, "--clock-tolerance"},
          std::tuple{&idle_, &opts_->records.ingest_idle_close, "--record-idle-close"},
          std::tuple{&deadline_, &opts_->records.archive_deadline,
                     "--unsafe-testing-archive-deadline"},
          std::tuple{&testing_, &opts_->records.testing_retention, "--unsafe-testing-retention"}}) {
      if (text->empty()) continue;
      if (!absl::ParseDuration(*text, out) || *out < absl::ZeroDuration()) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag, " must be a duration such as 2s or 1m, not \"", *text, "\""));
      }
    }
    if (!clock_offset_.empty() &&
        !absl::ParseDuration(clock_offset_, &opts_->testing_clock_offset)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--unsafe-testing-clock-offset must be a duration such as 10m or -10m, not \"",
          clock_offset_, "\""));
    }
    return ApplyTimeZones();
  }

 private:
  absl::Status ApplyTimeZones() {
    absl::TimeZone tz;
    if (!absl::LoadTimeZone(opts_->records.time_zone, &tz)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--time-zone \"", opts_->records.time_zone,
          "\" is not a time zone this machine knows (an IANA name such as Asia/Shanghai)"));
    }
    for (const std::string& pair : agency_zones_) {
      size_t eq = pair.find('=');
      std::string zone = eq == std::string::npos ? "" : pair.substr(eq + 1);
      if (eq == 0 || zone.empty() || !absl::LoadTimeZone(zone, &tz)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--agency-time-zone \"", pair, "\" must be AGENCY=ZONE with a known IANA zone"));
      }
      opts_->records.agency_time_zones[pair.substr(0, eq)] = zone;
    }
    return absl::OkStatus();
  }

  NodeOptions* opts_;
  std::vector<std::string> agency_zones_;
  std::string gap_, time_, clock_, idle_, deadline_, testing_, clock_offset_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORD_FLAGS_H_
