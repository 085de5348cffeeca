#include "client/progress.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/units.h"

namespace custody {

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), start_(absl::Now()) {}

ProgressBar::~ProgressBar() {
  if (drawn_) std::fputc('\n', stderr);
}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  absl::Time now = absl::Now();
  if (now - last_draw_ < absl::Milliseconds(100) && done < total) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  double frac = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  int filled = static_cast<int>(frac * kWidth);
  double secs = std::max(1e-3, absl::ToDoubleSeconds(now - start_));
  std::string bar(filled, '#');
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r%s [%s] %3.0f%% %s / %s  %s/s   ", label_.c_str(), bar.c_str(),
               frac * 100, FormatBytes(done).c_str(), FormatBytes(total).c_str(),
               FormatBytes(done / secs).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace custody
