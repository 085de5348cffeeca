#include "common/certificates.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/files.h"
#include "common/random.h"
#include "common/status_macros.h"

namespace custody {

namespace {

namespace fs = std::filesystem;

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using CertPtr = std::unique_ptr<X509, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;

absl::Status OpensslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, " failed (OpenSSL)"));
}

bool ValidName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return BioString(bio.get());
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return BioString(bio.get());
}

absl::Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return OpensslError(absl::StrCat("certificate extension ", value));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? absl::OkStatus() : OpensslError("adding a certificate extension");
}

void AddName(X509* cert, const char* field, const std::string& value) {
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), field, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
}

// A certificate for `key` named `cn`, not yet signed or extended.
absl::StatusOr<CertPtr> NewCert(EVP_PKEY* key, const std::string& cn, X509* issuer, int days) {
  CertPtr cert(X509_new());
  unsigned char serial[16];
  RETURN_IF_ERROR(FillRandom(serial, sizeof(serial), "a certificate serial"));
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_set_version(cert.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("custody"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  return cert;
}

absl::Status WriteKeyAndCert(const std::string& dir, const std::string& key_file, EVP_PKEY* key,
                             const std::string& cert_file, X509* cert) {
  RETURN_IF_ERROR(WriteNewFile(dir + "/" + key_file, KeyPem(key), 0600));
  return WriteNewFile(dir + "/" + cert_file, CertPem(cert), 0644);
}

absl::Status MakeEmptyDir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return absl::AlreadyExistsError(
        absl::StrCat(dir, " exists and is not empty: nothing is overwritten"));
  }
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("creating ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

std::string IdentityOf(const CertificateRequest& r) {
  return absl::StrCat(r.node ? "node:" : r.console ? "console:" : "user:", r.name);
}

absl::Status CreateCa(const std::string& dir, const std::string& name, int days) {
  if (!ValidName(name)) return absl::InvalidArgumentError("a CA name is 1-64 of [A-Za-z0-9._-]");
  RETURN_IF_ERROR(MakeEmptyDir(dir));
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpensslError("generating the CA key");
  ASSIGN_OR_RETURN(CertPtr cert,
                   NewCert(key.get(), absl::StrCat("custody CA ", name), nullptr, days));
  RETURN_IF_ERROR(AddExt(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  RETURN_IF_ERROR(AddExt(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  RETURN_IF_ERROR(AddExt(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) return OpensslError("signing the CA");
  return WriteKeyAndCert(dir, kCaKeyFile, key.get(), kCaCertFile, cert.get());
}

absl::Status IssueCertificate(const std::string& ca_dir, const CertificateRequest& r,
                              const std::string& out_dir) {
  if (!ValidName(r.name)) {
    return absl::InvalidArgumentError("a node id or user name is 1-64 of [A-Za-z0-9._-]");
  }
  if ((r.node || r.console) && r.hosts.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", r.node ? "node" : "console",
                     " certificate needs --host (its address's host name or IP)"));
  }
  ASSIGN_OR_RETURN(std::string ca_key_pem, ReadPrivateFile(ca_dir + "/" + kCaKeyFile));
  ASSIGN_OR_RETURN(std::string ca_pem, ReadFileToString(ca_dir + "/" + kCaCertFile));
  BioPtr kb(BIO_new_mem_buf(ca_key_pem.data(), static_cast<int>(ca_key_pem.size())));
  KeyPtr ca_key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  BioPtr cb(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  CertPtr ca(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  if (!ca_key || !ca)
    return absl::InvalidArgumentError(absl::StrCat(ca_dir, " holds no readable CA"));
  RETURN_IF_ERROR(MakeEmptyDir(out_dir));
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpensslError("generating a key");
  ASSIGN_OR_RETURN(CertPtr cert, NewCert(key.get(), IdentityOf(r), ca.get(), r.days));
  for (const std::string& role : r.roles) AddName(cert.get(), "OU", "role:" + role);
  if (!r.agency.empty()) AddName(cert.get(), "OU", "agency:" + r.agency);
  if (!r.clearance.empty()) AddName(cert.get(), "OU", "clearance:" + r.clearance);
  std::vector<std::string> san;
  for (const std::string& h : r.hosts) {
    unsigned char buf[16];
    bool ip = inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
    san.push_back(absl::StrCat(ip ? "IP:" : "DNS:", h));
  }
  RETURN_IF_ERROR(AddExt(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExt(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature"));
  RETURN_IF_ERROR(AddExt(cert.get(), ca.get(), NID_ext_key_usage,
                         r.node || r.console ? "serverAuth,clientAuth" : "clientAuth"));
  if (!san.empty()) {
    RETURN_IF_ERROR(AddExt(cert.get(), ca.get(), NID_subject_alt_name, absl::StrJoin(san, ",")));
  }
  RETURN_IF_ERROR(AddExt(cert.get(), ca.get(), NID_authority_key_identifier, "keyid"));
  if (!X509_sign(cert.get(), ca_key.get(), EVP_sha256())) return OpensslError("signing");
  RETURN_IF_ERROR(WriteNewFile(out_dir + "/" + kCaCertFile, ca_pem, 0644));
  return WriteKeyAndCert(out_dir, kKeyFile, key.get(), kCertFile, cert.get());
}

}  // namespace custody
