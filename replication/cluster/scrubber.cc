#include "replication/cluster/scrubber.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/files.h"
#include "common/log.h"
#include "server/audit/audited_write.h"
#include "server/storage/chunk_io.h"
#include "server/storage/committer.h"
#include "server/storage/index.h"
#include "server/storage/manifest_scan.h"
#include "server/storage/node_metrics.h"
#include "server/storage/volume_set.h"

namespace custody {

namespace {

constexpr char kLastScrubKey[] = "scrub/last";

}  // namespace

Scrubber::Scrubber(ScrubberDeps deps, ScrubOptions options)
    : d_(std::move(deps)),
      placement_(d_.placement),
      options_(options),
      loop_([this] { return PassAndSave(); },
            [interval = options.interval](
                const std::optional<v1::ScrubReport>& last) -> std::optional<absl::Time> {
              if (interval <= absl::ZeroDuration()) return std::nullopt;
              if (!last) return absl::Now() + interval;
              return absl::FromUnixNanos(last->finished_unix_nanos()) + interval;
            }) {}

Scrubber::~Scrubber() { Stop(); }

void Scrubber::Start() {
  std::string bytes;
  v1::ScrubReport saved;
  rocksdb::Status s =
      d_.index->db()->Get(rocksdb::ReadOptions(), d_.index->meta(), kLastScrubKey, &bytes);
  if (s.ok() && saved.ParseFromString(bytes)) return loop_.Start(saved);
  loop_.Start();
}

v1::ScrubReport Scrubber::RunNow() {
  std::optional<v1::ScrubReport> r = loop_.RunNow();
  if (r) return *r;
  v1::ScrubReport stopped;
  stopped.set_node_id(d_.node_id);
  stopped.add_errors("the node is stopping");
  return stopped;
}

v1::ScrubReport Scrubber::PassAndSave() {
  v1::ScrubReport report = Pass();
  rocksdb::WriteBatch b;
  b.Put(d_.index->meta(), kLastScrubKey, report.SerializeAsString());
  absl::Status s = d_.index->Commit(&b);
  if (!s.ok()) LOG(ERROR) << "saving the scrub report: " << s;
  return report;
}

v1::ScrubReport Scrubber::Pass() {
  v1::ScrubReport report;
  report.set_node_id(d_.node_id);
  report.set_rate_mb_per_s(options_.rate_mb_per_s);
  const absl::Time start = absl::Now();
  report.set_started_unix_nanos(absl::ToUnixNanos(start));
  Index* index = d_.index;
  std::unique_ptr<rocksdb::Iterator> it(
      index->db()->NewIterator(rocksdb::ReadOptions(), index->chunks()));
  for (it->SeekToFirst(); it->Valid() && !loop_.stopping(); it->Next()) {
    absl::StatusOr<Digest> key =
        Digest::FromRaw(absl::string_view(it->key().data(), it->key().size()));
    absl::StatusOr<Location> loc =
        Location::Decode(absl::string_view(it->value().data(), it->value().size()));
    if (!key.ok() || !loc.ok()) continue;
    CheckChunk(*key, *loc, &report);
    // The bound: never ahead of rate x elapsed time.
    absl::Duration ahead =
        absl::Seconds(static_cast<double>(report.bytes()) / (options_.rate_mb_per_s * 1e6)) -
        (absl::Now() - start);
    while (ahead > absl::ZeroDuration() && !loop_.stopping()) {
      absl::SleepFor(std::min(ahead, absl::Milliseconds(100)));
      ahead -= absl::Milliseconds(100);
    }
  }
  if (!it->status().ok()) report.add_errors(absl::StrCat("index: ", it->status().ToString()));
  report.set_finished_unix_nanos(absl::ToUnixNanos(absl::Now()));
  v1::AuditEvent e = NewEvent("scrub.finished", "node", "custodyd");
  AddDetail(&e, "chunks", absl::StrCat(report.chunks()));
  AddDetail(&e, "bytes", absl::StrCat(report.bytes()));
  AddDetail(&e, "corrupt", absl::StrCat(report.corrupt()));
  AddDetail(&e, "repaired", absl::StrCat(report.repaired()));
  absl::Status s = d_.trail->Record(std::move(e));
  if (!s.ok()) LOG(ERROR) << "recording a scrub pass: " << s;
  return report;
}

void Scrubber::CheckChunk(const Digest& key, const Location& loc, v1::ScrubReport* report) {
  report->set_chunks(report->chunks() + 1);
  report->set_bytes(report->bytes() + loc.length);
  d_.metrics->Scrubbed(loc.length);
  absl::StatusOr<std::string> data = ReadChunk(*d_.volumes, loc, key, d_.sealer);
  if (data.ok() && Digest::Of(*data) == key) return;
  HandleCorrupt(
      key, loc,
      data.ok() ? "its bytes do not hash to its name" : std::string(data.status().message()),
      report);
}

void Scrubber::HandleCorrupt(const Digest& key, const Location& loc, const std::string& why,
                             v1::ScrubReport* report) {
  report->set_corrupt(report->corrupt() + 1);
  d_.metrics->CorruptChunkFound();
  LOG(WARNING) << "scrub: chunk " << key.ToString() << " in volume " << loc.volume << " at "
               << loc.offset << " is corrupt: " << why;
  absl::Status q = Quarantine(key, loc, why);
  RecordChunkEvent(
      "chunk.corrupt", key, loc,
      {{"reason", why}, {"quarantined", q.ok() ? "yes" : absl::StrCat("no: ", q.message())}});
  std::string from;
  absl::StatusOr<std::string> healthy = FetchHealthy(key, &from);
  absl::StatusOr<WriteResult> written = absl::UnknownError("not written");
  if (!healthy.ok()) {
    written = healthy.status();
  } else {
    WriteRequest r = ChunkWrite(key, std::move(*healthy), d_.sealer);
    r.replace = true;
    written = d_.committer->Write(std::move(r));
  }
  if (!written.ok()) {
    std::string error = absl::StrCat("chunk ", key.ToString(), ": ", written.status().message());
    report->add_errors(error);
    RecordChunkEvent("chunk.unrepaired", key, loc, {{"error", error}});
    return;
  }
  report->set_repaired(report->repaired() + 1);
  d_.metrics->ChunkRepaired();
  RecordChunkEvent("chunk.repaired", key, written->location,
                   {{"from_node", from},
                    {"bad_volume", absl::StrCat(loc.volume)},
                    {"bad_offset", absl::StrCat(loc.offset)}});
}

absl::Status Scrubber::Quarantine(const Digest& key, const Location& loc, const std::string& why) {
  std::string name = absl::StrCat(d_.volumes->quarantine_dir(), "/chunk-", key.Hex(), "-vol",
                                  loc.volume, "-at", loc.offset);
  absl::StatusOr<std::string> raw = d_.volumes->ReadRaw(loc);
  if (!raw.ok()) return raw.status();
  absl::Status s = WriteNewFile(name, *raw, 0444);
  if (absl::IsAlreadyExists(s)) return absl::OkStatus();  // set aside by an earlier pass
  if (!s.ok()) return s;
  return WriteNewFile(name + ".reason",
                      absl::StrCat("chunk ", key.ToString(), " (volume ", loc.volume, ", offset ",
                                   loc.offset, ", ", loc.length, " bytes): ", why, "\n"));
}

absl::StatusOr<std::string> Scrubber::FetchHealthy(const Digest& key, std::string* from) {
  if (placement_ == nullptr) {
    return absl::DataLossError("no other node holds a copy (a cluster of one)");
  }
  std::vector<std::string> tried;
  for (const NodeInfo* n : placement_->map().Rank(key)) {
    if (n->id == placement_->self()) continue;
    absl::StatusOr<std::string> data = placement_->peer(n->id)->GetChunk(key, ReadFor());
    if (data.ok() && Digest::Of(*data) == key) {
      *from = n->id;
      return data;
    }
    tried.push_back(
        absl::StrCat(n->id, ": ", data.ok() ? "bytes do not match" : data.status().message()));
  }
  return absl::DataLossError(
      absl::StrCat("no healthy copy on any other node (", absl::StrJoin(tried, "; "), ")"));
}

// The manifests of an object live on its homes, which need not be the homes
// of its chunks: every node is asked, this one from its own index.
std::set<std::string> Scrubber::ObjectsUsing(const Digest& key, std::vector<std::string>* unasked) {
  std::set<std::string> objects;
  absl::StatusOr<std::map<std::string, std::set<std::string>>> here =
      ObjectsUsingChunks(*d_.index, {std::string(key.Raw())});
  if (here.ok()) {
    for (const auto& [object, unused] : *here) objects.insert(object);
  } else {
    unasked->push_back(absl::StrCat(d_.node_id, ": ", here.status().message()));
  }
  if (placement_ == nullptr) return objects;
  for (const NodeInfo& n : placement_->map().nodes()) {
    if (n.id == placement_->self()) continue;
    absl::StatusOr<std::vector<std::string>> theirs = placement_->peer(n.id)->ObjectsUsing(key);
    if (!theirs.ok()) {
      unasked->push_back(absl::StrCat(n.id, ": ", theirs.status().message()));
      continue;
    }
    objects.insert(theirs->begin(), theirs->end());
  }
  return objects;
}

void Scrubber::RecordChunkEvent(const std::string& action, const Digest& key, const Location& loc,
                                const std::vector<std::pair<std::string, std::string>>& details) {
  std::vector<std::string> unasked;
  std::set<std::string> subjects = ObjectsUsing(key, &unasked);
  if (subjects.empty()) subjects.insert(key.ToString());  // no manifest found: the chunk itself
  for (const std::string& subject : subjects) {
    v1::AuditEvent e = NewEvent(action, subject, "custodyd");
    AddDetail(&e, "chunk", key.ToString());
    AddDetail(&e, "volume", absl::StrCat(loc.volume));
    AddDetail(&e, "offset", absl::StrCat(loc.offset));
    for (const auto& [k, v] : details) AddDetail(&e, k, v);
    if (!unasked.empty()) AddDetail(&e, "objects_unknown_on", absl::StrJoin(unasked, "; "));
    absl::Status s = d_.trail->RecordOrHold(std::move(e));
    if (!s.ok()) LOG(ERROR) << "recording " << action << " of " << key.ToString() << ": " << s;
  }
}

}  // namespace custody
