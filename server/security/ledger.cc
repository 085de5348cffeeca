#include "server/security/ledger.h"

#include <openssl/rand.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/hybrid_clock.h"
#include "common/log.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "server/audit/audited_write.h"
#include "server/security/decisions.h"
#include "server/security/ledger_fold.h"
#include "server/storage/index.h"

namespace custody {

namespace {
// In the meta column family: the ledger clock's last time (8 bytes,
// big-endian), written with every entry, so a restart never orders a new
// entry before one it held.
constexpr char kClockKey[] = "ledger/clock";
}  // namespace

std::string EntryField(const v1::LedgerEntry& e, const std::string& key) {
  auto it = e.fields().find(key);
  return it == e.fields().end() ? "" : it->second;
}

int64_t EntryInt(const v1::LedgerEntry& e, const std::string& key) {
  int64_t v = 0;
  return absl::SimpleAtoi(EntryField(e, key), &v) ? v : 0;
}

v1::AuditEvent EventOf(const v1::LedgerEntry& e, const std::string& audit_subject) {
  v1::AuditEvent event = NewEvent(e.kind(), audit_subject, e.actor());
  for (const auto& [k, v] : e.fields()) {
    if (k != "token_sha256") AddDetail(&event, k, v);
  }
  if (e.has_signed_()) AddDetail(&event, "signed_by", e.actor());
  return event;
}

Ledger::Ledger(Index* index, AuditTrail* trail, std::string node_id, int nodes)
    : index_(index),
      trail_(trail),
      node_id_(std::move(node_id)),
      nodes_(nodes),
      verifier_(std::make_unique<DecisionVerifier>("")) {}
Ledger::~Ledger() = default;

absl::Status Ledger::RestoreClock() {
  std::string v;
  rocksdb::Status s = index_->db()->Get(rocksdb::ReadOptions(), index_->meta(), kClockKey, &v);
  if (s.ok() && v.size() == 8) {
    uint64_t last = 0;
    for (char c : v) last = last << 8 | static_cast<unsigned char>(c);
    clock_.Observe(static_cast<int64_t>(last));
    return absl::OkStatus();
  }
  if (!s.ok() && !s.IsNotFound()) return FromRocksStatus(s, "reading the ledger's clock");
  // A ledger kept before the clock was: its entries' latest order.
  return ForEach([this](const Digest&, const v1::LedgerEntry& e) { clock_.Observe(OrderOf(e)); });
}

void Ledger::Trust(std::string ca_pem) {
  verifier_ = std::make_unique<DecisionVerifier>(std::move(ca_pem));
}

absl::Status Ledger::Store(const Digest& id, const std::string& bytes, const v1::LedgerEntry& e,
                           v1::AuditEvent event) {
  absl::MutexLock l(&store_mu_);
  FoldOps ops;
  if (fold_ != nullptr) RETURN_IF_ERROR(fold_->Stage(id, e, &ops));
  const std::string clock = BigEndian(static_cast<uint64_t>(clock_.last()));
  return trail_->Write(std::move(event), [&](rocksdb::WriteBatch* b) {
    b->Put(index_->ledger(), KeyOf(id), bytes);
    b->Put(index_->meta(), kClockKey, clock);
    if (fold_ != nullptr) fold_->Write(ops, b);
  });
}

absl::StatusOr<Ledger::Appended> Ledger::Append(v1::LedgerEntry entry, v1::AuditEvent event) {
  RETURN_IF_ERROR(verifier_->Check(entry));
  entry.set_time_unix_nanos(absl::ToUnixNanos(WallNow()));
  entry.set_order_unix_nanos(clock_.Tick());
  entry.set_node_id(node_id_);
  ASSIGN_OR_RETURN(std::string nonce, RandomBytes(16, "a ledger entry's nonce"));
  entry.set_nonce(nonce);
  std::string bytes = entry.SerializeAsString();
  Appended out{Digest::Of(bytes), 1, nodes_};
  AddDetail(&event, "ledger_entry", out.id.ToString());
  RETURN_IF_ERROR(Store(out.id, bytes, entry, std::move(event)));
  if (after_store_) after_store_(entry);
  out.holders = Spread(out.id, bytes);
  return out;
}

int Ledger::Spread(const Digest& id, const std::string& bytes) {
  return 1 + (spread_ ? spread_(id, bytes) : 0);
}

absl::Status Ledger::Receive(const Digest& id, const std::string& bytes, const std::string& from) {
  return Take(id, bytes, from, "ledger.received").status();
}

absl::Status Ledger::Restore(const Digest& id, const std::string& bytes, const std::string& from) {
  RETURN_IF_ERROR(Take(id, bytes, from, "ledger.restored").status());
  Spread(id, bytes);
  return absl::OkStatus();
}

absl::StatusOr<bool> Ledger::Take(const Digest& id, const std::string& bytes,
                                  const std::string& from, const char* action) {
  v1::LedgerEntry e;
  if (Digest::Of(bytes) != id || !e.ParseFromString(bytes)) {
    return absl::InvalidArgumentError("a ledger entry must parse and hash to its key");
  }
  if (!clock_.Observe(OrderOf(e))) {
    LOG(WARNING) << "ledger entry " << id.ToString() << " from " << e.node_id()
                 << " is ordered more than a day past this node's clock: its node's clock is off";
  }
  ASSIGN_OR_RETURN(std::optional<std::string> have, Get(id));
  if (have) return false;
  if (absl::Status s = verifier_->Check(e); !s.ok()) return Refuse(id, bytes, e, from, s);
  if (admission_) {
    absl::Status s = admission_(e);
    if (!s.ok()) return Refuse(id, bytes, e, from, absl::PermissionDeniedError(s.message()));
  }
  v1::AuditEvent event = NewEvent(action, e.subject(), e.actor());
  AddDetail(&event, "kind", e.kind());
  AddDetail(&event, "ledger_entry", id.ToString());
  AddDetail(&event, "from_node", from);
  RETURN_IF_ERROR(Store(id, bytes, e, std::move(event)));
  if (after_store_) after_store_(e);
  return true;
}

absl::Status Ledger::Refuse(const Digest& id, const std::string& bytes, const v1::LedgerEntry& e,
                            const std::string& from, const absl::Status& why) {
  {
    absl::MutexLock l(&refused_mu_);
    if (!refused_.insert(id.Hex()).second) return why;
  }
  LOG(WARNING) << "refused ledger entry " << id.ToString() << " (" << e.kind() << ") from " << from
               << ": " << why;
  v1::AuditEvent event = NewEvent("ledger.refused", e.subject(), "custodyd");
  AddDetail(&event, "kind", e.kind());
  AddDetail(&event, "claimed_actor", e.actor());
  AddDetail(&event, "ledger_entry", id.ToString());
  AddDetail(&event, "from_node", from);
  AddDetail(&event, "reason", std::string(why.message()));
  AddDetail(&event, "entry_base64", absl::Base64Escape(bytes));
  if (absl::Status s = trail_->Record(std::move(event)); !s.ok()) {
    LOG(ERROR) << "could not log the refusal of " << id.ToString() << ": " << s;
  }
  return why;
}

absl::StatusOr<std::optional<std::string>> Ledger::Get(const Digest& id) {
  std::string v;
  rocksdb::Status s = index_->db()->Get(rocksdb::ReadOptions(), index_->ledger(), KeyOf(id), &v);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocksStatus(s, "ledger lookup");
  return v;
}

absl::Status Ledger::ForEach(const std::function<void(const Digest&, const v1::LedgerEntry&)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(
      index_->db()->NewIterator(rocksdb::ReadOptions(), index_->ledger()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::StatusOr<Digest> id =
        Digest::FromRaw(absl::string_view(it->key().data(), it->key().size()));
    v1::LedgerEntry e;
    if (!id.ok() || !e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a ledger entry does not parse");
    }
    fn(*id, e);
  }
  return FromRocksStatus(it->status(), "scanning the ledger");
}

}  // namespace custody
