#include "bench/bench_node.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace custody::bench {

namespace fs = std::filesystem;

std::string Beside(const std::string& name) {
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  if (fs::exists(dir / name)) return dir / name;
  return dir.parent_path() / name;
}

absl::Status MeasureOpensslSha256(const std::string& path, const std::string& id, int runs,
                                  const std::string& log, std::vector<double>* seconds) {
  const std::vector<std::string> argv = {"openssl", "dgst", "-sha256", path};
  for (int i = 0; i <= runs; ++i) {
    std::string out;
    ASSIGN_OR_RETURN(double secs, Timed([&]() -> absl::Status {
                       ASSIGN_OR_RETURN(out, Run(argv, log));
                       return absl::OkStatus();
                     }));
    size_t eq = out.rfind("= ");
    std::string got = eq == std::string::npos
                          ? ""
                          : absl::StrCat("sha256:", absl::StripAsciiWhitespace(out.substr(eq + 2)));
    if (got != id) {
      return absl::DataLossError(absl::StrCat("openssl says ", path, " hashes to \"", out,
                                              "\" but the bench computed ", id));
    }
    if (i > 0) seconds->push_back(secs);  // run 0 is the warm-up
  }
  return absl::OkStatus();
}

namespace {

absl::Status Dd(const std::string& path, uint64_t blocks, const std::string& log) {
  std::error_code ec;
  absl::Status s = Run({"dd", "if=/dev/zero", "of=" + path, "bs=4M", absl::StrCat("count=", blocks),
                        "oflag=direct,dsync"},
                       log)
                       .status();
  fs::remove(path, ec);
  return s;
}

}  // namespace

absl::Status MeasureDdDirect(const std::string& path, uint64_t blocks, int runs,
                             const std::string& log, std::vector<double>* seconds) {
  RETURN_IF_ERROR(Dd(path, std::min<uint64_t>(blocks, 16), log));  // warm-up
  for (int i = 0; i < runs; ++i) {
    ASSIGN_OR_RETURN(double secs, Timed([&] { return Dd(path, blocks, log); }));
    seconds->push_back(secs);
  }
  return absl::OkStatus();
}

namespace {
std::optional<int> ReadPort(const std::string& path) {
  std::ifstream in(path);
  int port = 0;
  if (in >> port && port > 0) return port;
  return std::nullopt;
}
}  // namespace

absl::StatusOr<Node> StartNode(const std::string& custodyd, const std::string& data_dir,
                               const std::string& port_file, const std::string& log,
                               const std::vector<std::string>& extra, bool keep_data) {
  std::error_code ec;
  if (!keep_data) fs::remove_all(data_dir, ec);
  fs::remove(port_file, ec);
  std::vector<std::string> argv{custodyd, "--data", data_dir, "--port-file", port_file};
  if (std::find(extra.begin(), extra.end(), "--tls") == extra.end()) {
    argv.push_back("--insecure-loopback");
  }
  if (extra.empty()) argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
  argv.insert(argv.end(), extra.begin(), extra.end());
  ASSIGN_OR_RETURN(Child child, Child::Start(argv, log));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<int> port = ReadPort(port_file)) {
      return Node{std::move(child), absl::StrCat("127.0.0.1:", *port), data_dir};
    }
    if (child.Exited()) {
      absl::Status s = child.Stop(std::chrono::seconds(0));
      return s.ok() ? absl::InternalError("custodyd exited before it wrote its port file") : s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError("custodyd wrote no port file within 30 s");
}

void WriteLocalClusterMap(const std::string& path) {
  std::string nodes;
  for (int i = 0; i < 3; ++i) {
    absl::StrAppend(&nodes, i ? "," : "", R"({"id": "n)", i + 1, R"(", "address": "127.0.0.1:)",
                    FreePort(), R"(", "zone": ")", i % 2 ? "b" : "a", "\"}");
  }
  std::ofstream(path) << R"({"version": 1, "replication_factor": 2, "nodes": [)" << nodes << "]}";
}

double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t end = stat.rfind(')');  // the command name may hold spaces
  if (end == std::string::npos) return 0;
  std::istringstream fields(stat.substr(end + 2));
  std::string f;
  double ticks = 0;
  for (int i = 0; i < 13 && fields >> f; ++i) {
    if (i == 11 || i == 12) ticks += std::stod(f);  // utime, stime (fields 14 and 15)
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace custody::bench
