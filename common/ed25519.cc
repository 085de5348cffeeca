#include "common/ed25519.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace custody {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::string RawPublic(EVP_PKEY* k) {
  std::string raw(32, '\0');
  size_t len = raw.size();
  EVP_PKEY_get_raw_public_key(k, reinterpret_cast<unsigned char*>(raw.data()), &len);
  raw.resize(len);
  return raw;
}

}  // namespace

absl::StatusOr<Ed25519Key> Ed25519Key::Generate() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (raw == nullptr) return absl::InternalError("Ed25519 key generation failed");
  Ed25519Key k;
  k.pkey_ = std::shared_ptr<void>(raw, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
  k.public_raw_ = RawPublic(raw);
  return k;
}

absl::StatusOr<Ed25519Key> Ed25519Key::LoadOrCreate(const std::string& path) {
  absl::StatusOr<bool> exists = PathExists(path);
  if (!exists.ok()) return exists.status();
  if (!*exists) {
    absl::StatusOr<Ed25519Key> k = Generate();
    if (!k.ok()) return k.status();
    BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), static_cast<EVP_PKEY*>(k->pkey_.get()), nullptr, nullptr, 0,
                             nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    absl::Status s = WriteNewFile(path, std::string(data, static_cast<size_t>(n)), 0600);
    if (s.ok()) s = WriteNewFile(path + ".pub", k->PublicPem(), 0644);
    if (!s.ok()) return s;
    return k;
  }
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) return absl::InternalError(absl::StrCat("opening ", path));
  EVP_PKEY* raw = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  fclose(f);
  if (raw == nullptr || EVP_PKEY_get_id(raw) != EVP_PKEY_ED25519) {
    if (raw) EVP_PKEY_free(raw);
    return absl::DataLossError(absl::StrCat(path, " is not an Ed25519 private key"));
  }
  Ed25519Key k;
  k.pkey_ = std::shared_ptr<void>(raw, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
  k.public_raw_ = RawPublic(raw);
  return k;
}

std::string Ed25519Key::PublicPem() const { return Ed25519PublicToPem(public_raw_); }

absl::StatusOr<std::string> Ed25519Key::Sign(absl::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string sig(64, '\0');
  size_t len = sig.size();
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                         static_cast<EVP_PKEY*>(pkey_.get())) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return absl::InternalError("Ed25519 signing failed");
  }
  return sig;
}

absl::Status Ed25519Verify(absl::string_view public_raw, absl::string_view message,
                           absl::string_view signature) {
  PkeyPtr k(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const unsigned char*>(public_raw.data()),
                                        public_raw.size()),
            &EVP_PKEY_free);
  if (!k) return absl::DataLossError("not an Ed25519 public key");
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1) {
    return absl::DataLossError("Ed25519 signature does not verify");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Ed25519PublicFromPem(absl::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  PkeyPtr k(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!k || EVP_PKEY_get_id(k.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("not a PEM Ed25519 public key");
  }
  return RawPublic(k.get());
}

std::string Ed25519PublicToPem(absl::string_view public_raw) {
  PkeyPtr k(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const unsigned char*>(public_raw.data()),
                                        public_raw.size()),
            &EVP_PKEY_free);
  if (!k) return "";
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), k.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace custody
