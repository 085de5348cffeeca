// A minimal HTTP endpoint for Prometheus: GET /metrics answers with the text
// exposition format produced by a callback. One thread; one request per
// connection. Plain HTTP is for loopback; elsewhere it is served over TLS
// and only to clients with a certificate of the cluster CA (custodyd
// --metrics-listen, doc/security.md).
#ifndef CUSTODY_COMMON_METRICS_HTTP_H_
#define CUSTODY_COMMON_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/tls.h"

struct ssl_ctx_st;

namespace custody {

class MetricsServer {
 public:
  // Listens on "host:port" (port 0 picks one) and serves `render()` at
  // /metrics. `render` is called on the server's thread.
  // With `tls`, every connection is TLS with this certificate and must
  // present a client certificate that chains to `tls->ca_pem`.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address,
                                                              std::function<std::string()> render,
                                                              const TlsFiles* tls = nullptr);
  ~MetricsServer();  // stops the thread and closes the socket

  int port() const { return port_; }

 private:
  MetricsServer() = default;
  void Loop();
  void Serve(int fd);
  void Answer(const std::string& request, const std::function<bool(const std::string&)>& send);

  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::function<std::string()> render_;
  std::shared_ptr<ssl_ctx_st> tls_;  // null: plain HTTP
  std::thread thread_;
};

}  // namespace custody

#endif  // CUSTODY_COMMON_METRICS_HTTP_H_
