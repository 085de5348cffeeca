#include "server/audit/audit_history.h"

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "common/checkpoint.h"
#include "common/merkle.h"
#include "common/status_macros.h"
#include "server/audit/audit_log.h"
#include "server/audit/audited_write.h"

namespace custody {

namespace {

constexpr char kPrefix[] = "history/";
constexpr char kLogs[] = "history-logs/";  // one key per restored log

std::string Key(const std::string& node, absl::string_view part) {
  return absl::StrCat(kPrefix, node, "/", part);
}

}  // namespace

absl::Status AuditHistory::AddEvents(const std::string& node, uint64_t first,
                                     const std::vector<std::string>& events) {
  return AuditedIndexWrite(committer_, nullptr, std::nullopt, [&](rocksdb::WriteBatch* b) {
    for (size_t i = 0; i < events.size(); ++i) {
      std::string seq = EventKey(first + i);
      b->Put(index_->meta(), Key(node, "e/" + seq), events[i]);
      v1::AuditEvent e;
      if (e.ParseFromString(events[i])) {
        b->Put(index_->meta(),
               Key(node, absl::StrCat("s/", e.subject(), std::string(1, '\0'), seq)), "");
      }
    }
  });
}

absl::Status AuditHistory::Commit(const std::string& node, const std::string& public_key,
                                  const std::string& checkpoint, const std::string& snapshot) {
  std::string have;
  if (index_->db()->Get(rocksdb::ReadOptions(), index_->meta(), Key(node, "c"), &have).ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("the audit log of an earlier node ", node, " was restored here before"));
  }
  ASSIGN_OR_RETURN(Checkpoint c, VerifyCheckpoint(checkpoint, public_key));
  v1::AuditEvent e = NewEvent("audit.history-restored", "node", "custodyd");
  AddDetail(&e, "node", node);
  AddDetail(&e, "events", absl::StrCat(c.size));
  AddDetail(&e, "snapshot", snapshot);
  return AuditedIndexWrite(committer_, audit_, std::move(e), [&](rocksdb::WriteBatch* b) {
    b->Put(index_->meta(), Key(node, "k"), public_key);
    b->Put(index_->meta(), Key(node, "c"), checkpoint);
    b->Put(index_->meta(), kLogs + node, "");
  });
}

absl::StatusOr<bool> AuditHistory::Has(const std::string& node, const std::string& checkpoint) {
  std::string have;
  rocksdb::Status s =
      index_->db()->Get(rocksdb::ReadOptions(), index_->meta(), Key(node, "c"), &have);
  if (s.IsNotFound()) return false;
  RETURN_IF_ERROR(FromRocksStatus(s, "reading a restored audit log"));
  return have == checkpoint;
}

absl::StatusOr<std::vector<std::string>> AuditHistory::Nodes() {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(
      index_->db()->NewIterator(rocksdb::ReadOptions(), index_->meta()));
  for (it->Seek(kLogs); it->Valid() && it->key().starts_with(kLogs); it->Next()) {
    out.push_back(it->key().ToString().substr(sizeof(kLogs) - 1));
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "listing restored audit logs"));
  return out;
}

absl::StatusOr<std::vector<std::string>> AuditHistory::Events(const std::string& subject) {
  std::vector<std::string> out;
  ASSIGN_OR_RETURN(std::vector<std::string> nodes, Nodes());
  for (const std::string& node : nodes) {
    std::string prefix = Key(node, absl::StrCat("s/", subject, std::string(1, '\0')));
    std::unique_ptr<rocksdb::Iterator> it(
        index_->db()->NewIterator(rocksdb::ReadOptions(), index_->meta()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      std::string seq = it->key().ToString().substr(prefix.size());
      std::string event;
      rocksdb::Status s =
          index_->db()->Get(rocksdb::ReadOptions(), index_->meta(), Key(node, "e/" + seq), &event);
      RETURN_IF_ERROR(FromRocksStatus(s, "reading a restored audit event"));
      out.push_back(std::move(event));
    }
    RETURN_IF_ERROR(FromRocksStatus(it->status(), "listing restored audit events"));
  }
  return out;
}

v1::RestoredLogCheck AuditHistory::VerifyOne(const std::string& node) {
  v1::RestoredLogCheck check;
  check.set_node_id(node);
  std::string key, note;
  rocksdb::ReadOptions ro;
  if (!index_->db()->Get(ro, index_->meta(), Key(node, "k"), &key).ok() ||
      !index_->db()->Get(ro, index_->meta(), Key(node, "c"), &note).ok()) {
    check.set_problem("its key or checkpoint cannot be read");
    return check;
  }
  absl::StatusOr<Checkpoint> c = VerifyCheckpoint(note, key);
  if (!c.ok()) {
    check.set_problem(std::string(c.status().message()));
    return check;
  }
  merkle::CompactRange range;
  std::string prefix = Key(node, "e/");
  std::unique_ptr<rocksdb::Iterator> it(index_->db()->NewIterator(ro, index_->meta()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    uint64_t seq = absl::big_endian::Load64(it->key().data() + prefix.size());
    if (seq != range.size()) break;  // a gap: the size check below fails
    range.Append(merkle::HashLeaf(absl::string_view(it->value().data(), it->value().size())),
                 [](int, uint64_t, const Digest&) {});
  }
  check.set_events(range.size());
  if (range.size() != c->size || range.Root() != c->root) {
    check.set_problem(absl::StrCat("its ", range.size(), " events do not match the checkpoint of ",
                                   c->size, " events signed by node ", node));
    return check;
  }
  check.set_ok(true);
  return check;
}

absl::StatusOr<std::vector<v1::RestoredLogCheck>> AuditHistory::Verify() {
  ASSIGN_OR_RETURN(std::vector<std::string> nodes, Nodes());
  std::vector<v1::RestoredLogCheck> out;
  for (const std::string& node : nodes) out.push_back(VerifyOne(node));
  return out;
}

}  // namespace custody
