#include "server/storage/chunk_sealer.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/log.h"
#include "common/random.h"
#include "common/status_macros.h"

namespace custody {

namespace {

constexpr size_t kIdAt = 4 + 8, kNonceAt = kIdAt + 32, kDataAt = kNonceAt + 12;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

std::string KeyId(const std::array<uint8_t, 32>& key) {
  Digest d = Digest::Of(absl::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  return std::string(d.Raw().substr(0, 8));
}

}  // namespace

absl::StatusOr<DataKey> DataKey::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadPrivateFile(path);
  if (!text.ok())
    return absl::Status(text.status().code(), absl::StrCat("data key: ", text.status().message()));
  std::string hex(absl::StripAsciiWhitespace(*text));
  if (hex.size() != 64 || !std::all_of(hex.begin(), hex.end(), absl::ascii_isxdigit)) {
    return absl::InvalidArgumentError(absl::StrCat("data key ", path, " is not 64 hex digits"));
  }
  DataKey k;
  std::string raw = absl::HexStringToBytes(hex);
  std::memcpy(k.bytes.data(), raw.data(), 32);
  k.id = KeyId(k.bytes);
  return k;
}

absl::Status DataKey::Generate(const std::string& path) {
  std::array<uint8_t, 32> key;
  RETURN_IF_ERROR(FillRandom(key.data(), key.size(), "a data key"));
  std::string hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  return WriteNewFile(path, hex + "\n", 0600);
}

ChunkSealer::ChunkSealer(DataKey current, std::vector<DataKey> old) : current_(current) {
  keys_[current.id] = current;
  for (const DataKey& k : old) keys_.emplace(k.id, k);
}

SealedParts ChunkSealer::Seal(const Digest& id, std::string plain) const {
  SealedParts out;
  out.head.resize(kDataAt);
  std::memcpy(out.head.data(), kMagic, 4);
  std::memcpy(out.head.data() + 4, current_.id.data(), 8);
  std::memcpy(out.head.data() + kIdAt, id.data(), 32);
  auto* nonce = reinterpret_cast<unsigned char*>(out.head.data() + kNonceAt);
  absl::Status random = FillRandom(nonce, 12, "a chunk's nonce");
  if (!random.ok()) {
    LOG(ERROR) << random << ": stopping rather than sealing with a repeated nonce";
    std::abort();
  }
  out.body = std::move(plain);
  out.tail.resize(16);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.body.data());
  EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, current_.bytes.data(), nonce);
  EVP_EncryptUpdate(ctx.get(), nullptr, &n, id.data(), 32);                   // AAD
  EVP_EncryptUpdate(ctx.get(), o, &n, o, static_cast<int>(out.body.size()));  // in place
  EVP_EncryptFinal_ex(ctx.get(), o + n, &n);
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, out.tail.data());
  return out;
}

absl::StatusOr<Digest> ChunkSealer::IdOf(absl::string_view sealed) {
  if (sealed.size() < kOverhead || std::memcmp(sealed.data(), kMagic, 4) != 0) {
    return absl::DataLossError("not a sealed chunk (bad magic or too short)");
  }
  return Digest::FromRaw(sealed.substr(kIdAt, 32));
}

absl::StatusOr<std::string> ChunkSealer::Open(const Digest& id, std::string sealed) const {
  absl::StatusOr<Digest> named = IdOf(sealed);
  if (!named.ok()) return named.status();
  if (*named != id) {
    return absl::DataLossError(
        absl::StrCat("sealed chunk names ", named->ToString(), ", not ", id.ToString()));
  }
  auto it = keys_.find(std::string(sealed.substr(4, 8)));
  if (it == keys_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("chunk ", id.ToString(), " is sealed under data key ",
                     absl::BytesToHexString(sealed.substr(4, 8)),
                     ", which this node was not given (--old-data-key)"));
  }
  const size_t len = sealed.size() - kOverhead;
  unsigned char tag[16];
  std::memcpy(tag, sealed.data() + kDataAt + len, 16);
  unsigned char nonce[12];
  std::memcpy(nonce, sealed.data() + kNonceAt, 12);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  auto* data = reinterpret_cast<unsigned char*>(sealed.data()) + kDataAt;
  EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, it->second.bytes.data(), nonce);
  EVP_DecryptUpdate(ctx.get(), nullptr, &n, id.data(), 32);
  EVP_DecryptUpdate(ctx.get(), data, &n, data, static_cast<int>(len));  // in place
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag);
  if (EVP_DecryptFinal_ex(ctx.get(), data + n, &n) != 1) {
    return absl::DataLossError(absl::StrCat(
        "chunk ", id.ToString(), " fails authentication: its sealed bytes were changed"));
  }
  sealed.resize(kDataAt + len);
  sealed.erase(0, kDataAt);
  return sealed;
}

}  // namespace custody
