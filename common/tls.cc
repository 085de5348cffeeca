#include "common/tls.h"

#include <openssl/rand.h>

#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/certificates.h"
#include "common/files.h"

namespace custody {

absl::StatusOr<TlsFiles> TlsFiles::Load(const std::string& dir) {
  TlsFiles f;
  absl::StatusOr<std::string> ca = ReadFileToString(dir + "/" + kCaCertFile);
  if (!ca.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS credentials folder ", dir, " has no ", kCaCertFile,
        " (make one with custody ca issue --node ID|--user NAME)"));
  }
  f.ca_pem = *ca;
  std::error_code ec;
  bool cert = std::filesystem::exists(dir + "/" + kCertFile, ec);
  bool key = std::filesystem::exists(dir + "/" + kKeyFile, ec);
  if (cert != key) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, " has ", cert ? kCertFile : kKeyFile, " without ",
                     cert ? kKeyFile : kCertFile));
  }
  if (cert) {
    absl::StatusOr<std::string> c = ReadFileToString(dir + "/" + kCertFile);
    absl::StatusOr<std::string> k = ReadFileToString(dir + "/" + kKeyFile);
    if (!c.ok()) return c.status();
    if (!k.ok()) return k.status();
    f.cert_pem = *c;
    f.key_pem = *k;
  }
  return f;
}

std::shared_ptr<grpc::ServerCredentials> TlsServerCredentials(const TlsFiles& files) {
  grpc::SslServerCredentialsOptions opts(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_root_certs = files.ca_pem;
  opts.pem_key_cert_pairs.push_back({files.key_pem, files.cert_pem});
  return grpc::SslServerCredentials(opts);
}

std::shared_ptr<grpc::ChannelCredentials> TlsChannelCredentials(const TlsFiles& files) {
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = files.ca_pem;
  opts.pem_private_key = files.key_pem;
  opts.pem_cert_chain = files.cert_pem;
  return grpc::SslCredentials(opts);
}

std::string PeerIdentity(const grpc::ServerContextBase& ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return "";
  std::vector<grpc::string_ref> cn = auth->FindPropertyValues("x509_common_name");
  if (cn.empty()) return "";
  return std::string(cn[0].data(), cn[0].size());
}

bool IsTls(const grpc::ServerContextBase& ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (!auth) return false;
  for (const grpc::string_ref& v : auth->FindPropertyValues("transport_security_type")) {
    if (std::string(v.data(), v.size()) == "ssl") return true;
  }
  return false;
}

absl::StatusOr<std::string> NewBearerToken() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    return absl::InternalError("no random bytes for a token (OpenSSL)");
  }
  return "cust_" + absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(raw), 32));
}

bool IsLoopbackAddress(const std::string& address) {
  std::string host = address;
  if (absl::StartsWith(host, "[")) {
    host = host.substr(1, host.find(']') - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    host = host.substr(0, host.find(':'));
  }
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

}  // namespace custody
