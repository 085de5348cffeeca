#include "server/audit/audit_log.h"

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/audit/event_groups.h"

namespace custody {
namespace {

constexpr char kRangeKey[] = "range";
constexpr char kLatestKey[] = "latest";

std::string Be64(uint64_t v) {
  std::string s(8, '\0');
  absl::big_endian::Store64(s.data(), v);
  return s;
}

}  // namespace

v1::AuditEvent NewEvent(absl::string_view action, absl::string_view subject,
                        absl::string_view actor) {
  v1::AuditEvent e;
  e.set_action(std::string(action));
  e.set_subject(std::string(subject));
  e.set_actor(std::string(actor));
  return e;
}

void AddDetail(v1::AuditEvent* event, absl::string_view key, absl::string_view value) {
  v1::AuditDetail* d = event->add_details();
  d->set_key(std::string(key));
  d->set_value(std::string(value));
}

std::string EventKey(uint64_t seq) { return Be64(seq); }

std::string TreeNodeKey(int level, uint64_t index) {
  return std::string(1, static_cast<char>(level)) + Be64(index);
}

// 8 bytes of SHA-256(subject), then the seq: short keys keep appends fast
// (long subject strings made memtable comparisons a fifth of the cost).
// Readers check each event's own subject, so a prefix collision is harmless.
std::string SubjectPrefix(const std::string& subject) {
  return std::string(Digest::Of(subject).Raw().substr(0, 8));
}

std::string SubjectKey(const std::string& subject, uint64_t seq) {
  return SubjectPrefix(subject) + Be64(seq);
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(Index* index, std::string node_id,
                                                         Ed25519Key key, AuditOptions options) {
  std::unique_ptr<AuditLog> log(new AuditLog);
  log->index_ = index;
  log->node_id_ = std::move(node_id);
  log->origin_ = "custody-node-" + log->node_id_;
  log->key_ = std::move(key);
  log->options_ = options;
  std::string raw;
  rocksdb::Status s = index->db()->Get(rocksdb::ReadOptions(), index->tree(), kRangeKey, &raw);
  if (s.ok()) {
    ASSIGN_OR_RETURN(log->committed_, merkle::CompactRange::Parse(raw));
  } else if (!s.IsNotFound()) {
    return FromRocksStatus(s, "reading the audit tree");
  }
  log->pending_ = log->committed_;
  log->committed_size_ = log->committed_.size();
  ASSIGN_OR_RETURN(std::string latest, log->LatestCheckpoint());
  absl::StatusOr<Checkpoint> c = VerifyCheckpoint(latest, log->key_.public_raw());
  if (c.ok()) {
    log->last_checkpoint_size_ = c->size;
  } else if (!latest.empty()) {
    // Keep serving: `custody audit verify-node` names the damage.
    LOG(ERROR) << "the latest audit checkpoint does not verify: " << c.status();
  }
  log->last_checkpoint_time_ = absl::Now();
  return log;
}

void AuditLog::Append(rocksdb::WriteBatch* batch, v1::AuditEvent event) {
  uint64_t seq = pending_.size();
  event.set_seq(seq);
  if (event.time_unix_nanos() == 0) event.set_time_unix_nanos(absl::GetCurrentTimeNanos());
  event.set_node_id(node_id_);
  if (event.actor().empty()) event.set_actor("anonymous");
  std::string bytes = event.SerializeAsString();
  if (group_.empty()) group_first_ = seq;
  AppendEventRecord(&group_, bytes);
  batch->Put(index_->subjects(), SubjectKey(event.subject(), seq), rocksdb::Slice());
  pending_.Append(merkle::HashLeaf(bytes), [&](int level, uint64_t idx, const Digest& h) {
    batch->Put(index_->tree(), TreeNodeKey(level, idx), KeyOf(h));
  });
}

void AuditLog::BeforeCommit(rocksdb::WriteBatch* batch) {
  if (!group_.empty()) {
    batch->Put(index_->events(), EventKey(group_first_), group_);
    group_.clear();
  }
  if (pending_.size() != committed_.size()) {
    batch->Put(index_->tree(), kRangeKey, pending_.Serialize());
  }
}

void AuditLog::OnCommit(bool ok) {
  group_.clear();
  if (ok) {
    committed_ = pending_;
    committed_size_ = committed_.size();
  } else {
    pending_ = committed_;
  }
}

bool AuditLog::CheckpointDue() const {
  uint64_t fresh = committed_.size() - last_checkpoint_size_;
  if (fresh == 0) return false;
  return fresh >= options_.checkpoint_every_events ||
         absl::Now() - last_checkpoint_time_ >= options_.checkpoint_every;
}

absl::Status AuditLog::AddDue(rocksdb::WriteBatch* batch, bool* added) {
  *added = CheckpointDue();
  if (!*added) return absl::OkStatus();
  return SignCheckpoint(batch).status();
}

absl::StatusOr<std::string> AuditLog::SignCheckpoint(rocksdb::WriteBatch* batch) {
  if (pending_.size() == last_checkpoint_size_ && pending_.size() > 0) {
    return LatestCheckpoint();  // one checkpoint per tree size: never replaced
  }
  Checkpoint c;
  c.origin = origin_;
  c.size = pending_.size();
  c.root = pending_.Root();
  c.time_unix_nanos = absl::GetCurrentTimeNanos();
  ASSIGN_OR_RETURN(std::string note, custody::SignCheckpoint(c, key_));
  batch->Put(index_->checkpoints(), Be64(c.size), note);
  batch->Put(index_->checkpoints(), kLatestKey, note);
  last_checkpoint_size_ = c.size;
  last_checkpoint_time_ = absl::Now();
  return note;
}

absl::StatusOr<std::vector<std::string>> AuditLog::Events(const std::string& subject) {
  std::vector<std::string> out;
  std::string prefix = SubjectPrefix(subject);
  std::unique_ptr<rocksdb::Iterator> it(
      index_->db()->NewIterator(rocksdb::ReadOptions(), index_->subjects()));
  EventCursor events(index_, rocksdb::ReadOptions());
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 8) continue;
    uint64_t seq = absl::big_endian::Load64(it->key().data() + prefix.size());
    events.Seek(seq);
    if (!events.Valid()) {
      return absl::DataLossError(absl::StrCat(
          "audit event ", seq, " cannot be read",
          events.problem().empty() ? ": the log ends before it" : ": " + events.problem()));
    }
    v1::AuditEvent parsed;
    if (!parsed.ParseFromArray(events.event().data(), static_cast<int>(events.event().size()))) {
      return absl::DataLossError(absl::StrCat("stored audit event ", seq, " does not parse"));
    }
    if (parsed.subject() == subject) out.emplace_back(events.event());
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "listing audit events"));
  return out;
}

absl::StatusOr<std::string> AuditLog::LatestCheckpoint() {
  std::string note;
  rocksdb::Status s =
      index_->db()->Get(rocksdb::ReadOptions(), index_->checkpoints(), kLatestKey, &note);
  if (s.IsNotFound()) return std::string();
  RETURN_IF_ERROR(FromRocksStatus(s, "reading the latest checkpoint"));
  return note;
}

absl::StatusOr<std::string> AuditLog::FirstCheckpointAfter(int64_t unix_nanos) {
  struct Found {
    Checkpoint c;
    std::string note;
  };
  std::unique_ptr<rocksdb::Iterator> it(
      index_->db()->NewIterator(rocksdb::ReadOptions(), index_->checkpoints()));
  // The first checkpoint of a size at or above `size`, if any.
  auto from = [&](uint64_t size) -> absl::StatusOr<std::optional<Found>> {
    it->Seek(Be64(size));
    RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading the checkpoints"));
    if (!it->Valid() || it->key().size() != 8) return std::nullopt;  // past the sized keys
    std::string note = it->value().ToString();
    ASSIGN_OR_RETURN(Checkpoint c, VerifyCheckpoint(note, key_.public_raw()));
    return Found{c, note};
  };
  std::string best;
  uint64_t lo = 0, hi = committed_size_.load() + 1;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    ASSIGN_OR_RETURN(std::optional<Found> f, from(mid));
    if (!f.has_value()) {
      hi = mid;
    } else if (f->c.time_unix_nanos >= unix_nanos) {
      best = f->note;
      hi = mid;
    } else {
      lo = f->c.size + 1;
    }
  }
  return best;
}

absl::StatusOr<Digest> AuditLog::Node(int level, uint64_t index) {
  std::string v;
  rocksdb::Status s =
      index_->db()->Get(rocksdb::ReadOptions(), index_->tree(), TreeNodeKey(level, index), &v);
  if (s.IsNotFound()) {
    return absl::DataLossError(absl::StrCat("audit tree node ", level, "/", index, " is missing"));
  }
  RETURN_IF_ERROR(FromRocksStatus(s, "reading the audit tree"));
  return Digest::FromRaw(absl::string_view(v.data(), v.size()));
}

absl::StatusOr<std::pair<std::string, std::vector<Digest>>> AuditLog::ConsistencyFrom(
    uint64_t old_size) {
  ASSIGN_OR_RETURN(std::string note, LatestCheckpoint());
  ASSIGN_OR_RETURN(Checkpoint c, VerifyCheckpoint(note, key_.public_raw()));
  ASSIGN_OR_RETURN(std::vector<Digest> proof, ConsistencyProof(old_size, c.size));
  return std::make_pair(note, proof);
}

absl::StatusOr<std::vector<Digest>> AuditLog::ConsistencyProof(uint64_t old_size, uint64_t size) {
  if (size > committed_size_.load()) {
    return absl::OutOfRangeError(
        absl::StrCat("the log holds ", committed_size_.load(), " events, fewer than ", size));
  }
  auto node = [this](int l, uint64_t i) { return Node(l, i); };
  return merkle::ConsistencyProof(old_size, size, node);
}

absl::StatusOr<v1::AuditBundle> AuditLog::Bundle(const std::string& subject) {
  ASSIGN_OR_RETURN(std::string note, LatestCheckpoint());
  if (note.empty()) return absl::FailedPreconditionError("the node has signed no checkpoint yet");
  ASSIGN_OR_RETURN(Checkpoint c, VerifyCheckpoint(note, key_.public_raw()));
  ASSIGN_OR_RETURN(std::vector<std::string> events, Events(subject));
  v1::AuditBundle b;
  b.set_subject(subject);
  b.set_checkpoint(note);
  b.set_public_key_pem(key_.PublicPem());
  for (std::string& bytes : events) {
    v1::AuditEvent ev;
    if (!ev.ParseFromString(bytes)) return absl::DataLossError("a stored event does not parse");
    if (ev.seq() >= c.size) continue;  // after the checkpoint: in the next bundle
    auto node = [this](int l, uint64_t i) { return Node(l, i); };
    ASSIGN_OR_RETURN(std::vector<Digest> proof, merkle::InclusionProof(ev.seq(), c.size, node));
    v1::AuditBundleEntry* e = b.add_entries();
    e->set_index(ev.seq());
    e->set_event(std::move(bytes));
    for (const Digest& d : proof) e->add_proof(std::string(d.Raw()));
  }
  if (b.entries_size() == 0) {
    return absl::NotFoundError(absl::StrCat("no audited events about ", subject));
  }
  return b;
}

}  // namespace custody
