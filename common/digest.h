// SHA-256 digests as custody names them: "sha256:<64 lowercase hex>".
#ifndef CUSTODY_COMMON_DIGEST_H_
#define CUSTODY_COMMON_DIGEST_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace custody {

// A 32-byte SHA-256 value. Value type; cheap to copy.
class Digest {
 public:
  static constexpr size_t kSize = 32;

  Digest() { bytes_.fill(0); }

  // Parses "sha256:<64 hex>" (hex case-insensitive). INVALID_ARGUMENT with a
  // message naming what is wrong otherwise.
  static absl::StatusOr<Digest> Parse(absl::string_view text);
  // From 32 raw bytes; INVALID_ARGUMENT on any other length.
  static absl::StatusOr<Digest> FromRaw(absl::string_view raw);
  // SHA-256 of `data` in one call.
  static Digest Of(absl::string_view data);
  // SHA-256 of a regular file's bytes, read in 1 MiB pieces. NOT_FOUND or
  // INVALID_ARGUMENT (not a regular file) naming the path.
  static absl::StatusOr<Digest> OfFile(const std::string& path);

  // "sha256:<64 lowercase hex>".
  std::string ToString() const;
  std::string Hex() const;
  absl::string_view Raw() const { return {reinterpret_cast<const char*>(bytes_.data()), kSize}; }
  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* mutable_data() { return bytes_.data(); }

  friend bool operator==(const Digest& a, const Digest& b) { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const Digest& a, const Digest& b) { return !(a == b); }
  friend bool operator<(const Digest& a, const Digest& b) { return a.bytes_ < b.bytes_; }
  template <typename H>
  friend H AbslHashValue(H h, const Digest& d) {
    return H::combine(std::move(h), d.Raw());
  }

 private:
  std::array<uint8_t, kSize> bytes_;
};

// Incremental SHA-256 whose state can be saved and restored, so a resumable
// upload can continue hashing after a restart. Not thread-safe.
class Sha256 {
 public:
  Sha256();
  Sha256(const Sha256& other) = default;
  Sha256& operator=(const Sha256& other) = default;

  void Update(const void* data, size_t n);
  void Update(absl::string_view s) { Update(s.data(), s.size()); }
  // The digest of everything so far. The hasher may not be used afterwards.
  Digest Finish();

  // Opaque bytes of the current state, valid for the same OpenSSL ABI.
  std::string SaveState() const;
  static absl::StatusOr<Sha256> RestoreState(absl::string_view state);

 private:
  // OpenSSL's SHA256_CTX (112 bytes), held inline: no allocation per hash.
  alignas(8) unsigned char ctx_[112];
};

// Each raw 32-byte digest of `raws` (any range of strings), in order; the
// error of the first that is not one.
template <typename Range>
absl::StatusOr<std::vector<Digest>> DigestsFromRaw(const Range& raws) {
  std::vector<Digest> out;
  for (const auto& raw : raws) {
    absl::StatusOr<Digest> d = Digest::FromRaw(raw);
    if (!d.ok()) return d.status();
    out.push_back(*d);
  }
  return out;
}

}  // namespace custody

#endif  // CUSTODY_COMMON_DIGEST_H_
