// Real processes for integration tests: custodyd nodes and custody CLI runs.
#ifndef CUSTODY_TESTS_INTEGRATION_PROCESS_H_
#define CUSTODY_TESTS_INTEGRATION_PROCESS_H_

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace custody::testing {

// A child process started with posix_spawn; stdout and stderr go to files.
class Subprocess {
 public:
  Subprocess(std::vector<std::string> argv, const std::string& out_path,
             const std::string& err_path, std::vector<std::string> extra_env = {});
  ~Subprocess();  // SIGKILLs the child if still running

  pid_t pid() const { return pid_; }
  bool running();
  void Kill(int sig);
  // Waits for exit; returns the exit code, or 128+signal.
  int Wait();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs the custody CLI to completion.
CliResult RunCli(const std::vector<std::string>& args, std::vector<std::string> extra_env = {});

// A custodyd on 127.0.0.1 with an OS-picked port; plaintext
// (--insecure-loopback) unless the extra args say --tls.
class NodeProcess {
 public:
  // `port` 0: the first start picks a free one.
  NodeProcess(std::string data_dir, std::vector<std::string> extra_args = {}, int port = 0);
  ~NodeProcess();

  // Starts the node and waits until it answers. Returns false on failure.
  // The first start picks a free port; restarts listen on the same one.
  bool Start();
  int Kill(int sig);  // and reap; returns the exit code, or 128+signal (-1: not running)
  // More flags for the next starts (e.g. --rebuild-index).
  void AddArgs(const std::vector<std::string>& more) {
    extra_args_.insert(extra_args_.end(), more.begin(), more.end());
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& log_path() const { return log_; }
  std::string Log() const;
  pid_t pid() const { return proc_ ? proc_->pid() : -1; }

 private:
  std::string data_dir_, log_, port_file_;
  std::vector<std::string> extra_args_;
  std::unique_ptr<Subprocess> proc_;
  int port_ = 0;
};

std::string ReadFile(const std::string& path);
// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
// The body of GET http://127.0.0.1:PORT/PATH ("" if it fails).
std::string HttpGet(int port, const std::string& path);
// The value of counter `name` on the /metrics at `port`; -1 if it is not there.
int64_t MetricValue(int port, const std::string& name);
// Writes `size` pseudo-random bytes to `path`; returns their "sha256:<hex>".
std::string WriteRandomFile(const std::string& path, uint64_t size, uint64_t seed);
// "sha256:<hex>" of a file's bytes.
std::string HashFile(const std::string& path);
// The offset of `needle` in the file at `path`, or -1.
int64_t FindInFile(const std::string& path, const std::string& needle);

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_INTEGRATION_PROCESS_H_
