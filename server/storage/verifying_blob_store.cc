#include "server/storage/verifying_blob_store.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace custody {

absl::StatusOr<std::string> VerifyingBlobStore::Get(const Digest& digest) {
  absl::StatusOr<std::string> data = base_->Get(digest);
  if (!data.ok()) return data;
  Digest got = Digest::Of(*data);
  if (got != digest) {
    LOG(ERROR) << "corrupt chunk: " << digest.ToString() << " reads back as " << got.ToString();
    if (on_corrupt_) on_corrupt_();
    return absl::DataLossError(absl::StrCat("chunk ", digest.ToString(),
                                            " is corrupt on disk (its bytes hash to ",
                                            got.ToString(), ")"));
  }
  return data;
}

void VerifyingBlobStore::Put(const Digest& digest, std::string data,
                             absl::AnyInvocable<void(absl::Status) &&> done) {
  Digest got = Digest::Of(data);
  if (got != digest) {
    std::move(done)(absl::InvalidArgumentError(
        absl::StrCat("chunk named ", digest.ToString(), " hashes to ", got.ToString())));
    return;
  }
  base_->Put(digest, std::move(data), std::move(done));
}

}  // namespace custody
