#include "replication/witness/witness_store.h"

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace custody {
namespace {

constexpr char kPrefix[] = "witness/log/";

}  // namespace

absl::StatusOr<std::optional<internal::v1::WitnessedLogState>> IndexWitnessStore::Load(
    const std::string& origin) {
  std::string value;
  rocksdb::Status s = index_->db()->Get(rocksdb::ReadOptions(), index_->meta(),
                                        absl::StrCat(kPrefix, origin), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocksStatus(s, "reading a witnessed log");
  internal::v1::WitnessedLogState state;
  if (!state.ParseFromString(value)) {
    return absl::DataLossError("the witness's record of " + origin + " is unreadable");
  }
  return state;
}

absl::Status IndexWitnessStore::Save(const internal::v1::WitnessedLogState& state,
                                     v1::AuditEvent event) {
  return trail_->Write(std::move(event), [&](rocksdb::WriteBatch* b) {
    b->Put(index_->meta(), absl::StrCat(kPrefix, state.origin()), state.SerializeAsString());
  });
}

absl::StatusOr<std::vector<internal::v1::WitnessedLogState>> IndexWitnessStore::List() {
  std::vector<internal::v1::WitnessedLogState> out;
  std::unique_ptr<rocksdb::Iterator> it(
      index_->db()->NewIterator(rocksdb::ReadOptions(), index_->meta()));
  for (it->Seek(std::string(kPrefix));
       it->Valid() && it->key().starts_with(rocksdb::Slice(kPrefix)); it->Next()) {
    internal::v1::WitnessedLogState state;
    if (!state.ParseFromString(it->value().ToString())) {
      return absl::DataLossError("a witness record is unreadable: " + it->key().ToString());
    }
    out.push_back(std::move(state));
  }
  if (!it->status().ok()) return FromRocksStatus(it->status(), "listing witnessed logs");
  return out;
}

}  // namespace custody
