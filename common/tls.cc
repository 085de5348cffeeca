#include "common/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/rand.h>

#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/certificates.h"
#include "common/files.h"
#include "common/random.h"

namespace custody {

absl::StatusOr<TlsFiles> TlsFiles::Load(const std::string& dir) {
  TlsFiles f;
  absl::StatusOr<std::string> ca = ReadFileToString(dir + "/" + kCaCertFile);
  if (!ca.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS credentials folder ", dir, " has no ", kCaCertFile,
                     " (make one with custody ca issue --node ID|--user NAME)"));
  }
  f.ca_pem = *ca;
  std::error_code ec;
  bool cert = std::filesystem::exists(dir + "/" + kCertFile, ec);
  bool key = std::filesystem::exists(dir + "/" + kKeyFile, ec);
  if (cert != key) {
    return absl::InvalidArgumentError(absl::StrCat(dir, " has ", cert ? kCertFile : kKeyFile,
                                                   " without ", cert ? kKeyFile : kCertFile));
  }
  if (cert) {
    absl::StatusOr<std::string> c = ReadFileToString(dir + "/" + kCertFile);
    absl::StatusOr<std::string> k = ReadPrivateFile(dir + "/" + kKeyFile);
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
  absl::StatusOr<std::string> hex = RandomHex(32, "a token");
  if (!hex.ok()) return hex.status();
  return "cust_" + *hex;
}

bool IsLoopbackAddress(const std::string& address) {
  std::string host = address;
  if (absl::StartsWith(host, "[")) {
    size_t end = host.find(']');
    if (end == std::string::npos) return false;
    host = host.substr(1, end - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    host = host.substr(0, host.find(':'));
  }
  // Numeric only: a name could resolve anywhere ("127.0.0.1.example.org").
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

}  // namespace custody
