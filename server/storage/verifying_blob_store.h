// A decorator that hashes chunk bytes on every read and write.
#ifndef CUSTODY_SERVER_STORAGE_VERIFYING_BLOB_STORE_H_
#define CUSTODY_SERVER_STORAGE_VERIFYING_BLOB_STORE_H_

#include <functional>

#include "server/storage/blob_store.h"

namespace custody {

// Get returns DATA_LOSS (and never the bytes) when stored bytes do not hash
// to their name; Put refuses bytes that do not hash to `digest` with
// INVALID_ARGUMENT. Thread-safe if `base` is.
class VerifyingBlobStore : public BlobStore {
 public:
  // `on_corrupt`, if set, is called for each corrupt chunk found (metrics).
  explicit VerifyingBlobStore(BlobStore* base, std::function<void()> on_corrupt = nullptr)
      : base_(base), on_corrupt_(std::move(on_corrupt)) {}

  absl::StatusOr<std::string> Get(const Digest& digest) override;
  void Put(const Digest& digest, std::string data,
           absl::AnyInvocable<void(absl::Status) &&> done) override;
  absl::StatusOr<std::vector<Digest>> FindMissing(absl::Span<const Digest> digests) override {
    return base_->FindMissing(digests);
  }
  bool VerifiesReads() const override { return true; }

 private:
  BlobStore* base_;
  std::function<void()> on_corrupt_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_VERIFYING_BLOB_STORE_H_
