#include "common/cert_signature.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace custody {

namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using CertPtr = std::unique_ptr<X509, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;
using MdPtr = std::unique_ptr<EVP_MD_CTX, Free>;

CertPtr ParseCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return CertPtr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::string Entry(X509_NAME* name, int i) {
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string SerialHex(X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn);
  std::string out = hex == nullptr ? "" : hex;
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

CertifiedIdentity IdentityOf(X509* cert) {
  CertifiedIdentity id;
  X509_NAME* name = X509_get_subject_name(cert);
  int cn = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (cn >= 0) id.name = Entry(name, cn);
  for (int i = -1; (i = X509_NAME_get_index_by_NID(name, NID_organizationalUnitName, i)) >= 0;) {
    std::string ou = Entry(name, i);
    if (ou.rfind("role:", 0) == 0) id.roles.push_back(ou.substr(5));
    if (ou.rfind("agency:", 0) == 0) id.agency = ou.substr(7);
    if (ou.rfind("clearance:", 0) == 0) id.clearance = ou.substr(10);
  }
  id.serial = SerialHex(cert);
  return id;
}

}  // namespace

absl::StatusOr<CertifiedIdentity> ReadIdentity(const std::string& cert_pem) {
  CertPtr cert = ParseCert(cert_pem);
  if (!cert) return absl::InvalidArgumentError("not a PEM certificate");
  return IdentityOf(cert.get());
}

absl::StatusOr<CertifiedIdentity> CheckCertificate(const std::string& cert_pem,
                                                   const std::string& ca_pem, absl::Time at) {
  CertPtr cert = ParseCert(cert_pem);
  if (!cert) return absl::PermissionDeniedError("the signer's certificate does not parse");
  CertPtr ca = ParseCert(ca_pem);
  if (!ca) return absl::InternalError("the cluster CA certificate does not parse");
  std::unique_ptr<X509_STORE, Free> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, Free> ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return absl::InternalError("setting up a certificate check failed (OpenSSL)");
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, absl::ToTimeT(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    return absl::PermissionDeniedError(
        absl::StrCat("the signer's certificate does not chain to the cluster CA at the time of "
                     "signing: ",
                     X509_verify_cert_error_string(err)));
  }
  return IdentityOf(cert.get());
}

absl::StatusOr<std::string> SignWithKey(const std::string& key_pem, absl::string_view message) {
  BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return absl::InvalidArgumentError("the private key does not parse");
  MdPtr md(EVP_MD_CTX_new());
  size_t len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return absl::InternalError("signing failed (OpenSSL)");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return absl::InternalError("signing failed (OpenSSL)");
  }
  sig.resize(len);
  return sig;
}

absl::Status VerifyWithCertificate(const std::string& cert_pem, absl::string_view message,
                                   absl::string_view signature) {
  CertPtr cert = ParseCert(cert_pem);
  if (!cert) return absl::PermissionDeniedError("the signer's certificate does not parse");
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  MdPtr md(EVP_MD_CTX_new());
  if (key == nullptr || !md ||
      EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return absl::InternalError("setting up a signature check failed (OpenSSL)");
  }
  int ok = EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size());
  if (ok != 1) {
    return absl::PermissionDeniedError("the signature does not match the signer's certificate");
  }
  return absl::OkStatus();
}

}  // namespace custody
