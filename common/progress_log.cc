#include "common/progress_log.h"

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/log.h"

namespace custody {

namespace {
constexpr absl::Duration kEvery = absl::Seconds(2);
}  // namespace

ProgressLog::ProgressLog(std::string what)
    : what_(std::move(what)), start_(absl::Now()), last_(start_) {}

void ProgressLog::Step(uint64_t done, const std::string& where) {
  done_ = done;
  const absl::Time now = absl::Now();
  if (now - last_ < kEvery) return;
  last_ = now;
  LOG(INFO) << what_ << ": " << done << " so far" << (where.empty() ? "" : ", ") << where
            << absl::StrFormat(", %.0f/s", rate());
}

void ProgressLog::Done() {
  LOG(INFO) << what_ << ": " << done_ << " in " << absl::FormatDuration(elapsed())
            << absl::StrFormat(", %.0f/s", rate());
}

absl::Duration ProgressLog::elapsed() const { return absl::Now() - start_; }

double ProgressLog::rate() const {
  const double s = absl::ToDoubleSeconds(elapsed());
  return s > 0 ? static_cast<double>(done_) / s : 0;
}

}  // namespace custody
