#include "bench/bench_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace custody::bench {
namespace {

// Pids of live children, for the signal handler. Lock-free slots.
std::array<std::atomic<pid_t>, 64> g_live{};
std::atomic<int> g_signal{0};

void Register(pid_t pid) {
  for (std::atomic<pid_t>& slot : g_live) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}

void Unregister(pid_t pid) {
  for (std::atomic<pid_t>& slot : g_live) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

void OnSignal(int sig) {
  if (g_signal.exchange(sig) != 0) _exit(128 + sig);
  for (std::atomic<pid_t>& slot : g_live) {
    pid_t pid = slot.load();
    if (pid > 0) kill(pid, SIGTERM);
  }
}

// The last `max` bytes of the file at `path` ("" if unreadable).
std::string Tail(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max) s = "..." + s.substr(s.size() - max);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

absl::StatusOr<Child> Child::Start(const std::vector<std::string>& argv,
                                   const std::string& log_path) {
  if (Interrupted() != 0) return absl::CancelledError("interrupted");
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  std::string what = absl::StrJoin(argv, " ");
  if (rc != 0) {
    close(p[0]);
    return absl::FailedPreconditionError(absl::StrCat("cannot start `", what, "`: ", strerror(rc)));
  }
  Register(pid);
  return Child(pid, p[0], std::move(what), log_path);
}

Child::Child(pid_t pid, int out_fd, std::string what, std::string log_path)
    : pid_(pid), out_fd_(out_fd), what_(std::move(what)), log_path_(std::move(log_path)) {}

Child::Child(Child&& other) noexcept
    : pid_(other.pid_),
      out_fd_(other.out_fd_),
      status_(other.status_),
      what_(std::move(other.what_)),
      log_path_(std::move(other.log_path_)) {
  other.pid_ = -1;
  other.out_fd_ = -1;
}

Child::~Child() {
  if (pid_ > 0) Stop(std::chrono::seconds(5)).IgnoreError();
  if (out_fd_ >= 0) close(out_fd_);
}

void Child::Reaped(int status) {
  status_ = status;
  Unregister(pid_);
  pid_ = -1;
}

absl::Status Child::ExitError() const {
  if (WIFEXITED(status_) && WEXITSTATUS(status_) == 0) return absl::OkStatus();
  std::string how = WIFEXITED(status_) ? absl::StrCat("exited with status ", WEXITSTATUS(status_))
                                       : absl::StrCat("was killed by signal ", WTERMSIG(status_));
  std::string tail = Tail(log_path_, 800);
  return absl::InternalError(absl::StrCat("`", what_, "` ", how, tail.empty() ? "" : ":\n  ", tail,
                                          "\n  (log: ", log_path_, ")"));
}

absl::StatusOr<std::string> Child::Finish() {
  std::string out;
  char buf[4096];
  while (out_fd_ >= 0) {
    ssize_t n = read(out_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  if (pid_ > 0) {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    Reaped(status);
  }
  absl::Status s = ExitError();
  if (!s.ok()) return s;
  return out;
}

bool Child::Exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
  Reaped(status);
  return true;
}

absl::Status Child::Stop(std::chrono::milliseconds grace) {
  if (pid_ > 0) kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (!Exited() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    Reaped(status);
  }
  return ExitError();
}

absl::StatusOr<std::string> Run(const std::vector<std::string>& argv, const std::string& log_path) {
  absl::StatusOr<Child> child = Child::Start(argv, log_path);
  if (!child.ok()) return child.status();
  return child->Finish();
}

int Interrupted() { return g_signal.load(); }

void InstallCleanupHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

}  // namespace custody::bench
