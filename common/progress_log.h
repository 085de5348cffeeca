// Progress of a long job (an index rebuild, a ledger fold rebuild) in the
// node's log: every 2 s how far it is and its rate, and at the end the total,
// the time and the rate.
#ifndef CUSTODY_COMMON_PROGRESS_LOG_H_
#define CUSTODY_COMMON_PROGRESS_LOG_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace custody {

// Not thread-safe: one job's thread calls it.
class ProgressLog {
 public:
  // `what` names the job and its unit ("index rebuild: entries").
  explicit ProgressLog(std::string what);

  // `done` units so far; `where` says more ("volume 3 of 12"), may be "".
  void Step(uint64_t done, const std::string& where = "");
  // Logs the total, the time and the rate.
  void Done();

  uint64_t done() const { return done_; }
  absl::Duration elapsed() const;
  // Units per second so far.
  double rate() const;

 private:
  const std::string what_;
  const absl::Time start_;
  absl::Time last_;
  uint64_t done_ = 0;
};

}  // namespace custody

#endif  // CUSTODY_COMMON_PROGRESS_LOG_H_
