#include "common/sm3.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace custody {

struct Sm3::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {
// SM3 is in OpenSSL 3's default provider; without it nothing here can work.
const EVP_MD* Sm3Md() {
  static const EVP_MD* md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SM3", nullptr);
    if (m == nullptr) std::abort();
    return m;
  }();
  return md;
}
}  // namespace

Sm3::Sm3() : ctx_(std::make_unique<Ctx>()) {
  if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md, Sm3Md(), nullptr) != 1) std::abort();
}

Sm3::~Sm3() = default;

void Sm3::Update(absl::string_view data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_->md, data.data(), data.size());
}

Sm3::Value Sm3::Finish() {
  Value v;
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_->md, v.data(), &n);
  return v;
}

Sm3::Value Sm3::Of(absl::string_view data) {
  Sm3 h;
  h.Update(data);
  return h.Finish();
}

absl::StatusOr<Sm3::Value> Sm3::OfFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  absl::Cleanup closer = [fd] { close(fd); };
  Sm3 h;
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::InternalError(absl::StrCat("reading ", path, ": ", std::strerror(errno)));
    }
    if (n == 0) break;
    h.Update(absl::string_view(buf.data(), static_cast<size_t>(n)));
  }
  return h.Finish();
}

std::string Sm3::ToString(const Value& v) {
  return absl::StrCat("sm3:", absl::BytesToHexString(absl::string_view(
                                  reinterpret_cast<const char*>(v.data()), v.size())));
}

}  // namespace custody
