// Ed25519 keys and signatures (OpenSSL 3).
#ifndef CUSTODY_COMMON_ED25519_H_
#define CUSTODY_COMMON_ED25519_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace custody {

// A private key. Thread-safe for Sign (each call uses its own context).
class Ed25519Key {
 public:
  // Loads the PEM private key at `path`, or creates it (mode 0600) together
  // with `path`.pub, its PEM public key, if it does not exist.
  static absl::StatusOr<Ed25519Key> LoadOrCreate(const std::string& path);
  static absl::StatusOr<Ed25519Key> Generate();

  // The 32-byte raw public key.
  const std::string& public_raw() const { return public_raw_; }
  std::string PublicPem() const;
  // A 64-byte signature of `message`.
  absl::StatusOr<std::string> Sign(absl::string_view message) const;

 private:
  std::shared_ptr<void> pkey_;  // EVP_PKEY
  std::string public_raw_;
};

// OK if `signature` is `public_raw`'s Ed25519 signature of `message`;
// DATA_LOSS otherwise.
absl::Status Ed25519Verify(absl::string_view public_raw, absl::string_view message,
                           absl::string_view signature);
// The raw 32-byte key from a PEM public key ("-----BEGIN PUBLIC KEY-----").
absl::StatusOr<std::string> Ed25519PublicFromPem(absl::string_view pem);
std::string Ed25519PublicToPem(absl::string_view public_raw);

}  // namespace custody

#endif  // CUSTODY_COMMON_ED25519_H_
