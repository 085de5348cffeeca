#include "replication/witness/attestations.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/checkpoint.h"
#include "common/cosignature.h"
#include "common/status_macros.h"
#include "server/audit/audited_write.h"

namespace custody {
namespace {

constexpr char kWitnessSizeKey[] = "attest/witness-size";

absl::StatusOr<std::string> KeyOf(const std::string& note) {
  ASSIGN_OR_RETURN(std::string body, NoteBody(note));
  ASSIGN_OR_RETURN(Checkpoint c, Checkpoint::ParseBody(body));
  return absl::StrFormat("attest/cp/%020u", c.size);
}

bool SameBody(const std::string& a, const std::string& b) {
  absl::StatusOr<std::string> x = NoteBody(a), y = NoteBody(b);
  return x.ok() && y.ok() && *x == *y;
}

}  // namespace

absl::StatusOr<std::optional<std::string>> Attestations::Get(const std::string& key) {
  std::string value;
  rocksdb::Status s = index_->db()->Get(rocksdb::ReadOptions(), index_->meta(), key, &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocksStatus(s, "reading an attestation");
  return value;
}

absl::Status Attestations::Put(const std::string& key, const std::string& value) {
  return AuditedIndexWrite(committer_, nullptr, std::nullopt,
                           [&](rocksdb::WriteBatch* b) { b->Put(index_->meta(), key, value); });
}

absl::StatusOr<internal::v1::CheckpointAttestation> Attestations::For(const std::string& note) {
  ASSIGN_OR_RETURN(std::string key, KeyOf(note));
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, Get(key));
  internal::v1::CheckpointAttestation a;
  if (bytes.has_value() && (!a.ParseFromString(*bytes) || !SameBody(a.checkpoint(), note))) {
    a.Clear();  // unreadable, or another checkpoint of that size (a rolled-back log)
  }
  if (a.checkpoint().empty()) a.set_checkpoint(note);
  return a;
}

absl::StatusOr<std::string> Attestations::AddCosignature(const std::string& note,
                                                         const std::string& line) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(internal::v1::CheckpointAttestation a, For(note));
  a.set_checkpoint(AddNoteSignature(a.checkpoint(), line));
  ASSIGN_OR_RETURN(std::string key, KeyOf(note));
  RETURN_IF_ERROR(Put(key, a.SerializeAsString()));
  return a.checkpoint();
}

absl::Status Attestations::SetToken(const std::string& note, const std::string& token,
                                    absl::Time tsa_time) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(internal::v1::CheckpointAttestation a, For(note));
  a.set_timestamp_token(token);
  a.set_timestamp_unix_nanos(absl::ToUnixNanos(tsa_time));
  ASSIGN_OR_RETURN(std::string key, KeyOf(note));
  return Put(key, a.SerializeAsString());
}

absl::StatusOr<uint64_t> Attestations::WitnessSize() {
  ASSIGN_OR_RETURN(std::optional<std::string> v, Get(kWitnessSizeKey));
  uint64_t size = 0;
  if (v.has_value() && !absl::SimpleAtoi(*v, &size)) {
    return absl::DataLossError("the witness size on record is not a number");
  }
  return size;
}

absl::Status Attestations::SetWitnessSize(uint64_t size) {
  return Put(kWitnessSizeKey, absl::StrCat(size));
}

}  // namespace custody
