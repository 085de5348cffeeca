// AuditLog::VerifyAll: recompute the tree from the stored events and hold it
// against every checkpoint the node signed.
#include <atomic>
#include <map>
#include <thread>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/ed25519.h"
#include "common/status_macros.h"
#include "rocksdb/write_batch.h"
#include "server/audit/audit_log.h"
#include "server/audit/event_groups.h"

namespace custody {
namespace {

// In the checkpoints family beside the checkpoints (8-byte keys) and
// "latest": the last checkpoint size a verification checked.
constexpr char kVerifiedKey[] = "verified-upto";

// The seq field of a canonical event (field 1, a varint, first when set;
// proto3 leaves it out when 0). Decoded by hand: a full parse per event
// would double verify-node's time.
bool EventSeq(absl::string_view bytes, uint64_t* seq) {
  *seq = 0;
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != 0x08) return true;
  uint64_t v = 0;
  for (size_t i = 1, shift = 0; i < bytes.size() && shift < 64; ++i, shift += 7) {
    uint8_t b = static_cast<uint8_t>(bytes[i]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *seq = v;
      return true;
    }
  }
  return false;
}

}  // namespace

struct AuditLog::Verification {
  std::map<uint64_t, Checkpoint> checkpoints;  // by tree size
  std::string problem;
  uint64_t events = 0;
  uint64_t verified_checkpoint = 0;  // the largest signed size checked

  bool Fail(std::string p) {
    if (problem.empty()) problem = std::move(p);
    return false;
  }
};

namespace {

using Verifier = AuditLog::Verification;

// Loads and checks the signature of every checkpoint, and the auditor's.
bool LoadCheckpoints(Index* index, const rocksdb::ReadOptions& ro, absl::string_view public_raw,
                     const std::string& since, Verifier* v) {
  std::unique_ptr<rocksdb::Iterator> it(index->db()->NewIterator(ro, index->checkpoints()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8) continue;  // "latest"
    uint64_t size = absl::big_endian::Load64(it->key().data());
    absl::StatusOr<Checkpoint> c = VerifyCheckpoint(it->value().ToString(), public_raw);
    if (!c.ok() || c->size != size) {
      return v->Fail(absl::StrCat("the checkpoint stored for tree size ", size,
                                  " is not validly signed by this node"));
    }
    v->checkpoints[size] = *c;
  }
  if (!since.empty()) {
    absl::StatusOr<Checkpoint> c = VerifyCheckpoint(since, public_raw);
    if (!c.ok()) {
      return v->Fail(
          absl::StrCat("the given checkpoint is not signed by this node: ", c.status().message()));
    }
    auto [it2, fresh] = v->checkpoints.emplace(c->size, *c);
    if (!fresh && it2->second.root != c->root) {
      return v->Fail(absl::StrCat("the node signed two different roots for tree size ", c->size,
                                  ": the given checkpoint and its own"));
    }
  }
  return true;
}

// The first event in [lo, hi) whose bytes no longer hash to its stored leaf,
// named; used only once a recomputed root disagrees with a signed one, so
// that the clean path reads the events alone.
std::string NameChangedEvent(Index* index, const rocksdb::ReadOptions& ro, uint64_t lo,
                             uint64_t hi) {
  EventCursor ev(index, ro);
  std::unique_ptr<rocksdb::Iterator> leaf(index->db()->NewIterator(ro, index->tree()));
  leaf->Seek(TreeNodeKey(0, lo));
  for (ev.Seek(lo); ev.Valid() && ev.position() < hi; ev.Next(), leaf->Next()) {
    Digest h = merkle::HashLeaf(ev.event());
    if (!leaf->Valid() || leaf->key() != TreeNodeKey(0, ev.position()) ||
        leaf->value() != KeyOf(h)) {
      return absl::StrCat("event ", ev.position(),
                          " was changed after it was logged: its "
                          "bytes no longer match its leaf hash");
    }
  }
  return "";
}

// Checks the recomputed root at a signed size; names the damage if it differs.
bool CheckRoot(Index* index, const rocksdb::ReadOptions& ro, uint64_t verified_upto, uint64_t size,
               const Digest& want, const Digest& got, absl::string_view what, Verifier* v) {
  if (want == got) return true;
  std::string changed = NameChangedEvent(index, ro, verified_upto, size);
  if (!changed.empty()) return v->Fail(changed);
  return v->Fail(
      absl::StrCat("the tree recomputed from events 0..", size - 1, " does not match ", what));
}

}  // namespace

v1::AuditVerifyNodeResponse AuditLog::VerifyAll(const std::string& since, uint64_t from) {
  absl::Time start = absl::Now();
  Verifier v;
  rocksdb::ReadOptions ro;
  ro.snapshot = index_->db()->GetSnapshot();
  ro.readahead_size = 4 << 20;
  ro.fill_cache = false;
  if (LoadCheckpoints(index_, ro, key_.public_raw(), since, &v)) VerifyEvents(ro, from, &v);
  index_->db()->ReleaseSnapshot(ro.snapshot);
  v1::AuditVerifyNodeResponse resp;
  resp.set_verified_from(from);
  if (v.problem.empty()) resp.set_verified_checkpoint(v.verified_checkpoint);
  resp.set_ok(v.problem.empty());
  resp.set_first_problem(v.problem);
  resp.set_events(v.events);
  resp.set_checkpoints(v.checkpoints.size());
  resp.set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  return resp;
}

namespace {

constexpr uint64_t kUnitEvents = uint64_t{1} << 16;  // a perfect, aligned subtree

// What one thread found in events [begin, end): the unit's own range, its
// partial right edge at each checkpoint size inside it, its first problem.
struct Unit {
  uint64_t begin = 0, end = 0;
  merkle::CompactRange range;
  std::vector<std::pair<uint64_t, std::vector<std::pair<int, Digest>>>> at_checkpoints;
  std::string problem;
};

// A unit's events must be at their positions and say so; the group where
// the unit ends must be followed by one that starts where it ends.
void VerifyUnit(Index* index, const rocksdb::ReadOptions& ro,
                const std::map<uint64_t, Checkpoint>& checkpoints, Unit* u) {
  EventCursor ev(index, ro);
  auto cp = checkpoints.upper_bound(u->begin);
  ev.Seek(u->begin);
  for (uint64_t want = u->begin; want < u->end; ++want, ev.Next()) {
    if (!ev.Valid()) {
      u->problem = ev.problem().empty()
                       ? absl::StrCat("event ", want, " is missing: the log ends there")
                       : ev.problem();
      return;
    }
    absl::string_view bytes = ev.event();
    uint64_t says = 0;
    if (!EventSeq(bytes, &says) || says != want) {
      u->problem = absl::StrCat("event ", want,
                                " is missing or out of place: the event stored "
                                "at its position says it is event ",
                                says);
      return;
    }
    u->range.Append(merkle::HashLeaf(bytes), [](int, uint64_t, const Digest&) {});
    for (; cp != checkpoints.end() && cp->first == want + 1; ++cp) {
      u->at_checkpoints.emplace_back(cp->first, u->range.Subtrees());
    }
  }
  ev.NextGroup();
  u->problem = ev.problem();
}

// Verifies units of events [begin, n) of the log on both cores; `begin` is a
// multiple of kUnitEvents.
std::vector<Unit> VerifyUnits(Index* index, const rocksdb::ReadOptions& ro,
                              const std::map<uint64_t, Checkpoint>& checkpoints, uint64_t begin,
                              uint64_t n) {
  std::vector<Unit> units(n > begin ? (n - begin + kUnitEvents - 1) / kUnitEvents : 0);
  for (size_t i = 0; i < units.size(); ++i) {
    units[i].begin = begin + i * kUnitEvents;
    units[i].end = std::min(n, begin + (i + 1) * kUnitEvents);
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < units.size(); i = next++) {
      VerifyUnit(index, ro, checkpoints, &units[i]);
    }
  };
  std::thread helper(work);
  work();
  helper.join();
  return units;
}

}  // namespace

// Every event must be where its seq says, and the tree recomputed from them
// must give every signed root and the stored right edge. Units of 65536
// events are read and hashed on two threads, then joined in order.
void AuditLog::VerifyEvents(const rocksdb::ReadOptions& ro, uint64_t from,
                            Verification* verification) {
  Verifier& v = *verification;
  std::string raw;
  index_->db()->Get(ro, index_->tree(), "range", &raw);
  absl::StatusOr<merkle::CompactRange> stored =
      raw.empty() ? merkle::CompactRange() : merkle::CompactRange::Parse(raw);
  if (!stored.ok()) {
    v.Fail("the log's stored right edge is damaged");
    return;
  }
  merkle::CompactRange joined;
  uint64_t verified_upto = 0;
  if (from > 0) {
    if (!StartAt(ro, from, &joined, &v)) return;
    verified_upto = from;
    v.events = joined.size();
  }
  // Up to the next whole unit one by one, then whole units on both cores.
  const uint64_t aligned =
      std::min(stored->size(), (from + kUnitEvents - 1) / kUnitEvents * kUnitEvents);
  if (from < aligned && !VerifyHead(ro, from, aligned, &joined, &verified_upto, &v)) return;
  std::vector<Unit> units =
      VerifyUnits(index_, ro, v.checkpoints, std::max(from, aligned), stored->size());
  for (const Unit& u : units) {
    for (const auto& [size, subtrees] : u.at_checkpoints) {
      merkle::CompactRange at = joined;
      for (const auto& [level, h] : subtrees) at.AppendSubtree(level, h).IgnoreError();
      if (!CheckRoot(index_, ro, verified_upto, size, v.checkpoints[size].root, at.Root(),
                     absl::StrCat("the signed checkpoint of size ", size), &v)) {
        return;
      }
      verified_upto = size;
    }
    if (!u.problem.empty()) {
      v.Fail(u.problem);
      return;
    }
    for (const auto& [level, h] : u.range.Subtrees()) joined.AppendSubtree(level, h).IgnoreError();
    v.events = joined.size();
  }
  FinishVerify(ro, *stored, joined, verified_upto, &v);
  if (v.problem.empty()) v.verified_checkpoint = verified_upto;
}

bool AuditLog::StartAt(const rocksdb::ReadOptions& ro, uint64_t from, merkle::CompactRange* range,
                       Verification* v) {
  auto signed_at = v->checkpoints.find(from);
  if (signed_at == v->checkpoints.end()) {
    return v->Fail(absl::StrCat("this node signed no checkpoint at tree size ", from,
                                ", so verification cannot start there"));
  }
  uint64_t at = 0;
  for (int level = 63; level >= 0; --level) {
    if ((from & (uint64_t{1} << level)) == 0) continue;
    std::string raw;
    rocksdb::Status got =
        index_->db()->Get(ro, index_->tree(), TreeNodeKey(level, at >> level), &raw);
    absl::StatusOr<Digest> h =
        got.ok() ? Digest::FromRaw(raw) : absl::StatusOr<Digest>(FromRocksStatus(got, "tree node"));
    if (!h.ok() || !range->AppendSubtree(level, *h).ok()) {
      return v->Fail(absl::StrCat("the stored tree below the checkpoint of size ", from,
                                  " is damaged: ", h.status().message()));
    }
    at += uint64_t{1} << level;
  }
  if (range->Root() != signed_at->second.root) {
    return v->Fail(absl::StrCat("the stored tree does not give the root the node signed at size ",
                                from, ": verify the whole log (without --since)"));
  }
  return true;
}

bool AuditLog::VerifyHead(const rocksdb::ReadOptions& ro, uint64_t from, uint64_t to,
                          merkle::CompactRange* joined, uint64_t* verified_upto, Verification* v) {
  EventCursor ev(index_, ro);
  ev.Seek(from);
  for (uint64_t want = from; want < to; ++want, ev.Next()) {
    uint64_t says = 0;
    if (!ev.Valid() || !EventSeq(ev.event(), &says) || says != want) {
      return v->Fail(!ev.problem().empty()
                         ? ev.problem()
                         : absl::StrCat("event ", want, " is missing or out of place"));
    }
    joined->Append(merkle::HashLeaf(ev.event()), [](int, uint64_t, const Digest&) {});
    auto cp = v->checkpoints.find(want + 1);
    if (cp == v->checkpoints.end()) continue;
    if (!CheckRoot(index_, ro, *verified_upto, want + 1, cp->second.root, joined->Root(),
                   absl::StrCat("the signed checkpoint of size ", want + 1), v)) {
      return false;
    }
    *verified_upto = want + 1;
  }
  ev.NextGroup();
  if (!ev.problem().empty()) return v->Fail(ev.problem());
  v->events = joined->size();
  return true;
}

namespace {

// What the node signs when it remembers a verification: its log and the size.
std::string VerifiedStatement(const std::string& origin, uint64_t size) {
  return absl::StrCat("custody verified-upto\n", origin, "\n", size, "\n");
}

}  // namespace

absl::StatusOr<uint64_t> AuditLog::LastVerified() {
  std::string v;
  rocksdb::Status s =
      index_->db()->Get(rocksdb::ReadOptions(), index_->checkpoints(), kVerifiedKey, &v);
  if (s.IsNotFound()) return 0;
  RETURN_IF_ERROR(FromRocksStatus(s, "reading the last verified checkpoint"));
  const uint64_t size = v.size() > 8 ? absl::big_endian::Load64(v.data()) : 0;
  if (v.size() <= 8 ||
      !Ed25519Verify(key_.public_raw(), VerifiedStatement(origin_, size), v.substr(8)).ok()) {
    return absl::DataLossError(
        "the node's record of its last verification is not signed by its key: verify the whole "
        "log (audit verify-node without --since-last-verified)");
  }
  return size;
}

absl::Status AuditLog::RememberVerified(rocksdb::WriteBatch* batch, uint64_t size) {
  ASSIGN_OR_RETURN(std::string signature, key_.Sign(VerifiedStatement(origin_, size)));
  char b[8];
  absl::big_endian::Store64(b, size);
  batch->Put(index_->checkpoints(), kVerifiedKey, std::string(b, 8) + signature);
  return absl::OkStatus();
}

void AuditLog::ForgetVerified(rocksdb::WriteBatch* batch) {
  batch->Delete(index_->checkpoints(), kVerifiedKey);
}

// After the last unit: no signed checkpoint beyond the log, no event beyond
// its recorded size, and the recomputed tree equals the stored right edge.
void AuditLog::FinishVerify(const rocksdb::ReadOptions& ro, const merkle::CompactRange& stored,
                            const merkle::CompactRange& joined, uint64_t verified_upto,
                            Verification* v) {
  auto beyond = v->checkpoints.upper_bound(joined.size());
  if (beyond != v->checkpoints.end()) {
    v->Fail(absl::StrCat("the log holds ", joined.size(),
                         " events but a signed checkpoint "
                         "covers ",
                         beyond->first, ": events were cut off its end"));
    return;
  }
  EventCursor extra(index_, ro);
  extra.Seek(joined.size());
  if (extra.Valid()) {
    v->Fail(absl::StrCat("events are stored beyond the log's recorded size of ", joined.size()));
    return;
  }
  CheckRoot(index_, ro, verified_upto, joined.size(), stored.Root(), joined.Root(),
            "the tree's stored right edge", v);
}

}  // namespace custody
