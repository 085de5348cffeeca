#include "server/storage/object_store.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace custody {

absl::Status ObjectNotFound(const Digest& id) {
  return absl::NotFoundError(absl::StrCat("no object ", id.ToString()));
}

absl::StatusOr<v1::ObjectManifest> ObjectStore::GetManifest(const Digest& id) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, index_->GetObject(id));
  if (!raw) return ObjectNotFound(id);
  v1::ObjectManifest m;
  if (!m.ParseFromString(*raw)) {
    return absl::DataLossError(absl::StrCat("manifest of ", id.ToString(), " does not parse"));
  }
  return m;
}

absl::StatusOr<v1::ObjectInfo> ObjectStore::Stat(const Digest& id) {
  ASSIGN_OR_RETURN(v1::ObjectManifest m, GetManifest(id));
  return ToInfo(m);
}

absl::StatusOr<v1::ListResponse> ObjectStore::List(const std::string& page_token,
                                                   uint32_t page_size) {
  if (page_size == 0 || page_size > 1000) page_size = 1000;
  std::unique_ptr<rocksdb::Iterator> it(
      index_->db()->NewIterator(rocksdb::ReadOptions(), index_->objects()));
  if (page_token.empty()) {
    it->SeekToFirst();
  } else {
    ASSIGN_OR_RETURN(Digest after, Digest::Parse(page_token));
    it->Seek(KeyOf(after));
    if (it->Valid() && it->key() == KeyOf(after)) it->Next();
  }
  v1::ListResponse resp;
  for (; it->Valid() && resp.objects_size() < static_cast<int>(page_size); it->Next()) {
    v1::ObjectManifest m;
    if (!m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a stored manifest does not parse");
    }
    *resp.add_objects() = ToInfo(m);
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "listing objects"));
  if (it->Valid() && resp.objects_size() > 0) {
    resp.set_next_page_token(resp.objects(resp.objects_size() - 1).id());
  }
  return resp;
}

uint64_t ObjectStore::ApproximateCount() {
  uint64_t n = 0;
  index_->db()->GetIntProperty(index_->objects(), "rocksdb.estimate-num-keys", &n);
  return n;
}

v1::ObjectInfo ObjectStore::ToInfo(const v1::ObjectManifest& m) {
  v1::ObjectInfo info;
  absl::StatusOr<Digest> d = Digest::FromRaw(m.sha256());
  info.set_id(d.ok() ? d->ToString() : "");
  info.set_size(m.size());
  info.set_file_name(m.file_name());
  info.set_media_type(m.media_type());
  info.mutable_metadata()->insert(m.metadata().begin(), m.metadata().end());
  info.set_stored_at_unix_nanos(m.stored_at_unix_nanos());
  info.set_chunk_size(m.chunk_size());
  info.set_chunk_count(static_cast<uint32_t>(m.chunks_size()));
  return info;
}

}  // namespace custody
