// The low-level SHA256_CTX API is deprecated in OpenSSL 3 but is the only one
// whose state can be saved, which resumable uploads need (EVP contexts cannot
// be serialized). It runs the same SHA-NI/AVX2 code as EVP.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "common/digest.h"

#include <openssl/sha.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace custody {
namespace {
constexpr absl::string_view kPrefix = "sha256:";
constexpr uint32_t kStateMagic = 0x53323536;  // "S256"
}  // namespace

absl::StatusOr<Digest> Digest::Parse(absl::string_view text) {
  if (!absl::StartsWith(text, kPrefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed id \"", text.substr(0, 80), "\": must start with \"sha256:\""));
  }
  absl::string_view hex = text.substr(kPrefix.size());
  if (hex.size() != 2 * kSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed id: expected 64 hex digits after \"sha256:\", got ", hex.size(), " characters"));
  }
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed id: '", std::string(1, c), "' is not a hex digit"));
    }
  }
  std::string raw = absl::HexStringToBytes(hex);
  Digest d;
  std::memcpy(d.bytes_.data(), raw.data(), kSize);
  return d;
}

absl::StatusOr<Digest> Digest::FromRaw(absl::string_view raw) {
  if (raw.size() != kSize) {
    return absl::InvalidArgumentError(absl::StrCat("a raw SHA-256 has 32 bytes, got ", raw.size()));
  }
  Digest d;
  std::memcpy(d.bytes_.data(), raw.data(), kSize);
  return d;
}

Digest Digest::Of(absl::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

absl::StatusOr<Digest> Digest::OfFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return absl::NotFoundError(absl::StrCat("no file ", path));
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  Sha256 h;
  std::string buf(1 << 20, '\0');
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.Update(buf.data(), static_cast<size_t>(f.gcount()));
  }
  if (f.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return h.Finish();
}

std::string Digest::Hex() const { return absl::BytesToHexString(Raw()); }
std::string Digest::ToString() const { return absl::StrCat(kPrefix, Hex()); }

static_assert(sizeof(SHA256_CTX) <= 112, "Sha256::ctx_ is too small for SHA256_CTX");

namespace {
SHA256_CTX* Ctx(unsigned char* p) { return reinterpret_cast<SHA256_CTX*>(p); }
const SHA256_CTX* Ctx(const unsigned char* p) { return reinterpret_cast<const SHA256_CTX*>(p); }
}  // namespace

Sha256::Sha256() { SHA256_Init(Ctx(ctx_)); }

void Sha256::Update(const void* data, size_t n) { SHA256_Update(Ctx(ctx_), data, n); }

Digest Sha256::Finish() {
  Digest d;
  SHA256_Final(d.mutable_data(), Ctx(ctx_));
  return d;
}

std::string Sha256::SaveState() const {
  std::string out(sizeof(kStateMagic) + sizeof(SHA256_CTX), '\0');
  std::memcpy(out.data(), &kStateMagic, sizeof(kStateMagic));
  std::memcpy(out.data() + sizeof(kStateMagic), Ctx(ctx_), sizeof(SHA256_CTX));
  return out;
}

absl::StatusOr<Sha256> Sha256::RestoreState(absl::string_view state) {
  uint32_t magic = 0;
  if (state.size() != sizeof(kStateMagic) + sizeof(SHA256_CTX)) {
    return absl::DataLossError("saved SHA-256 state has the wrong size");
  }
  std::memcpy(&magic, state.data(), sizeof(magic));
  if (magic != kStateMagic) {
    return absl::DataLossError("saved SHA-256 state has a bad magic number");
  }
  Sha256 h;
  std::memcpy(Ctx(h.ctx_), state.data() + sizeof(kStateMagic), sizeof(SHA256_CTX));
  return h;
}

}  // namespace custody
