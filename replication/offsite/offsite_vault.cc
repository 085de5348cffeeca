#include "replication/offsite/offsite_vault.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/snapshot_format.h"
#include "common/status_macros.h"
#include "server/audit/audited_write.h"
#include "server/storage/chunk_io.h"

namespace custody {

namespace {

constexpr char kOffered[] = "offsite/offered/";
constexpr char kReceipt[] = "offsite/receipt/";
constexpr char kBad[] = "offsite/bad/";
constexpr char kVerified[] = "offsite/verified/";

}  // namespace

absl::StatusOr<std::optional<std::string>> OffsiteVault::GetMeta(const std::string& key) {
  std::string v;
  rocksdb::Status s =
      node_->index()->db()->Get(rocksdb::ReadOptions(), node_->index()->meta(), key, &v);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(FromRocksStatus(s, "reading the offsite catalog"));
  return v;
}

absl::Status OffsiteVault::PutMeta(std::vector<std::pair<std::string, std::string>> kv,
                                   std::optional<v1::AuditEvent> event) {
  Index* index = node_->index();
  return AuditedIndexWrite(node_->committer(), node_->audit(), std::move(event),
                           [&](rocksdb::WriteBatch* b) {
                             for (const auto& [k, v] : kv) {
                               if (v.empty() && absl::StartsWith(k, kBad)) {
                                 b->Delete(index->meta(), k);  // a bad mark lifted: written anew
                               } else {
                                 b->Put(index->meta(), k, v);
                               }
                             }
                           });
}

absl::StatusOr<bool> OffsiteVault::IsBad(const Digest& key) {
  ASSIGN_OR_RETURN(std::optional<std::string> v, GetMeta(absl::StrCat(kBad, key.Raw())));
  return v.has_value();
}

absl::StatusOr<v1::Snapshot> OffsiteVault::Offered(const std::string& id) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, GetMeta(kOffered + id));
  v1::Snapshot s;
  if (!bytes) return absl::NotFoundError(absl::StrCat("snapshot ", id, " was never offered here"));
  if (!s.ParseFromString(*bytes)) return absl::DataLossError("a kept snapshot does not parse");
  return s;
}

absl::StatusOr<internal::v1::OfferResponse> OffsiteVault::Offer(const v1::Snapshot& s,
                                                                const std::string& from) {
  absl::StatusOr<v1::SnapshotBody> body = CheckSnapshot(s);
  if (!body.ok()) return absl::InvalidArgumentError(body.status().message());
  internal::v1::OfferResponse resp;
  ASSIGN_OR_RETURN(std::optional<std::string> sealed, GetMeta(kReceipt + body->id()));
  ASSIGN_OR_RETURN(std::optional<std::string> kept, GetMeta(kOffered + body->id()));
  if (!kept) {
    v1::AuditEvent e = NewEvent("offsite.offered", "snapshot:" + body->id(), from);
    AddDetail(&e, "objects", absl::StrCat(body->objects_size()));
    AddDetail(&e, "data_bytes", absl::StrCat(body->data_bytes()));
    AddDetail(&e, "signer", s.signer());
    RETURN_IF_ERROR(PutMeta({{kOffered + body->id(), s.SerializeAsString()}}, std::move(e)));
  }
  ASSIGN_OR_RETURN(std::vector<Digest> missing, FindMissing(SnapshotBlobKeys(*body)));
  for (const Digest& d : missing) resp.add_missing(std::string(d.Raw()));
  resp.set_sealed(sealed.has_value() && missing.empty());
  return resp;
}

absl::StatusOr<std::vector<Digest>> OffsiteVault::FindMissing(const std::vector<Digest>& keys) {
  ASSIGN_OR_RETURN(std::vector<Digest> missing, node_->chunks()->FindMissing(keys));
  std::set<Digest> absent(missing.begin(), missing.end());
  for (const Digest& k : keys) {
    if (absent.count(k)) continue;
    ASSIGN_OR_RETURN(bool bad, IsBad(k));
    if (bad) missing.push_back(k);
  }
  return missing;
}

std::optional<std::vector<std::string>> OffsiteVault::ChunksOf(const ChunkPosition& at) {
  absl::StatusOr<std::string> bytes = node_->chunks()->Get(at.manifest);
  v1::ObjectManifest m;
  if (!bytes.ok() || !m.ParseFromString(*bytes) || m.sha256() != at.object.Raw()) {
    return std::nullopt;  // not followed: Seal reads the object
  }
  return std::vector<std::string>(m.chunks().begin(), m.chunks().end());
}

absl::StatusOr<OffsiteVault::Admission> OffsiteVault::Admit(
    const Digest& key, const std::shared_ptr<const std::string>& data,
    const std::optional<ChunkPosition>& at) {
  if (Digest::Of(*data) != key) {
    return absl::InvalidArgumentError(
        absl::StrCat("blob ", key.ToString(), " was sent with bytes that hash to something else"));
  }
  if (at && follower_.Add(*at, key, data)) {  // else Seal reads the object
    RETURN_IF_ERROR(PutMeta({{absl::StrCat(kVerified, at->object.Raw()), "1"}}, std::nullopt));
  }
  ASSIGN_OR_RETURN(bool bad, IsBad(key));
  if (bad) return Admission::kBad;
  ASSIGN_OR_RETURN(std::vector<Digest> missing, node_->chunks()->FindMissing({key}));
  return missing.empty() ? Admission::kHeld : Admission::kNew;
}

absl::Status OffsiteVault::Repair(const Digest& key, std::string data) {
  WriteRequest r = ChunkWrite(key, std::move(data), node_->sealer());
  r.replace = true;  // the index then points to this copy
  RETURN_IF_ERROR(node_->committer()->Write(std::move(r)).status());
  v1::AuditEvent e = NewEvent("offsite.blob-repaired", key.ToString(), "custodyd");
  return PutMeta({{absl::StrCat(kBad, key.Raw()), ""}}, std::move(e));
}

void OffsiteVault::Put(const Digest& key, std::string data, const std::optional<ChunkPosition>& at,
                       absl::AnyInvocable<void(absl::StatusOr<bool>) &&> done) {
  auto bytes = std::make_shared<std::string>(std::move(data));  // the follower may keep them
  absl::StatusOr<Admission> admitted = Admit(key, bytes, at);
  if (!admitted.ok()) return std::move(done)(admitted.status());
  if (*admitted == Admission::kHeld) {
    ++already_held_;
    return std::move(done)(true);
  }
  const uint64_t size = bytes->size();
  if (*admitted == Admission::kBad) {  // rare: waits here, for the repair's event
    absl::Status s = Repair(key, std::string(*bytes));
    if (s.ok()) ++blobs_received_, bytes_received_ += size;
    return std::move(done)(s.ok() ? absl::StatusOr<bool>(false) : s);
  }
  // Hashed above: written straight to the committer, not hashed again, from
  // the bytes the follower may share.
  WriteRequest r = ChunkWrite(key, std::move(bytes), node_->sealer());
  r.done = [this, size, done = std::move(done)](absl::StatusOr<WriteResult> w) mutable {
    if (w.ok()) ++blobs_received_, bytes_received_ += size;
    std::move(done)(w.ok() ? absl::StatusOr<bool>(false) : w.status());
  };
  node_->committer()->Submit(std::move(r));
}

absl::StatusOr<std::string> OffsiteVault::Get(const Digest& key) {
  ASSIGN_OR_RETURN(bool bad, IsBad(key));
  if (bad) {
    return absl::DataLossError(absl::StrCat(
        "blob ", key.ToString(), " is corrupt here (found by a verify); a sync repairs it"));
  }
  return node_->chunks()->Get(key);
}

absl::StatusOr<internal::v1::PeerSnapshotsResponse> OffsiteVault::ListSealed() {
  internal::v1::PeerSnapshotsResponse out;
  std::vector<std::pair<int64_t, std::pair<v1::Snapshot, v1::Receipt>>> sealed;
  std::unique_ptr<rocksdb::Iterator> it(
      node_->index()->db()->NewIterator(rocksdb::ReadOptions(), node_->index()->meta()));
  for (it->Seek(kReceipt); it->Valid() && it->key().starts_with(kReceipt); it->Next()) {
    v1::Receipt r;
    if (!r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a kept receipt does not parse");
    }
    std::string id = it->key().ToString().substr(sizeof(kReceipt) - 1);
    ASSIGN_OR_RETURN(v1::Snapshot s, Offered(id));
    ASSIGN_OR_RETURN(v1::SnapshotBody body, CheckSnapshot(s));
    sealed.push_back({body.created_unix_nanos(), {std::move(s), std::move(r)}});
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "listing receipts"));
  std::sort(sealed.begin(), sealed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [t, sr] : sealed) {
    *out.add_snapshots() = std::move(sr.first);
    *out.add_receipts() = std::move(sr.second);
  }
  return out;
}

absl::StatusOr<internal::v1::PeerStatus> OffsiteVault::Status() {
  internal::v1::PeerStatus s;
  s.set_peer_id(node_->node_id());
  s.set_blobs_received(blobs_received_);
  s.set_bytes_received(bytes_received_);
  s.set_blobs_already_held(already_held_);
  s.set_objects_read_back(read_back_);
  ASSIGN_OR_RETURN(internal::v1::PeerSnapshotsResponse sealed, ListSealed());
  s.set_snapshots_sealed(sealed.snapshots_size());
  std::unique_ptr<rocksdb::Iterator> it(
      node_->index()->db()->NewIterator(rocksdb::ReadOptions(), node_->index()->meta()));
  for (it->Seek(kBad); it->Valid() && it->key().starts_with(kBad); it->Next()) {
    s.set_bad_blobs(s.bad_blobs() + 1);
  }
  return s;
}

}  // namespace custody
