#include "server/security/ledger_fold.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/progress_log.h"
#include "common/status_macros.h"
#include "rocksdb/write_batch.h"
#include "server/security/decisions.h"
#include "server/storage/index.h"

namespace custody {

namespace {

constexpr char kVersionKey[] = "v";
constexpr size_t kOrderKeySize = 8 + Digest::kSize;

std::string EntryKey(const std::string& group, const std::string& order) {
  return absl::StrCat("e/", group, std::string(1, '\0'), order);
}

std::string GroupKey(const std::string& group) { return "g/" + group; }

// The least key greater than every key that starts with `prefix`.
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

absl::StatusOr<v1::LedgerEntry> ReadEntry(Index* index, const rocksdb::ReadOptions& ro,
                                          absl::string_view raw_id) {
  std::string bytes;
  rocksdb::Status s =
      index->db()->Get(ro, index->ledger(), rocksdb::Slice(raw_id.data(), raw_id.size()), &bytes);
  if (!s.ok()) return FromRocksStatus(s, "reading a ledger entry the fold indexes");
  v1::LedgerEntry e;
  if (!e.ParseFromString(bytes)) return absl::DataLossError("a ledger entry does not parse");
  return e;
}

absl::Status ScanKeys(Index* index, const rocksdb::ReadOptions& base, const std::string& prefix,
                      const std::string& after,
                      const std::function<bool(const std::string&, const std::string&)>& fn) {
  rocksdb::ReadOptions ro = base;
  const std::string end = PrefixEnd(prefix);
  rocksdb::Slice upper(end);
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(index->db()->NewIterator(ro, index->fold()));
  const std::string start = prefix + after;
  for (it->Seek(start); it->Valid(); it->Next()) {
    if (!after.empty() && it->key() == rocksdb::Slice(start)) continue;
    if (!it->key().starts_with(prefix)) break;
    std::string k = it->key().ToString().substr(prefix.size());
    if (!fn(k, it->value().ToString())) break;
  }
  return FromRocksStatus(it->status(), "scanning the ledger fold");
}

// Reads the group of an entry key "e/<group>\0<order key>".
bool SplitEntryKey(const std::string& key, std::string* group, std::string* order) {
  if (key.size() < 3 + kOrderKeySize || key.compare(0, 2, "e/") != 0) return false;
  *order = key.substr(key.size() - kOrderKeySize);
  *group = key.substr(2, key.size() - kOrderKeySize - 3);
  return true;
}

// Whether `s` is the rules refusing an entry (noted in its group) rather
// than a failure to read what they needed (which fails the fold, and the
// store of the entry with it, so that it is tried again).
bool IsRefusal(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnauthenticated:
      return true;
    default:
      return false;
  }
}

// Applies `e` to `g` under `rules`; a replayed statement counts nothing, a
// refusal is noted in the group.
absl::Status ApplyEntry(const FoldRules& rules, const Digest& id, const std::string& order,
                        const v1::LedgerEntry& e, FoldReader* reader, internal::v1::FoldGroup* g) {
  if (g->last_key() < order) g->set_last_key(order);
  const std::string statement = DecisionVerifier::StatementId(e);
  if (!statement.empty()) {
    for (const std::string& s : g->statements()) {
      if (s == statement) return absl::OkStatus();
    }
    g->add_statements(statement);
  }
  absl::Status s = rules.Apply(id, order, e, reader, g);
  if (s.ok()) return s;
  if (!IsRefusal(s)) return s;
  internal::v1::FoldGroup::Refusal* r = g->add_refused();
  r->set_entry(id.Hex());
  r->set_why(std::string(s.message()));
  return absl::OkStatus();
}

}  // namespace

std::string BigEndian(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

std::string TimeKey(int64_t unix_nanos) {
  return BigEndian(static_cast<uint64_t>(unix_nanos) ^ (uint64_t{1} << 63));
}

std::string OrderKey(int64_t order_unix_nanos, const Digest& id) {
  return TimeKey(order_unix_nanos) + std::string(id.Raw());
}

// ---- FoldSnapshot

FoldSnapshot::FoldSnapshot(Index* index) : index_(index), snapshot_(index->db()->GetSnapshot()) {}
FoldSnapshot::~FoldSnapshot() { index_->db()->ReleaseSnapshot(snapshot_); }

absl::StatusOr<std::optional<std::string>> FoldSnapshot::Get(const std::string& key) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  std::string v;
  rocksdb::Status s = index_->db()->Get(ro, index_->fold(), key, &v);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocksStatus(s, "reading the ledger fold");
  return v;
}

absl::StatusOr<std::optional<internal::v1::FoldGroup>> FoldSnapshot::Group(
    const std::string& name) const {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, Get(GroupKey(name)));
  if (!bytes) return std::nullopt;
  internal::v1::FoldGroup g;
  if (!g.ParseFromString(*bytes)) return absl::DataLossError("a fold group does not parse");
  return g;
}

absl::Status FoldSnapshot::Scan(
    const std::string& prefix, const std::string& after,
    const std::function<bool(const std::string&, const std::string&)>& fn) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  return ScanKeys(index_, ro, prefix, after, fn);
}

absl::StatusOr<std::optional<std::string>> FoldSnapshot::Last(const std::string& prefix) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  std::unique_ptr<rocksdb::Iterator> it(index_->db()->NewIterator(ro, index_->fold()));
  const std::string end = PrefixEnd(prefix);
  if (end.empty()) {
    it->SeekToLast();
  } else {
    it->SeekForPrev(end);
    if (it->Valid() && it->key() == rocksdb::Slice(end)) it->Prev();
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading the ledger fold"));
  if (!it->Valid() || !it->key().starts_with(prefix)) return std::nullopt;
  return it->value().ToString();
}

absl::Status FoldSnapshot::ForEachEntry(
    const std::string& prefix,
    const std::function<void(const std::string&, const Digest&, const v1::LedgerEntry&)>& fn)
    const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  absl::Status failed;
  RETURN_IF_ERROR(Scan("e/" + prefix, "", [&](const std::string& rest, const std::string&) {
    std::string group, order;
    if (!SplitEntryKey("e/" + prefix + rest, &group, &order)) return true;
    absl::StatusOr<v1::LedgerEntry> e = ReadEntry(index_, ro, order.substr(8));
    absl::StatusOr<Digest> id = Digest::FromRaw(order.substr(8));
    if (!e.ok() || !id.ok()) {
      failed = e.ok() ? id.status() : e.status();
      return false;
    }
    fn(group, *id, *e);
    return true;
  }));
  return failed;
}

// ---- one batch of fold writes

// The groups and keys a Stage (or a step of a rebuild) writes, read back
// before they are committed. Reads fall through to the database as it is.
class LedgerFold::Batch : public FoldReader {
 public:
  explicit Batch(const LedgerFold* fold) : fold_(fold), base_(fold->Snapshot()) {}

  absl::StatusOr<std::optional<internal::v1::FoldGroup>> Group(const std::string& name) override {
    auto it = groups_.find(name);
    if (it != groups_.end()) return it->second;
    return base_->Group(name);
  }
  // Keys as they were when the batch began.
  absl::Status Scan(
      const std::string& prefix,
      const std::function<void(const std::string&, const std::string&)>& fn) override {
    return base_->Scan(prefix, "", [&](const std::string& k, const std::string& v) {
      fn(prefix + k, v);
      return true;
    });
  }

  void Put(const std::string& key, std::string value) { writes_[key] = std::move(value); }
  void Delete(const std::string& key) { writes_[key] = std::nullopt; }

  // Folds `group` again from its entries, with `extra` (an entry not yet
  // stored) among them, and writes it.
  absl::Status Refold(const std::string& group, const FoldRules& rules,
                      const std::pair<std::string, const v1::LedgerEntry*>& extra) {
    std::vector<std::string> orders;
    RETURN_IF_ERROR(
        base_->Scan(EntryKey(group, ""), "", [&](const std::string& order, const std::string&) {
          orders.push_back(order);
          return true;
        }));
    if (extra.second != nullptr) orders.push_back(extra.first);
    std::sort(orders.begin(), orders.end());
    orders.erase(std::unique(orders.begin(), orders.end()), orders.end());
    internal::v1::FoldGroup g;
    for (const std::string& order : orders) {
      ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(order.substr(8)));
      if (extra.second != nullptr && order == extra.first) {
        RETURN_IF_ERROR(ApplyEntry(rules, id, order, *extra.second, this, &g));
        continue;
      }
      ASSIGN_OR_RETURN(v1::LedgerEntry e, ReadEntry(fold_->index_, {}, order.substr(8)));
      RETURN_IF_ERROR(ApplyEntry(rules, id, order, e, this, &g));
    }
    return Replace(group, rules, std::move(g));
  }

  // Applies a new entry to its group: on top when it is the latest,
  // otherwise by refolding the group.
  absl::Status Add(const std::string& group, const FoldRules& rules, const Digest& id,
                   const std::string& order, const v1::LedgerEntry& e) {
    Put(EntryKey(group, order), "");
    ASSIGN_OR_RETURN(std::optional<internal::v1::FoldGroup> old, Group(group));
    if (!old || old->last_key() < order) {
      internal::v1::FoldGroup g = old ? std::move(*old) : internal::v1::FoldGroup();
      RETURN_IF_ERROR(ApplyEntry(rules, id, order, e, this, &g));
      return Replace(group, rules, std::move(g));
    }
    return Refold(group, rules, {order, &e});
  }

  // Writes `next` as the state of `group`, its derived keys in step, then
  // refolds the groups that depend on it.
  absl::Status Replace(const std::string& group, const FoldRules& rules,
                       internal::v1::FoldGroup next) {
    ASSIGN_OR_RETURN(std::optional<internal::v1::FoldGroup> old, Group(group));
    const internal::v1::FoldGroup before = old ? std::move(*old) : internal::v1::FoldGroup();
    std::map<std::string, std::string> was, is;
    rules.Derived(group, before, &was);
    rules.Derived(group, next, &is);
    for (const auto& [k, v] : was) {
      if (is.count(k) == 0) Delete(k);
    }
    for (const auto& [k, v] : is) {
      auto w = was.find(k);
      if (w == was.end() || w->second != v) Put(k, v);
    }
    Put(GroupKey(group), next.SerializeAsString());
    groups_[group] = next;
    ASSIGN_OR_RETURN(std::vector<std::string> dependents,
                     rules.Dependents(group, before, next, this));
    for (const std::string& d : dependents) {
      const FoldRules* r = fold_->RulesOf(d);
      if (r != nullptr) RETURN_IF_ERROR(Refold(d, *r, {"", nullptr}));
    }
    return absl::OkStatus();
  }

  FoldOps TakeOps() {
    FoldOps ops(std::make_move_iterator(writes_.begin()), std::make_move_iterator(writes_.end()));
    writes_.clear();
    groups_.clear();
    return ops;
  }
  size_t size() const { return writes_.size(); }

 private:
  const LedgerFold* fold_;
  std::shared_ptr<const FoldSnapshot> base_;
  std::map<std::string, std::optional<std::string>> writes_;
  std::map<std::string, internal::v1::FoldGroup> groups_;
};

// ---- LedgerFold

LedgerFold::LedgerFold(Index* index) : index_(index) {}
LedgerFold::~LedgerFold() = default;

void LedgerFold::AddRules(const FoldRules* rules) {
  rules_.push_back(rules);
  for (const std::string& p : rules->Prefixes()) rules_by_prefix_[p] = rules;
}

const FoldRules* LedgerFold::RulesOf(const std::string& group) const {
  auto it = rules_by_prefix_.find(group.substr(0, group.find(':') + 1));
  return it == rules_by_prefix_.end() ? nullptr : it->second;
}

std::shared_ptr<const FoldSnapshot> LedgerFold::Snapshot() const {
  return std::make_shared<const FoldSnapshot>(index_);
}

void LedgerFold::Write(const FoldOps& ops, rocksdb::WriteBatch* batch) const {
  for (const auto& [k, v] : ops) {
    if (v) {
      batch->Put(index_->fold(), k, *v);
    } else {
      batch->Delete(index_->fold(), k);
    }
  }
}

absl::Status LedgerFold::Stage(const Digest& id, const v1::LedgerEntry& e, FoldOps* ops) {
  for (const FoldRules* rules : rules_) {
    const std::string group = rules->GroupOf(id, e);
    if (group.empty()) continue;
    Batch b(this);
    RETURN_IF_ERROR(b.Add(group, *rules, id, OrderKey(OrderOf(e), id), e));
    *ops = b.TakeOps();
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, internal::v1::FoldGroup>> LedgerFold::Replay() {
  struct Item {
    std::string order, group;
    const FoldRules* rules;
    v1::LedgerEntry entry;
  };
  std::vector<Item> items;
  std::unique_ptr<rocksdb::Iterator> it(
      index_->db()->NewIterator(rocksdb::ReadOptions(), index_->ledger()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(it->key().ToString()));
    v1::LedgerEntry e;
    if (!e.ParseFromString(it->value().ToString())) return absl::DataLossError("bad entry");
    for (const FoldRules* rules : rules_) {
      std::string group = rules->GroupOf(id, e);
      if (group.empty()) continue;
      items.push_back({OrderKey(OrderOf(e), id), group, rules, std::move(e)});
      break;
    }
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "scanning the ledger"));
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.order < b.order; });
  // A reader over the groups replayed so far.
  class Memory : public FoldReader {
   public:
    std::map<std::string, internal::v1::FoldGroup> groups;
    absl::StatusOr<std::optional<internal::v1::FoldGroup>> Group(const std::string& name) override {
      auto it = groups.find(name);
      if (it == groups.end()) return std::nullopt;
      return it->second;
    }
    absl::Status Scan(const std::string&,
                      const std::function<void(const std::string&, const std::string&)>&) override {
      return absl::UnimplementedError("a replay has no derived keys");
    }
  } memory;
  for (const Item& item : items) {
    ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(item.order.substr(8)));
    // Rules read other groups through `memory`: the state so far in time.
    internal::v1::FoldGroup g = memory.groups[item.group];
    RETURN_IF_ERROR(ApplyEntry(*item.rules, id, item.order, item.entry, &memory, &g));
    memory.groups[item.group] = std::move(g);
  }
  return std::move(memory.groups);
}

absl::Status LedgerFold::Open(const std::string& version) {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, Snapshot()->Get(kVersionKey));
  if (stored && *stored == version) return absl::OkStatus();
  LOG(INFO) << "ledger fold: " << (stored ? "made under another version" : "none yet")
            << "; rebuilding it from the ledger";
  return Rebuild(version);
}

namespace {

constexpr size_t kRebuildBatch = 20000;  // writes per commit

}  // namespace

absl::Status LedgerFold::Rebuild(const std::string& version) {
  rocksdb::WriteBatch batch;
  auto flush = [&](bool always) -> absl::Status {
    if (!always && static_cast<size_t>(batch.Count()) < kRebuildBatch) return absl::OkStatus();
    RETURN_IF_ERROR(index_->Commit(&batch));
    batch.Clear();
    return absl::OkStatus();
  };
  // 1. Forget the old fold: its version first, so that a stop in the middle
  // never leaves a half-cleared fold that a start takes as current.
  bool cleared = false;
  batch.Delete(index_->fold(), kVersionKey);
  RETURN_IF_ERROR(flush(true));
  {
    std::unique_ptr<rocksdb::Iterator> it(
        index_->db()->NewIterator(rocksdb::ReadOptions(), index_->fold()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      batch.Delete(index_->fold(), it->key());
      cleared = true;
      RETURN_IF_ERROR(flush(false));
    }
    RETURN_IF_ERROR(FromRocksStatus(it->status(), "clearing the ledger fold"));
    RETURN_IF_ERROR(flush(true));
  }
  // 2. Index every entry under its group.
  ProgressLog indexed("ledger fold rebuild: entries indexed");
  uint64_t entries = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        index_->db()->NewIterator(rocksdb::ReadOptions(), index_->ledger()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(it->key().ToString()));
      v1::LedgerEntry e;
      if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("ledger entry ", id.ToString(), " does not parse"));
      }
      for (const FoldRules* rules : rules_) {
        const std::string group = rules->GroupOf(id, e);
        if (group.empty()) continue;
        batch.Put(index_->fold(), EntryKey(group, OrderKey(OrderOf(e), id)), "");
        break;
      }
      indexed.Step(++entries);
      RETURN_IF_ERROR(flush(false));
    }
    RETURN_IF_ERROR(FromRocksStatus(it->status(), "indexing the ledger"));
    RETURN_IF_ERROR(flush(true));
    indexed.Done();
  }
  // 3. Fold each group: users first, since access requests read them.
  ProgressLog folded("ledger fold rebuild: groups folded");
  uint64_t groups = 0;
  for (const bool users : {true, false}) {
    auto pending = std::make_unique<Batch>(this);
    absl::Status failed;
    auto fold = [&](const std::string& group) -> absl::Status {
      const FoldRules* rules = RulesOf(group);
      if (rules == nullptr || (!users && absl::StartsWith(group, "user:"))) {
        return absl::OkStatus();
      }
      RETURN_IF_ERROR(pending->Refold(group, *rules, {"", nullptr}));
      folded.Step(++groups);
      if (pending->size() < kRebuildBatch) return absl::OkStatus();
      Write(pending->TakeOps(), &batch);
      RETURN_IF_ERROR(flush(true));
      pending = std::make_unique<Batch>(this);
      return absl::OkStatus();
    };
    const std::string prefix = users ? "e/user:" : "e/";
    std::string current;
    RETURN_IF_ERROR(Snapshot()->Scan(prefix, "", [&](const std::string& rest, const std::string&) {
      std::string group, order;
      if (!SplitEntryKey(prefix + rest, &group, &order) || group == current) return true;
      if (!current.empty()) failed = fold(current);
      current = group;
      return failed.ok();
    }));
    RETURN_IF_ERROR(failed);
    if (!current.empty()) RETURN_IF_ERROR(fold(current));
    Write(pending->TakeOps(), &batch);
    RETURN_IF_ERROR(flush(true));
  }
  folded.Done();
  batch.Put(index_->fold(), kVersionKey, version);
  RETURN_IF_ERROR(flush(true));
  if (cleared) {
    rocksdb::CompactRangeOptions o;
    RETURN_IF_ERROR(FromRocksStatus(index_->db()->CompactRange(o, index_->fold(), nullptr, nullptr),
                                    "compacting the ledger fold"));
  }
  return absl::OkStatus();
}

}  // namespace custody
