// Child processes for the end-to-end benchmark: started with posix_spawn,
// stdout captured through a pipe, stderr sent to a log file, and always
// reaped (killed first if still running) when the handle goes away.
#ifndef CUSTODY_BENCH_BENCH_PROCESS_H_
#define CUSTODY_BENCH_BENCH_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace custody::bench {

class Child {
 public:
  // Starts argv (argv[0] a path, or a name looked up in PATH) with stdout
  // on a pipe read by Finish() and stderr written to `log_path`.
  static absl::StatusOr<Child> Start(const std::vector<std::string>& argv,
                                     const std::string& log_path);

  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) = delete;
  Child(const Child&) = delete;
  ~Child();  // SIGTERM, then SIGKILL after a grace period, if still running

  pid_t pid() const { return pid_; }
  // Reads stdout to its end and reaps the child. Its stdout, or an error
  // naming the command, how it ended and the end of its log.
  absl::StatusOr<std::string> Finish();
  // Reaps the child if it has exited; false while it runs.
  bool Exited();
  // SIGTERM, waits up to `grace`, then SIGKILL. Error unless it exits 0.
  absl::Status Stop(std::chrono::milliseconds grace);

 private:
  Child(pid_t pid, int out_fd, std::string what, std::string log_path);
  void Reaped(int status);
  absl::Status ExitError() const;

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int status_ = 0;
  std::string what_;  // the command line, for messages
  std::string log_path_;
};

// Starts argv and waits for it: its stdout, or an error (see Finish()).
absl::StatusOr<std::string> Run(const std::vector<std::string>& argv, const std::string& log_path);

// On SIGINT, SIGTERM or SIGHUP, sends SIGTERM to every live Child and
// refuses to start new ones, so the run fails and cleans up the normal way;
// a second signal exits at once with 128 + the signal.
void InstallCleanupHandlers();
// The signal that interrupted the run, or 0.
int Interrupted();

}  // namespace custody::bench

#endif  // CUSTODY_BENCH_BENCH_PROCESS_H_
