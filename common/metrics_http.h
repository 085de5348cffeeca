// A minimal HTTP endpoint for Prometheus: GET /metrics answers with the text
// exposition format produced by a callback. One thread; one request per
// connection. For loopback or a trusted management network.
#ifndef CUSTODY_COMMON_METRICS_HTTP_H_
#define CUSTODY_COMMON_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace custody {

class MetricsServer {
 public:
  // Listens on "host:port" (port 0 picks one) and serves `render()` at
  // /metrics. `render` is called on the server's thread.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address,
                                                              std::function<std::string()> render);
  ~MetricsServer();  // stops the thread and closes the socket

  int port() const { return port_; }

 private:
  MetricsServer() = default;
  void Loop();
  void Serve(int fd);

  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::function<std::string()> render_;
  std::thread thread_;
};

}  // namespace custody

#endif  // CUSTODY_COMMON_METRICS_HTTP_H_
