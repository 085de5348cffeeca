#include "replication/cluster/anti_entropy.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/audit/audited_write.h"
#include "server/security/ledger.h"
#include "server/storage/index.h"
#include "server/storage/node_metrics.h"

namespace custody {

namespace {

constexpr size_t kBatch = 512;      // keys per FindMissing call
constexpr int kMaxErrorsKept = 20;  // per round report

const char* KindName(internal::v1::BlobKind kind) {
  return kind == internal::v1::CHUNK      ? "chunk"
         : kind == internal::v1::MANIFEST ? "manifest"
                                          : "ledger entry";
}

std::string DeliveredKey(internal::v1::BlobKind kind, const Digest& key) {
  return absl::StrCat("handoff-delivered/", kind == internal::v1::CHUNK ? "c/" : "m/", key.Raw());
}

void AddError(v1::RepairReport* report, std::string error) {
  if (report->errors_size() < kMaxErrorsKept) report->add_errors(std::move(error));
}

}  // namespace

// What one round knows about one kind of key.
struct AntiEntropy::KindRound {
  internal::v1::BlobKind kind;
  std::map<std::string, BucketTable> tables;  // per peer: keys both should hold
  uint64_t held = 0;
  uint64_t handoffs = 0;  // held here though this node is not a home
};

AntiEntropy::AntiEntropy(AntiEntropyDeps deps, AntiEntropyOptions options)
    : d_(std::move(deps)),
      placement_(d_.placement),
      options_(options),
      loop_([this] { return Round(); },
            [interval = options.interval](
                const std::optional<v1::RepairReport>&) -> std::optional<absl::Time> {
              if (interval <= absl::ZeroDuration()) return std::nullopt;
              return absl::Now() + interval;
            }),
      estimates_([this] { return Estimate(); },
                 [interval = options.estimate_interval](
                     const std::optional<v1::UnderReplication>& last) -> std::optional<absl::Time> {
                   if (interval <= absl::ZeroDuration()) return std::nullopt;
                   return absl::Now() + (last ? interval : absl::Seconds(1));  // soon at start
                 }) {}

AntiEntropy::~AntiEntropy() { Stop(); }

v1::RepairReport AntiEntropy::RunNow() {
  std::optional<v1::RepairReport> r = loop_.RunNow();
  if (r) return *r;
  v1::RepairReport stopped;
  stopped.set_node_id(placement_->self());
  stopped.add_errors("the node is stopping");
  return stopped;
}

v1::RepairReport AntiEntropy::Round() {
  v1::RepairReport report;
  report.set_node_id(placement_->self());
  report.set_started_unix_nanos(absl::ToUnixNanos(absl::Now()));
  RoundKind(internal::v1::CHUNK, &report);  // chunks first: a manifest arrives after its chunks
  RoundKind(internal::v1::MANIFEST, &report);
  RoundKind(internal::v1::LEDGER, &report);
  report.set_finished_unix_nanos(absl::ToUnixNanos(absl::Now()));
  under_replicated_.store(report.under_replicated());
  d_.metrics->RepairRoundDone(report);
  if (report.chunks_pushed() + report.manifests_pushed() > 0) {
    v1::AuditEvent e = NewEvent("repair.round", "node", "custodyd");
    AddDetail(&e, "chunks_pushed", absl::StrCat(report.chunks_pushed()));
    AddDetail(&e, "manifests_pushed", absl::StrCat(report.manifests_pushed()));
    AddDetail(&e, "bytes_pushed", absl::StrCat(report.bytes_pushed()));
    AddDetail(&e, "under_replicated", absl::StrCat(report.under_replicated()));
    absl::Status s = d_.trail->Record(std::move(e));
    if (!s.ok()) LOG(ERROR) << "recording an anti-entropy round: " << s;
  }
  return report;
}

void AntiEntropy::RoundKind(internal::v1::BlobKind kind, v1::RepairReport* report) {
  KindRound k{kind, {}, 0, 0};
  const ClusterMap& map = placement_->map();
  const std::string& self = placement_->self();
  absl::Status scan = ForEachKey(kind, -1, [&](const Digest& key) {
    ++k.held;
    std::vector<const NodeInfo*> homes = Homes(kind, key);
    if (!IsHome(homes, self)) {
      ++k.handoffs;
      return true;
    }
    for (const NodeInfo* h : homes) {
      if (h->id != self) k.tables[h->id].Add(key);
    }
    return true;
  });
  report->set_keys_held(report->keys_held() + k.held);
  if (!scan.ok()) {
    AddError(report, absl::StrCat("reading this node's ", KindName(kind), "s: ", scan.message()));
    return;
  }
  for (const NodeInfo& peer : map.nodes()) {
    if (peer.id != self) CompareWith(k, peer, report);
  }
  if (k.handoffs > 0) DeliverHandoffs(k, report);
}

// Step 1 with one peer: bucket digests, then FindMissing and copies for the
// buckets that differ.
void AntiEntropy::CompareWith(KindRound& k, const NodeInfo& peer, v1::RepairReport* report) {
  const BucketTable& mine = k.tables[peer.id];
  absl::StatusOr<BucketTable> theirs = placement_->peer(peer.id)->Buckets(k.kind);
  if (!theirs.ok()) {
    AddError(report, absl::StrCat(peer.id, ": ", theirs.status().message()));
    report->set_under_replicated(report->under_replicated() + mine.total());
    return;
  }
  std::vector<int> differing = mine.Differing(*theirs);
  report->set_buckets_compared(report->buckets_compared() + BucketTable::kBuckets);
  report->set_buckets_differing(report->buckets_differing() + differing.size());
  const std::string& self = placement_->self();
  for (int b : differing) {
    std::vector<Digest> shared;
    absl::Status scan = ForEachKey(k.kind, b, [&](const Digest& key) {
      std::vector<const NodeInfo*> homes = Homes(k.kind, key);
      if (IsHome(homes, self) && IsHome(homes, peer.id)) shared.push_back(key);
      return true;
    });
    for (size_t i = 0; scan.ok() && i < shared.size(); i += kBatch) {
      absl::Span<const Digest> batch(shared.data() + i, std::min(kBatch, shared.size() - i));
      absl::StatusOr<std::vector<Digest>> missing =
          placement_->peer(peer.id)->FindMissing(k.kind, batch);
      if (!missing.ok()) {
        scan = missing.status();
        report->set_under_replicated(report->under_replicated() + shared.size() - i);
        break;
      }
      report->set_under_replicated(report->under_replicated() +
                                   Push(k, peer.id, *missing, "anti-entropy", report));
    }
    if (!scan.ok()) {
      AddError(report, absl::StrCat(peer.id, ", bucket ", b, ": ", scan.message()));
      return;
    }
  }
}

// Step 2: copies held here for other nodes go home.
void AntiEntropy::DeliverHandoffs(KindRound& k, v1::RepairReport* report) {
  const std::string& self = placement_->self();
  std::vector<Digest> pending;
  auto flush = [&]() {
    std::map<std::string, std::vector<Digest>> by_home;
    for (const Digest& key : pending) {
      for (const NodeInfo* h : Homes(k.kind, key)) by_home[h->id].push_back(key);
    }
    std::map<Digest, bool> ok;  // key -> every home holds it
    for (const Digest& key : pending) ok[key] = true;
    for (auto& [home, keys] : by_home) {
      absl::StatusOr<std::vector<Digest>> missing =
          placement_->peer(home)->FindMissing(k.kind, keys);
      if (!missing.ok()) {
        AddError(report, absl::StrCat(home, ": ", missing.status().message()));
        for (const Digest& key : keys) ok[key] = false;
        continue;
      }
      if (Push(k, home, *missing, "handoff", report) > 0) {
        // Which ones failed is not known here: check again next round.
        for (const Digest& key : *missing) ok[key] = false;
      }
    }
    rocksdb::WriteBatch marks;
    for (const auto& [key, delivered] : ok) {
      if (delivered)
        marks.Put(d_.index->meta(), DeliveredKey(k.kind, key), "");
      else
        report->set_under_replicated(report->under_replicated() + 1);
    }
    absl::Status s = d_.index->Commit(&marks);
    if (!s.ok()) AddError(report, absl::StrCat("marking handoffs delivered: ", s.message()));
    pending.clear();
  };
  absl::Status scan = ForEachKey(k.kind, -1, [&](const Digest& key) {
    if (IsHome(Homes(k.kind, key), self) || Delivered(k.kind, key)) return true;
    pending.push_back(key);
    if (pending.size() >= kBatch) flush();
    return true;
  });
  if (!pending.empty()) flush();
  if (!scan.ok()) AddError(report, absl::StrCat("handoff copies: ", scan.message()));
}

uint64_t AntiEntropy::Push(KindRound& k, const std::string& peer, const std::vector<Digest>& keys,
                           const std::string& reason, v1::RepairReport* report) {
  PeerClient* to = placement_->peer(peer);
  absl::Mutex mu;
  int in_flight = 0;
  uint64_t failed = 0;
  auto fail = [&](const Digest& key, const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    ++failed;
    AddError(report, absl::StrCat("copying ", KindName(k.kind), " ", key.ToString(), " to ", peer,
                                  ": ", s.message()));
  };
  for (const Digest& key : keys) {
    if (k.kind == internal::v1::LEDGER) {
      absl::StatusOr<std::optional<std::string>> e = d_.ledger->Get(key);
      absl::Status s = !e.ok()           ? e.status()
                       : !e->has_value() ? absl::NotFoundError("no longer held here")
                                         : to->PutLedger(key, **e);
      absl::MutexLock l(&mu);
      if (!s.ok()) fail(key, s);
      continue;
    }
    if (k.kind == internal::v1::MANIFEST) {
      absl::StatusOr<std::optional<std::string>> m = d_.index->GetObject(key);
      absl::Status s = !m.ok()           ? m.status()
                       : !m->has_value() ? absl::NotFoundError("no longer held here")
                                         : to->PutManifest(key, **m, "", /*repair=*/true);
      absl::MutexLock l(&mu);
      if (!s.ok()) {
        fail(key, s);
        continue;
      }
      report->set_manifests_pushed(report->manifests_pushed() + 1);
      v1::AuditEvent e = NewEvent("object.replicated", key.ToString(), "custodyd");
      AddDetail(&e, "to_node", peer);
      AddDetail(&e, "reason", reason);
      s = d_.trail->Record(std::move(e));
      if (!s.ok()) LOG(ERROR) << "recording a copy of " << key.ToString() << ": " << s;
      continue;
    }
    absl::StatusOr<std::string> data = d_.chunks->Get(key);  // verified
    absl::MutexLock l(&mu);
    if (!data.ok()) {
      fail(key, data.status());
      continue;
    }
    auto room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return in_flight < options_.max_in_flight;
    };
    mu.Await(absl::Condition(&room));
    ++in_flight;
    uint64_t size = data->size();
    to->PutChunk(key, std::move(*data), [&, key, size](absl::Status s) {
      absl::MutexLock l(&mu);
      --in_flight;
      if (!s.ok()) {
        fail(key, s);
        return;
      }
      report->set_chunks_pushed(report->chunks_pushed() + 1);
      report->set_bytes_pushed(report->bytes_pushed() + size);
    });
  }
  absl::MutexLock l(&mu);
  auto drained = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return in_flight == 0; };
  mu.Await(absl::Condition(&drained));
  return failed;
}

bool AntiEntropy::Delivered(internal::v1::BlobKind kind, const Digest& key) {
  std::string unused;
  return d_.index->db()
      ->Get(rocksdb::ReadOptions(), d_.index->meta(), DeliveredKey(kind, key), &unused)
      .ok();
}

std::vector<const NodeInfo*> AntiEntropy::Homes(internal::v1::BlobKind kind,
                                                const Digest& key) const {
  const ClusterMap& map = placement_->map();
  if (kind != internal::v1::LEDGER) return HomesOf(map, key);
  std::vector<const NodeInfo*> all;  // ledger entries live on every node
  for (const NodeInfo& n : map.nodes()) all.push_back(&n);
  return all;
}

absl::Status AntiEntropy::ForEachKey(internal::v1::BlobKind kind, int bucket,
                                     const std::function<bool(const Digest&)>& fn) {
  Index* index = d_.index;
  std::unique_ptr<rocksdb::Iterator> it(index->db()->NewIterator(
      rocksdb::ReadOptions(), kind == internal::v1::CHUNK      ? index->chunks()
                              : kind == internal::v1::MANIFEST ? index->objects()
                                                               : index->ledger()));
  if (bucket >= 0) {
    const char first = static_cast<char>(bucket);
    it->Seek(rocksdb::Slice(&first, 1));
  } else {
    it->SeekToFirst();
  }
  for (; it->Valid(); it->Next()) {
    rocksdb::Slice raw = it->key();
    if (raw.size() != Digest::kSize) continue;
    if (bucket >= 0 && static_cast<uint8_t>(raw[0]) != bucket) break;
    absl::StatusOr<Digest> key = Digest::FromRaw(absl::string_view(raw.data(), raw.size()));
    if (key.ok() && !fn(*key)) break;
  }
  return FromRocksStatus(it->status(), "scanning the index");
}

absl::StatusOr<BucketTable> AntiEntropy::TableFor(internal::v1::BlobKind kind,
                                                  const std::string& peer) {
  const ClusterMap& map = placement_->map();
  if (map.Find(peer) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("node ", peer, " is not in the map"));
  }
  if (kind != internal::v1::CHUNK && kind != internal::v1::MANIFEST &&
      kind != internal::v1::LEDGER) {
    return absl::InvalidArgumentError("Buckets needs kind CHUNK, MANIFEST or LEDGER");
  }
  BucketTable table;
  RETURN_IF_ERROR(ForEachKey(kind, -1, [&](const Digest& key) {
    std::vector<const NodeInfo*> homes = Homes(kind, key);
    if (IsHome(homes, placement_->self()) && IsHome(homes, peer)) table.Add(key);
    return true;
  }));
  return table;
}

}  // namespace custody
