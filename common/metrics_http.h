// The HTTP endpoint for Prometheus: GET /metrics answers with the text
// exposition format produced by a callback (Debian's cpp-httplib). Plain
// HTTP is for loopback; elsewhere it is served over TLS and only to clients
// with a certificate of the cluster CA (custodyd --metrics-listen,
// doc/security.md). IPv4 and IPv6 ("[::1]:9100").
#ifndef CUSTODY_COMMON_METRICS_HTTP_H_
#define CUSTODY_COMMON_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/tls.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace custody {

class MetricsServer {
 public:
  // Listens on "host:port" (port 0 picks one) and serves `render()` at
  // /metrics. `render` may be called on several threads at once.
  // With `tls`, every connection is TLS with this certificate and must
  // present a client certificate that chains to `tls->ca_pem`.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address,
                                                              std::function<std::string()> render,
                                                              const TlsFiles* tls = nullptr);
  ~MetricsServer();  // stops serving and closes the socket

  int port() const { return port_; }

 private:
  MetricsServer() = default;

  int port_ = 0;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
};

}  // namespace custody

#endif  // CUSTODY_COMMON_METRICS_HTTP_H_
