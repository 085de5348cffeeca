#include "common/metrics_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace custody {

namespace {

// A TLS server context with `files`' certificate that demands a client
// certificate chaining to `files.ca_pem`.
absl::StatusOr<std::shared_ptr<SSL_CTX>> ServerContext(const TlsFiles& files) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  auto fail = [](const char* what) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics TLS: ", what, ": ", ERR_reason_error_string(ERR_get_error())));
  };
  if (!ctx) return fail("no context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  std::unique_ptr<BIO, decltype(&BIO_free)> cert(
      BIO_new_mem_buf(files.cert_pem.data(), static_cast<int>(files.cert_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(
      PEM_read_bio_X509(cert.get(), nullptr, nullptr, nullptr), X509_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key(
      BIO_new_mem_buf(files.key_pem.data(), static_cast<int>(files.key_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> k(
      PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!x || !k || SSL_CTX_use_certificate(ctx.get(), x.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), k.get()) != 1) {
    return fail("the node's certificate or key");
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> ca(
      BIO_new_mem_buf(files.ca_pem.data(), static_cast<int>(files.ca_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cax(
      PEM_read_bio_X509(ca.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cax || X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), cax.get()) != 1) {
    return fail("the cluster CA");
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return ctx;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& address, std::function<std::string()> render, const TlsFiles* tls) {
  size_t colon = address.rfind(':');
  int port = 0;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535 ||
      inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", address, "\" is not IPv4 host:port"));
  }
  sa.sin_port = htons(static_cast<uint16_t>(port));
  std::unique_ptr<MetricsServer> s(new MetricsServer);
  s->render_ = std::move(render);
  if (tls != nullptr) {
    absl::StatusOr<std::shared_ptr<SSL_CTX>> ctx = ServerContext(*tls);
    if (!ctx.ok()) return ctx.status();
    s->tls_ = *std::move(ctx);
  }
  s->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      listen(s->listen_fd_, 16) != 0) {
    return ErrnoStatus(errno, absl::StrCat("metrics endpoint on ", address));
  }
  socklen_t len = sizeof(sa);
  getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  s->port_ = ntohs(sa.sin_port);
  if (pipe2(s->stop_pipe_, O_CLOEXEC) != 0) return ErrnoStatus(errno, "metrics stop pipe");
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

MetricsServer::~MetricsServer() {
  if (thread_.joinable()) {
    (void)!write(stop_pipe_[1], "x", 1);
    thread_.join();
  }
  for (int fd : {listen_fd_, stop_pipe_[0], stop_pipe_[1]}) {
    if (fd >= 0) close(fd);
  }
}

void MetricsServer::Loop() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) return;
    if (p[1].revents) return;
    if (!(p[0].revents & POLLIN)) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Serve(fd);
    close(fd);
  }
}

// Reads the request head (2 s at most) and answers it, over TLS when the
// server has a certificate.
void MetricsServer::Serve(int fd) {
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(nullptr, SSL_free);
  if (tls_) {
    ssl.reset(SSL_new(tls_.get()));
    if (!ssl || SSL_set_fd(ssl.get(), fd) != 1 || SSL_accept(ssl.get()) != 1) return;
  }
  auto receive = [&](char* buf, int size) {
    return ssl ? SSL_read(ssl.get(), buf, size) : static_cast<int>(read(fd, buf, size));
  };
  std::string req;
  char buf[2048];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
    int n = receive(buf, sizeof(buf));
    if (n <= 0) return;
    req.append(buf, static_cast<size_t>(n));
  }
  Answer(req, [&](const std::string& out) {
    for (size_t done = 0; done < out.size();) {
      int left = static_cast<int>(out.size() - done);
      int n = ssl ? SSL_write(ssl.get(), out.data() + done, left)
                  : static_cast<int>(write(fd, out.data() + done, left));
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    if (ssl) SSL_shutdown(ssl.get());
    return true;
  });
}

void MetricsServer::Answer(const std::string& req,
                           const std::function<bool(const std::string&)>& send) {
  bool ok = absl::StartsWith(req, "GET /metrics ") || absl::StartsWith(req, "GET /metrics?");
  std::string body = ok ? render_() : "not found: try /metrics\n";
  std::string head = absl::StrCat(ok ? "HTTP/1.1 200 OK" : "HTTP/1.1 404 Not Found",
                                  "\r\nContent-Type: text/plain; version=0.0.4\r\n"
                                  "Content-Length: ",
                                  body.size(), "\r\nConnection: close\r\n\r\n");
  send(head + body);
}

}  // namespace custody
