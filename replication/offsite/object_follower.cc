#include "replication/offsite/object_follower.h"

#include <limits>

namespace custody {

uint64_t ObjectFollower::early_bytes() const {
  absl::MutexLock l(&mu_);
  return early_bytes_;
}

// The object's state, made from its manifest on its first chunk; null when
// the manifest cannot be had. May release mu_ while it reads the manifest.
ObjectFollower::Object* ObjectFollower::Find(const ChunkPosition& at) {
  if (auto it = objects_.find(at.object); it != objects_.end()) return &it->second;
  mu_.Unlock();
  std::optional<std::vector<std::string>> chunks = chunks_of_(at);
  mu_.Lock();
  if (!chunks || chunks->empty()) return nullptr;
  auto [it, fresh] = objects_.try_emplace(at.object);
  if (fresh) it->second.chunks = std::move(*chunks);
  return &it->second;
}

void ObjectFollower::GiveUp(Object* o) {
  o->given_up = true;
  for (const auto& [index, bytes] : o->early) early_bytes_ -= bytes->size();
  o->early.clear();
  o->early_seq = std::numeric_limits<uint64_t>::max();
  o->chunks.clear();
  o->chunks.shrink_to_fit();
}

bool ObjectFollower::Add(const ChunkPosition& at, const Digest& key,
                         const std::shared_ptr<const std::string>& data) {
  mu_.Lock();
  Object* o = Find(at);
  const uint32_t i = at.index;
  if (o == nullptr || o->given_up || i >= o->chunks.size() || o->chunks[i] != key.Raw() ||
      i < o->next || (o->busy && i == o->next) || o->early.count(i) != 0) {
    mu_.Unlock();
    return false;  // not followed, not named here, or a chunk added already
  }
  if (o->busy || i != o->next) {  // early: kept until its turn
    MakeRoom(data->size(), o);
    if (o->given_up || early_bytes_ + data->size() > max_early_bytes_) {
      GiveUp(o);
    } else {
      o->early.emplace(i, data);
      o->early_seq = std::min(o->early_seq, ++seq_);
      early_bytes_ += data->size();
    }
    mu_.Unlock();
    return false;
  }
  o->busy = true;
  mu_.Unlock();
  return HashInOrder(at.object, o, data);
}

// Gives up, oldest kept chunk first, objects other than `keep` whose kept
// chunks stand in the way of `bytes` more (those left by an interrupted sync
// go first).
void ObjectFollower::MakeRoom(uint64_t bytes, const Object* keep) {
  while (early_bytes_ + bytes > max_early_bytes_) {
    Object* oldest = nullptr;
    for (auto& [id, o] : objects_) {
      if (&o == keep || o.early.empty()) continue;
      if (oldest == nullptr || o.early_seq < oldest->early_seq) oldest = &o;
    }
    if (oldest == nullptr) return;
    GiveUp(oldest);
  }
}

bool ObjectFollower::HashInOrder(const Digest& object, Object* o,
                                 std::shared_ptr<const std::string> chunk) {
  while (true) {
    o->hash.Update(*chunk);  // only the busy thread touches the hash
    std::shared_ptr<const std::string> hashed = std::move(chunk);  // let go after the lock
    absl::MutexLock l(&mu_);
    if (o->given_up) {
      o->busy = false;
      return false;
    }
    if (++o->next == o->chunks.size()) {
      bool matches = o->hash.Finish() == object;
      objects_.erase(object);
      return matches;
    }
    auto it = o->early.find(o->next);
    if (it == o->early.end()) {
      o->busy = false;
      if (o->early.empty()) o->early_seq = std::numeric_limits<uint64_t>::max();
      return false;
    }
    chunk = std::move(it->second);
    early_bytes_ -= chunk->size();
    o->early.erase(it);
  }
}

}  // namespace custody
