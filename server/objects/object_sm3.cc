#include "server/objects/object_sm3.h"

#include "absl/strings/str_cat.h"
#include "common/sm3.h"
#include "common/status_macros.h"
#include "server/audit/audit_log.h"

namespace custody {
namespace {

std::string Key(const std::string& id) { return "sm3/" + id; }

}  // namespace

absl::StatusOr<std::optional<std::string>> ObjectSm3::Kept(const std::string& id) {
  std::string value;
  rocksdb::Status s = index_->db()->Get(rocksdb::ReadOptions(), index_->meta(), Key(id), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocksStatus(s, "reading an object's SM3");
  return value;
}

absl::StatusOr<std::string> ObjectSm3::Compute(const v1::ObjectManifest& m,
                                               const std::string& actor) {
  ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(m.sha256()));
  const std::string subject = id.ToString();
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> kept, Kept(subject));
  if (kept.has_value()) return *kept;
  Sm3 sm3;
  uint64_t bytes = 0;
  for (const std::string& raw : m.chunks()) {
    ASSIGN_OR_RETURN(Digest chunk, Digest::FromRaw(raw));
    ASSIGN_OR_RETURN(std::string data, chunks_->Get(chunk));  // hashed on read
    sm3.Update(data);
    bytes += data.size();
  }
  if (bytes != m.size()) {
    return absl::DataLossError(absl::StrCat("the chunks of ", subject, " hold ", bytes,
                                            " bytes, not the ", m.size(), " of its manifest"));
  }
  const std::string value = Sm3::ToString(sm3.Finish());
  v1::AuditEvent e = NewEvent("object.sm3-computed", subject, actor);
  AddDetail(&e, "sm3", value);
  AddDetail(&e, "bytes", absl::StrCat(bytes));
  RETURN_IF_ERROR(trail_->Write(
      std::move(e), [&](rocksdb::WriteBatch* b) { b->Put(index_->meta(), Key(subject), value); }));
  return value;
}

}  // namespace custody
