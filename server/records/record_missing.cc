#include "server/records/record_missing.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/dock_manifest.h"
#include "common/status_macros.h"

namespace custody {

namespace {

// A sequence gap is searched this far below a number, at most.
constexpr uint64_t kMaxGapWalk = 10000;

int64_t TimeOf(const v1::DockedFile& f) {
  return f.start_unix_nanos() != 0 ? f.start_unix_nanos() : f.mtime_unix_nanos();
}

// Collects the missing files of one record; dedupes by device and key.
class MissingFinder {
 public:
  MissingFinder(const v1::Record& r, const RecordBook& book) : r_(r), book_(book) {}

  absl::Status FromDocks() {
    std::set<std::string> docks;
    for (const v1::Segment& s : r_.segments()) {
      if (s.file_name().empty()) continue;
      ASSIGN_OR_RETURN(std::vector<std::string> ids,
                       book_.DocksListing(s.device(), s.file_name(), s.size()));
      docks.insert(ids.begin(), ids.end());
    }
    for (const std::string& id : docks) {
      ASSIGN_OR_RETURN(std::optional<Dock> d, book_.FindDock(id));
      if (d) RETURN_IF_ERROR(FromDock(*d));
    }
    return absl::OkStatus();
  }

  absl::Status FromSequences() {
    for (const v1::Segment& s : r_.segments()) {
      if (s.sequence() != 0)
        RETURN_IF_ERROR(GapBelow(s.device(), s.sequence(), s.start_unix_nanos()));
    }
    const size_t listed = out_.size();
    for (size_t i = 0; i < listed; ++i) {
      const v1::MissingFile m = out_[i];
      if (m.sequence() != 0)
        RETURN_IF_ERROR(GapBelow(m.device(), m.sequence(), m.time_unix_nanos()));
    }
    return absl::OkStatus();
  }

  // A live upload sealed truncated (doc/live.md): the rest of its
  // recording is missing, until a docked file that extends it is here.
  void FromTruncatedLive() {
    std::set<std::string> extended;
    for (const v1::Segment& s : r_.segments()) {
      if (!s.live_extends().empty()) extended.insert(s.live_extends());
    }
    for (const v1::Segment& s : r_.segments()) {
      if (s.live() != "truncated" || extended.count(s.object_id()) > 0) continue;
      v1::MissingFile m;
      m.set_device(s.device());
      m.set_reason("truncated");
      m.set_name(s.file_name());
      m.set_size(s.size());
      m.set_time_unix_nanos(s.end_unix_nanos() != 0 ? s.end_unix_nanos() : s.start_unix_nanos());
      m.set_object_id(s.object_id());
      m.set_truncated_reason(s.live_truncated_reason());
      Add(std::move(m));
    }
  }

  std::vector<v1::MissingFile> Take() {
    std::stable_sort(out_.begin(), out_.end(),
                     [](const v1::MissingFile& a, const v1::MissingFile& b) {
                       return a.time_unix_nanos() < b.time_unix_nanos();
                     });
    for (size_t i = 0; i < out_.size(); ++i) out_[i].set_number(static_cast<uint32_t>(i + 1));
    return std::move(out_);
  }

 private:
  absl::Status FromDock(const Dock& d) {
    const v1::DockRequest& m = d.manifest;
    std::vector<const v1::DockedFile*> files;
    for (const v1::DockedFile& f : m.files()) files.push_back(&f);
    std::stable_sort(
        files.begin(), files.end(),
        [](const v1::DockedFile* a, const v1::DockedFile* b) { return TimeOf(*a) < TimeOf(*b); });
    std::vector<std::vector<std::string>> holders(files.size());
    for (size_t i = 0; i < files.size(); ++i) {
      ASSIGN_OR_RETURN(holders[i],
                       book_.RecordsHolding(m.device(), files[i]->name(), files[i]->size()));
    }
    for (size_t i = 0; i < files.size(); ++i) {
      if (holders[i].empty() && Owns(holders, i)) Add(NotReceived(d, *files[i]));
    }
    return absl::OkStatus();
  }

  // Whether this record holds the nearest received file before `i`, or
  // (with none before) the nearest after.
  bool Owns(const std::vector<std::vector<std::string>>& holders, size_t i) const {
    const std::vector<std::string>* near = nullptr;
    for (size_t j = i; j-- > 0 && near == nullptr;) {
      if (!holders[j].empty()) near = &holders[j];
    }
    for (size_t j = i + 1; j < holders.size() && near == nullptr; ++j) {
      if (!holders[j].empty()) near = &holders[j];
    }
    return near != nullptr && std::find(near->begin(), near->end(), r_.id()) != near->end();
  }

  v1::MissingFile NotReceived(const Dock& d, const v1::DockedFile& f) const {
    v1::MissingFile m;
    m.set_device(d.manifest.device());
    m.set_reason("not-received");
    m.set_name(f.name());
    m.set_size(f.size());
    m.set_time_unix_nanos(TimeOf(f));
    m.set_dock_id(d.manifest.dock_id());
    m.set_station(d.manifest.station());
    m.set_listed_by(d.listed_by);
    m.set_docked_unix_nanos(d.manifest.docked_unix_nanos());
    m.set_sequence(f.sequence());
    return m;
  }

  // Numbers just below `number` of `device` that nothing names.
  absl::Status GapBelow(const std::string& device, uint64_t number, int64_t time) {
    auto first = first_.find(device);
    if (first == first_.end()) {
      ASSIGN_OR_RETURN(uint64_t lowest, book_.FirstSequence(device));
      first = first_.emplace(device, lowest).first;
    }
    if (first->second == 0 || number <= first->second + 1) return absl::OkStatus();
    uint64_t low = number;  // the lowest missing number found
    while (low - 1 > first->second && number - low < kMaxGapWalk) {
      ASSIGN_OR_RETURN(bool seen, book_.SequenceSeen(device, low - 1));
      if (seen) break;
      --low;
    }
    if (low == number) return absl::OkStatus();
    v1::MissingFile m;
    m.set_device(device);
    m.set_reason("sequence-gap");
    m.set_sequence(low);
    m.set_sequence_last(number - 1);
    m.set_time_unix_nanos(time);
    Add(std::move(m));
    return absl::OkStatus();
  }

  void Add(v1::MissingFile m) {
    if (seen_.insert(m.device() + '\0' + MissingKey(m)).second) out_.push_back(std::move(m));
  }

  const v1::Record& r_;
  const RecordBook& book_;
  std::map<std::string, uint64_t> first_;  // by device
  std::set<std::string> seen_;
  std::vector<v1::MissingFile> out_;
};

}  // namespace

absl::StatusOr<std::vector<v1::MissingFile>> FindMissing(const v1::Record& r,
                                                         const RecordBook& book) {
  MissingFinder finder(r, book);
  RETURN_IF_ERROR(finder.FromDocks());
  RETURN_IF_ERROR(finder.FromSequences());
  finder.FromTruncatedLive();
  return finder.Take();
}

void ExplainMissing(const FoldedRecord& f, v1::Record* r) {
  for (v1::MissingFile& m : *r->mutable_missing()) {
    const std::string key = MissingKey(m);
    for (const GapNote& n : f.notes) {
      if (!n.missing_key.empty() && n.device == m.device() && n.missing_key == key) {
        m.set_explained_by(n.explanation);
        break;
      }
    }
    if (m.explained_by().empty() && r->has_exemption() && !r->exemption().approved_by().empty()) {
      m.set_explained_by("exemption: " + r->exemption().reason());
    }
  }
}

}  // namespace custody
