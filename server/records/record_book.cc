#include "server/records/record_book.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/records/record_fold.h"

namespace custody {

namespace {

const std::string kZero(1, '\0');

FoldedRecord FromGroup(const internal::v1::FoldGroup& g) {
  FoldedRecord f;
  f.record = g.record();
  for (const internal::v1::FoldGroup::Note& n : g.notes()) {
    f.notes.push_back({n.device(), n.from_unix_nanos(), n.explanation(), n.missing_key()});
  }
  return f;
}

// The last part of keys "<prefix><value>\0<id>": the ids.
absl::StatusOr<std::vector<std::string>> IdsAfterZero(const FoldSnapshot& fold,
                                                      const std::string& prefix) {
  std::vector<std::string> out;
  RETURN_IF_ERROR(fold.Scan(prefix, "", [&](const std::string& id, const std::string&) {
    out.push_back(id);
    return true;
  }));
  return out;
}

// Scans groups "g/<kind><...>" and hands each parsed group to fn.
absl::Status ScanGroups(const FoldSnapshot& fold, const std::string& kind, const std::string& after,
                        const std::function<bool(const internal::v1::FoldGroup&)>& fn) {
  absl::Status bad;
  RETURN_IF_ERROR(fold.Scan("g/" + kind, after, [&](const std::string&, const std::string& v) {
    internal::v1::FoldGroup g;
    if (!g.ParseFromString(v)) bad = absl::DataLossError("a fold group does not parse");
    return bad.ok() && fn(g);
  }));
  return bad;
}

}  // namespace

std::string CreationKey(const v1::Record& r) { return TimeKey(r.created_unix_nanos()) + r.id(); }

absl::StatusOr<std::optional<FoldedRecord>> RecordBook::Find(const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<internal::v1::FoldGroup> g, fold_->Group("record:" + id));
  if (!g || g->record().id().empty()) return std::nullopt;
  return FromGroup(*g);
}

absl::Status RecordBook::ForEachRecord(const std::string& after,
                                       const std::function<bool(const FoldedRecord&)>& fn) const {
  return ScanGroups(*fold_, "record:", after, [&](const internal::v1::FoldGroup& g) {
    return g.record().id().empty() || fn(FromGroup(g));
  });
}

absl::Status RecordBook::ForEachRecordByCreation(
    const std::string& after,
    const std::function<bool(const std::string&, const FoldedRecord&)>& fn) const {
  absl::Status bad;
  RETURN_IF_ERROR(fold_->Scan(kCreatedKeys, after, [&](const std::string& key, const std::string&) {
    absl::StatusOr<std::optional<FoldedRecord>> f = Find(key.substr(8));
    if (!f.ok()) bad = f.status();
    return bad.ok() && (!*f || fn(key, **f));
  }));
  return bad;
}

absl::Status RecordBook::ForEachRecordStarting(
    int64_t from, int64_t to, const std::function<bool(const FoldedRecord&)>& fn) const {
  absl::Status bad;
  const std::string end = TimeKey(to);
  RETURN_IF_ERROR(
      fold_->Scan(kStartKeys, TimeKey(from), [&](const std::string& key, const std::string&) {
        if (key.compare(0, 8, end) >= 0) return false;
        absl::StatusOr<std::optional<FoldedRecord>> f = Find(key.substr(8));
        if (!f.ok()) bad = f.status();
        return bad.ok() && (!*f || fn(**f));
      }));
  return bad;
}

absl::StatusOr<std::vector<std::string>> RecordBook::IdsStartingWith(const std::string& prefix,
                                                                     size_t limit) const {
  std::vector<std::string> out;
  RETURN_IF_ERROR(ScanGroups(*fold_, "record:" + prefix, "", [&](const internal::v1::FoldGroup& g) {
    if (!g.record().id().empty()) out.push_back(g.record().id());
    return out.size() < limit;
  }));
  return out;
}

absl::StatusOr<std::vector<std::string>> RecordBook::ByArchiveNumber(
    const std::string& number) const {
  return IdsAfterZero(*fold_, absl::StrCat(kArchiveNumberKeys, number, kZero));
}

absl::StatusOr<std::vector<std::string>> RecordBook::OpenRecordsOf(
    const std::string& device) const {
  return IdsAfterZero(*fold_, absl::StrCat(kOpenByDeviceKeys, device, kZero));
}

absl::StatusOr<std::vector<std::string>> RecordBook::RecordsOf(const std::string& object) const {
  return IdsAfterZero(*fold_, absl::StrCat(kObjectRecordKeys, object, kZero));
}

absl::StatusOr<uint64_t> RecordBook::ArchiveSequence(const std::string& prefix) const {
  ASSIGN_OR_RETURN(std::optional<std::string> last,
                   fold_->Last(absl::StrCat(kSequenceKeys, prefix, kZero)));
  uint64_t seq = 0;
  if (last && !absl::SimpleAtoi(*last, &seq)) return absl::DataLossError("a bad archive sequence");
  return seq;
}

absl::StatusOr<std::optional<v1::Device>> RecordBook::Device(const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<internal::v1::FoldGroup> g, fold_->Group("device:" + id));
  if (!g) return std::nullopt;
  return g->device();
}

absl::Status RecordBook::ForEachDevice(const std::function<void(const v1::Device&)>& fn) const {
  return ScanGroups(*fold_, "device:", "", [&](const internal::v1::FoldGroup& g) {
    fn(g.device());
    return true;
  });
}

absl::StatusOr<std::optional<v1::PurgePlan>> RecordBook::Purge(const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<internal::v1::FoldGroup> g, fold_->Group("purge:" + id));
  if (!g) return std::nullopt;
  return g->purge();
}

absl::Status RecordBook::ForEachPurge(const std::function<void(const v1::PurgePlan&)>& fn) const {
  return ScanGroups(*fold_, "purge:", "", [&](const internal::v1::FoldGroup& g) {
    fn(g.purge());
    return true;
  });
}

absl::StatusOr<std::optional<std::string>> RecordBook::PurgeOf(const std::string& object) const {
  return fold_->Last(absl::StrCat(kPurgedObjectKeys, object, kZero));
}

absl::StatusOr<std::optional<Dock>> RecordBook::FindDock(const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<internal::v1::FoldGroup> g, fold_->Group("dock:" + id));
  if (!g || !g->has_dock()) return std::nullopt;
  return Dock{g->dock(), g->dock_listed_by()};
}

absl::StatusOr<std::vector<std::string>> RecordBook::DocksListing(const std::string& device,
                                                                  const std::string& name,
                                                                  uint64_t size) const {
  return IdsAfterZero(*fold_,
                      absl::StrCat(kDockListingKeys, device, kZero, name, kZero, size, kZero));
}

absl::StatusOr<std::vector<std::string>> RecordBook::RecordsHolding(const std::string& device,
                                                                    const std::string& name,
                                                                    uint64_t size) const {
  return IdsAfterZero(*fold_,
                      absl::StrCat(kFiledFileKeys, device, kZero, name, kZero, size, kZero));
}

absl::StatusOr<bool> RecordBook::SequenceSeen(const std::string& device, uint64_t sequence) const {
  bool found = false;
  RETURN_IF_ERROR(fold_->Scan(absl::StrCat(kSequenceSeenKeys, device, kZero, BigEndian(sequence)),
                              "", [&](const std::string&, const std::string&) {
                                found = true;
                                return false;
                              }));
  return found;
}

absl::StatusOr<uint64_t> RecordBook::FirstSequence(const std::string& device) const {
  uint64_t first = 0;
  RETURN_IF_ERROR(fold_->Scan(absl::StrCat(kSequenceSeenKeys, device, kZero), "",
                              [&](const std::string& key, const std::string&) {
                                for (size_t i = 0; i < 8 && i < key.size(); ++i) {
                                  first = (first << 8) | static_cast<unsigned char>(key[i]);
                                }
                                return false;
                              }));
  return first;
}

absl::StatusOr<bool> RecordBook::Offsite(const std::string& object) const {
  bool found = false;
  RETURN_IF_ERROR(fold_->Scan(absl::StrCat(kOffsiteKeys, object, kZero), "",
                              [&](const std::string&, const std::string&) {
                                found = true;
                                return false;
                              }));
  return found;
}

}  // namespace custody
