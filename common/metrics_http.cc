#include "common/metrics_http.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/openssl_ptr.h"

namespace custody {
namespace {

X509Ptr ReadCert(const std::string& pem) {
  BioPtr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
}

// An HTTPS server with `files`' certificate that demands a client
// certificate chaining to `files.ca_pem`.
absl::StatusOr<std::unique_ptr<httplib::Server>> TlsServer(const TlsFiles& files) {
  X509Ptr cert = ReadCert(files.cert_pem), ca = ReadCert(files.ca_pem);
  BioPtr kb(BIO_new_mem_buf(files.key_pem.data(), static_cast<int>(files.key_pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  if (!cert || !key || !ca) {
    return absl::InvalidArgumentError(
        "metrics TLS: the node's certificate, key or CA is unreadable");
  }
  X509_STORE* store = X509_STORE_new();  // owned by the server's context
  X509_STORE_add_cert(store, ca.get());
  auto s = std::make_unique<httplib::SSLServer>(cert.get(), key.get(), store);
  if (!s->is_valid()) return absl::InvalidArgumentError("metrics TLS: no server context");
  return s;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& address, std::function<std::string()> render, const TlsFiles* tls) {
  size_t colon = address.rfind(':');
  int port = -1;
  std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  absl::string_view h = host;
  const bool bracketed = absl::ConsumePrefix(&h, "[") && absl::ConsumeSuffix(&h, "]");
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535 || h.empty() || (!bracketed && h.find(':') != h.npos)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics address \"", address, "\" is not host:port (an IPv6 host in brackets)"));
  }
  std::unique_ptr<MetricsServer> s(new MetricsServer);
  if (tls != nullptr) {
    absl::StatusOr<std::unique_ptr<httplib::Server>> t = TlsServer(*tls);
    if (!t.ok()) return t.status();
    s->http_ = std::move(*t);
  } else {
    s->http_ = std::make_unique<httplib::Server>();
  }
  s->http_->Get("/metrics",
                [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
                  res.set_content(render(), "text/plain; version=0.0.4");
                });
  s->port_ = port == 0 ? s->http_->bind_to_any_port(std::string(h))
                       : (s->http_->bind_to_port(std::string(h), port) ? port : -1);
  if (s->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address, " for metrics"));
  }
  s->thread_ = std::thread([srv = s->http_.get()] { srv->listen_after_bind(); });
  return s;
}

MetricsServer::~MetricsServer() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace custody
