// SM3 (GB/T 32905-2016), the national hash standard that Chinese
// e-government and archival practice expects on evidence packages. custody's
// ids stay SHA-256 (common/digest.h); SM3 digests are shown and listed beside
// them (issue 30). OpenSSL 3's default provider computes it.
#ifndef CUSTODY_COMMON_SM3_H_
#define CUSTODY_COMMON_SM3_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace custody {

// Incremental SM3. Not thread-safe; one hasher per stream of bytes.
class Sm3 {
 public:
  static constexpr size_t kSize = 32;
  using Value = std::array<uint8_t, kSize>;

  Sm3();
  ~Sm3();
  Sm3(const Sm3&) = delete;
  Sm3& operator=(const Sm3&) = delete;

  void Update(absl::string_view data);
  // The digest of everything so far. The hasher may not be used afterwards.
  Value Finish();

  // SM3 of `data` in one call.
  static Value Of(absl::string_view data);
  // SM3 of a regular file's bytes, read in 1 MiB pieces; the error names the
  // path.
  static absl::StatusOr<Value> OfFile(const std::string& path);
  // "sm3:<64 lowercase hex>".
  static std::string ToString(const Value& v);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace custody

#endif  // CUSTODY_COMMON_SM3_H_
