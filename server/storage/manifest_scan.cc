#include "server/storage/manifest_scan.h"

#include <memory>

#include "common/digest.h"
#include "common/status_macros.h"
#include "custody/v1/manifest.pb.h"
#include "server/storage/index.h"

namespace custody {

absl::StatusOr<std::map<std::string, std::set<std::string>>> ObjectsUsingChunks(
    Index& index, const std::set<std::string>& chunks) {
  std::map<std::string, std::set<std::string>> users;
  std::unique_ptr<rocksdb::Iterator> it(
      index.db()->NewIterator(rocksdb::ReadOptions(), index.objects()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    v1::ObjectManifest m;
    if (!m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a manifest in the index does not parse");
    }
    absl::StatusOr<Digest> id = Digest::FromRaw(m.sha256());
    if (!id.ok()) return absl::DataLossError("a manifest in the index names no object");
    for (const std::string& c : m.chunks()) {
      if (chunks.count(c) > 0) users[id->ToString()].insert(c);
    }
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "scanning manifests"));
  return users;
}

}  // namespace custody
