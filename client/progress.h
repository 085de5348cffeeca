// A terminal progress bar with rate, drawn on stderr.
#ifndef CUSTODY_CLIENT_PROGRESS_H_
#define CUSTODY_CLIENT_PROGRESS_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace custody {

// Draws only when enabled (e.g. stderr is a terminal); redraws at most ten
// times a second. Not thread-safe.
class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar();  // ends the line if anything was drawn

  void Update(uint64_t done, uint64_t total);

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  absl::Time start_;
  absl::Time last_draw_ = absl::InfinitePast();
};

}  // namespace custody

#endif  // CUSTODY_CLIENT_PROGRESS_H_
