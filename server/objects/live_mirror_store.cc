#include "server/objects/live_mirror_store.h"

#include <functional>
#include <memory>

#include "absl/base/internal/endian.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace custody {

std::string LiveMirrorKey(const std::string& live_id) { return live_id + '\7'; }

std::string LiveMirrorTailKey(const std::string& live_id, uint64_t offset) {
  char be[8];
  absl::big_endian::Store64(be, offset);
  return live_id + '\10' + std::string(be, sizeof(be));
}

namespace {

// The tail pieces of a mirror, in order: their offsets and bytes.
absl::Status ForEachPiece(Index* index, const std::string& live_id,
                          const std::function<void(uint64_t, rocksdb::Slice)>& fn) {
  const std::string begin = live_id + '\10', end = live_id + '\11';
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(index->db()->NewIterator(ro, index->uploads()));
  for (it->Seek(begin); it->Valid(); it->Next()) {
    fn(absl::big_endian::Load64(it->key().data() + begin.size()), it->value());
  }
  return FromRocksStatus(it->status(), "reading a live mirror's tail");
}

}  // namespace

absl::Mutex* LiveMirrorStore::LockOf(const std::string& live_id) {
  return &locks_[std::hash<std::string>()(live_id) % locks_.size()];
}

absl::StatusOr<LiveMirrorStore::Copy> LiveMirrorStore::LoadLocked(const std::string& live_id) {
  std::string v;
  rocksdb::Status s =
      index_->db()->Get(rocksdb::ReadOptions(), index_->uploads(), LiveMirrorKey(live_id), &v);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("no mirror of ", live_id));
  RETURN_IF_ERROR(FromRocksStatus(s, "reading a live mirror"));
  Copy c;
  if (!c.rec.ParseFromString(v)) return absl::DataLossError("a live mirror does not parse");
  absl::Status order = absl::OkStatus();
  RETURN_IF_ERROR(ForEachPiece(index_, live_id, [&](uint64_t at, rocksdb::Slice bytes) {
    if (at != c.rec.tail_offset() + c.tail.size()) {
      order = absl::DataLossError(absl::StrCat("the mirror of ", live_id, " has a piece at ", at,
                                               " that does not follow the bytes before it"));
    }
    c.tail.append(bytes.data(), bytes.size());
  }));
  RETURN_IF_ERROR(order);
  const bool ended = c.rec.info().state() != "recording";  // kept to answer a late owner
  if (!ended && c.rec.tail_offset() + c.tail.size() != c.rec.info().held()) {
    return absl::DataLossError(absl::StrCat("the mirror of ", live_id, " holds ",
                                            c.rec.info().held(), " bytes but its tail ends at ",
                                            c.rec.tail_offset() + c.tail.size()));
  }
  return c;
}

absl::StatusOr<LiveMirrorStore::Copy> LiveMirrorStore::Load(const std::string& live_id) {
  absl::MutexLock l(LockOf(live_id));
  return LoadLocked(live_id);
}

absl::Status ForEachLiveRecord(Index* index, char marker,
                               const std::function<void(const internal::v1::LiveRecord&)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(
      index->db()->NewIterator(rocksdb::ReadOptions(), index->uploads()));
  for (it->Seek("live-"); it->Valid() && it->key().starts_with("live-"); it->Next()) {
    // A record's key is the id (no control byte) and the marker; a tail
    // piece's holds another control byte and its offset.
    const rocksdb::Slice k = it->key();
    size_t end = 0;
    while (end < k.size() && static_cast<unsigned char>(k[end]) >= 0x20) ++end;
    if (end + 1 != k.size() || k[end] != marker) continue;
    internal::v1::LiveRecord rec;
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a live upload's record does not parse");
    }
    fn(rec);
  }
  return FromRocksStatus(it->status(), "listing live uploads");
}

absl::Status LiveMirrorStore::ForEach(
    const std::function<void(const internal::v1::LiveRecord&)>& fn) {
  return ForEachLiveRecord(index_, '\7', fn);
}

absl::StatusOr<std::vector<std::string>> LiveMirrorStore::Keys(const std::string& live_id) {
  std::vector<std::string> keys = {LiveMirrorKey(live_id)};
  RETURN_IF_ERROR(ForEachPiece(index_, live_id, [&](uint64_t at, rocksdb::Slice) {
    keys.push_back(LiveMirrorTailKey(live_id, at));
  }));
  return keys;
}

absl::StatusOr<internal::v1::LiveMirrorResponse> LiveMirrorStore::Apply(
    const internal::v1::LiveMirrorRequest& req, const std::string& from) {
  const std::string& id = req.record().info().live_id();
  if (!absl::StartsWith(id, "live-") || from.empty()) {
    return absl::InvalidArgumentError("a live mirror names its upload and its owner node");
  }
  absl::MutexLock l(LockOf(id));
  absl::StatusOr<Copy> held = LoadLocked(id);
  if (!held.ok() && !absl::IsNotFound(held.status())) return held.status();
  if (!held.ok()) held = Copy();
  internal::v1::LiveMirrorResponse resp;
  const internal::v1::LiveRecord& had = held->rec;
  const bool ended = !had.info().live_id().empty() && had.info().state() != "recording";
  // The sender was taken over, is late (the upload was sealed), opened the
  // same upload beside another node at the same epoch (the first holds), or
  // took it over from a copy that holds less than this one (a stand-in that
  // fell behind: the fuller copy is taken over instead).
  const bool known = !had.info().live_id().empty();
  if (known && had.owner_node() != from &&
      (ended || had.epoch() >= req.record().epoch() ||
       had.info().held() > req.record().info().held())) {
    resp.set_held_by(had.owner_node());
    return resp;
  }
  if (ended) return resp;
  if (req.record().info().state() != "recording") {
    if (!known) return resp;  // no mirror here: nothing to keep
    // Sealed: the object holds its bytes now. The record stays (without its
    // tail) so that a node that was taken over and comes back learns it.
    ASSIGN_OR_RETURN(std::vector<std::string> keys, Keys(id));
    internal::v1::LiveRecord end = req.record();
    end.clear_chunks();
    end.set_owner_node(from);
    rocksdb::WriteBatch b;
    for (const std::string& k : keys) b.Delete(index_->uploads(), k);
    b.Put(index_->uploads(), LiveMirrorKey(id), end.SerializeAsString());
    RETURN_IF_ERROR(index_->Commit(&b));
    resp.set_held(req.record().info().held());
    return resp;
  }
  return Follow(*held, req, from);
}

absl::StatusOr<internal::v1::LiveMirrorResponse> LiveMirrorStore::Follow(
    const Copy& held, const internal::v1::LiveMirrorRequest& req, const std::string& from) {
  const internal::v1::LiveRecord& r = req.record();
  const std::string& id = r.info().live_id();
  const uint64_t tail_at = r.tail_offset(), end = r.info().held();
  if (tail_at % chunk_size_ != 0 || req.offset() > end || req.offset() + req.data().size() != end ||
      tail_at > end) {
    return absl::InvalidArgumentError(absl::StrCat("a live mirror of ", id, " is not consistent"));
  }
  const uint64_t chunks = tail_at / chunk_size_;
  const bool same = held.rec.epoch() == r.epoch() && !held.rec.info().live_id().empty();
  const bool chunks_follow = req.first_chunk() <= static_cast<uint64_t>(held.rec.chunks_size()) &&
                             req.first_chunk() + r.chunks_size() == chunks;
  const bool bytes_follow =
      req.offset() <= tail_at || (same && req.offset() == held.rec.info().held());
  internal::v1::LiveMirrorResponse resp;
  if (!chunks_follow || !bytes_follow || (req.first_chunk() > 0 && !same)) {
    resp.set_gap(true);
    resp.set_held(held.rec.info().held());
    return resp;
  }
  internal::v1::LiveRecord next = r;
  next.clear_chunks();
  for (uint32_t i = 0; i < req.first_chunk(); ++i) next.add_chunks(held.rec.chunks(i));
  for (const std::string& c : r.chunks()) next.add_chunks(c);
  if (r.chunks_size() == 0) next.set_chunks_hash_state(held.rec.chunks_hash_state());
  next.set_owner_node(from);
  next.mutable_info()->clear_moved_to();
  rocksdb::WriteBatch b;
  rocksdb::ColumnFamilyHandle* cf = index_->uploads();
  if (req.offset() <= tail_at) {  // a new tail: the old pieces go
    RETURN_IF_ERROR(ForEachPiece(
        index_, id, [&](uint64_t at, rocksdb::Slice) { b.Delete(cf, LiveMirrorTailKey(id, at)); }));
    if (end > tail_at) {
      b.Put(cf, LiveMirrorTailKey(id, tail_at),
            rocksdb::Slice(req.data().data() + (tail_at - req.offset()), end - tail_at));
    }
  } else {
    b.Put(cf, LiveMirrorTailKey(id, req.offset()), req.data());
  }
  b.Put(cf, LiveMirrorKey(id), next.SerializeAsString());
  RETURN_IF_ERROR(index_->Commit(&b));
  resp.set_held(end);
  return resp;
}

}  // namespace custody
