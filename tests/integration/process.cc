#include "tests/integration/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "client/client.h"
#include "common/digest.h"
#include "tests/test_util.h"

extern char** environ;

namespace custody::testing {

Subprocess::Subprocess(std::vector<std::string> argv, const std::string& out_path,
                       const std::string& err_path, std::vector<std::string> extra_env) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (auto& e : extra_env) env_store.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);
  if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), env.data()) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    Wait();
  }
}

bool Subprocess::running() {
  if (pid_ <= 0 || reaped_) return false;
  int st;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = st;
    return false;
  }
  return true;
}

void Subprocess::Kill(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

int Subprocess::Wait() {
  if (pid_ <= 0) return -1;
  if (!reaped_) {
    waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

CliResult RunCli(const std::vector<std::string>& args, std::vector<std::string> extra_env) {
  char out_tmpl[] = "/var/tmp/custody-cli-out-XXXXXX";
  char err_tmpl[] = "/var/tmp/custody-cli-err-XXXXXX";
  close(mkstemp(out_tmpl));
  close(mkstemp(err_tmpl));
  std::vector<std::string> argv = {CUSTODY_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  CliResult r;
  {
    Subprocess p(argv, out_tmpl, err_tmpl, std::move(extra_env));
    r.exit_code = p.Wait();
  }
  r.out = ReadFile(out_tmpl);
  r.err = ReadFile(err_tmpl);
  unlink(out_tmpl);
  unlink(err_tmpl);
  return r;
}

NodeProcess::NodeProcess(std::string data_dir, std::vector<std::string> extra_args, int port)
    : data_dir_(std::move(data_dir)),
      log_(data_dir_ + ".log"),
      port_file_(data_dir_ + ".port"),
      extra_args_(std::move(extra_args)),
      port_(port) {}

NodeProcess::~NodeProcess() { Kill(SIGKILL); }

bool NodeProcess::Start() {
  unlink(port_file_.c_str());
  // A restarted node comes back at the same address, as a real one does.
  std::vector<std::string> argv = {
      CUSTODYD_PATH, "--data",  data_dir_, "--listen", "127.0.0.1:" + std::to_string(port_),
      "--port-file", port_file_};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  if (std::find(argv.begin(), argv.end(), "--tls") == argv.end()) {
    argv.push_back("--insecure-loopback");  // plaintext on 127.0.0.1
  }
  proc_ = std::make_unique<Subprocess>(argv, log_, log_);
  for (int i = 0; i < 600; ++i) {
    if (!proc_->running()) return false;
    std::string port = ReadFile(port_file_);
    if (!port.empty()) {
      port_ = std::stoi(port);
      if (CustodyClient::Connect(address())->NodeStatus().ok()) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int NodeProcess::Kill(int sig) {
  if (!proc_) return -1;
  proc_->Kill(sig);
  int code = proc_->Wait();
  proc_.reset();
  return code;
}

std::string NodeProcess::Log() const { return ReadFile(log_); }

std::string WriteRandomFile(const std::string& path, uint64_t size, uint64_t seed) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  Sha256 h;
  uint64_t done = 0;
  while (done < size) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(1 << 20, size - done));
    std::string block = RandomBytes(n, seed * 1000003 + done);
    h.Update(block);
    f.write(block.data(), static_cast<std::streamsize>(n));
    done += n;
  }
  return h.Finish().ToString();
}

std::string HashFile(const std::string& path) {
  absl::StatusOr<Digest> d = Digest::OfFile(path);
  return d.ok() ? d->ToString() : std::string(d.status().message());
}

}  // namespace custody::testing

namespace custody::testing {

namespace {

int AnyFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  close(fd);
  return ntohs(sa.sin_port);
}

}  // namespace

// The kernel may hand out a port just closed again: never the same one twice
// in this process, so that a map of several nodes gets distinct ports.
int FreePort() {
  static absl::Mutex mu;
  static std::set<int>* given = new std::set<int>();
  absl::MutexLock l(&mu);
  int port = AnyFreePort();
  for (int tries = 0; given->count(port) != 0 && tries < 1000; ++tries) port = AnyFreePort();
  given->insert(port);
  return port;
}

int64_t MetricValue(int port, const std::string& name) {
  const std::string m = "\n" + HttpGet(port, "/metrics");
  const size_t at = m.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stoll(m.substr(at + name.size() + 2));
}

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(port));
  std::string resp;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) {
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    // MSG_NOSIGNAL: a server that hangs up (a TLS port refusing plain HTTP)
    // is an answer, not a SIGPIPE for the test.
    if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) resp.append(buf, n);
    }
  }
  close(fd);
  size_t body = resp.find("\r\n\r\n");
  return body == std::string::npos ? "" : resp.substr(body + 4);
}

int64_t FindInFile(const std::string& path, const std::string& needle) {
  std::string hay = ReadFile(path);
  size_t at = hay.find(needle);
  return at == std::string::npos ? -1 : static_cast<int64_t>(at);
}

}  // namespace custody::testing
