// RecordKeeper: archive numbers (article 16) and filing ingested footage.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "replication/cluster/placement.h"
#include "server/records/record_checks.h"
#include "server/records/record_keeper.h"

namespace custody {

namespace {

int64_t RetentionEnd(absl::Time archived, int years) {
  absl::TimeZone utc = absl::UTCTimeZone();
  absl::CivilSecond c = absl::ToCivilSecond(archived, utc);
  absl::CivilSecond later(c.year() + years, c.month(), c.day(), c.hour(), c.minute(), c.second());
  return absl::ToUnixNanos(absl::FromCivil(later, utc));
}

}  // namespace

absl::StatusOr<v1::Record> RecordKeeper::Archive(const Actor& by, const std::string& id) {
  ASSIGN_OR_RETURN(FoldedRecord f, Folded(id));
  Placement* p = d_.placement;
  if (p == nullptr) return ArchiveHere(by, id);
  const std::string prefix = ArchivePrefix(f.record, rules_);
  const std::string owner = p->map().Rank(Digest::Of("archive-sequence:" + prefix))[0]->id;
  if (owner == d_.node_id) return ArchiveHere(by, id);
  absl::StatusOr<v1::Record> r = p->peer(owner)->ArchiveRecord(id, by);
  if (absl::IsUnavailable(r.status()) || absl::IsDeadlineExceeded(r.status())) {
    return absl::UnavailableError(absl::StrCat(
        "archive numbers ", prefix, " are handed out by node ", owner, ", which did not answer (",
        r.status().message(), "); try again when it is up"));
  }
  return r;
}

absl::StatusOr<v1::Record> RecordKeeper::ArchiveHere(const Actor& by, const std::string& id) {
  absl::MutexLock l(&archive_mu_);
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  const FoldedRecord* f = b->Find(id);
  if (f == nullptr) return RecordNotFound(id);
  const v1::Record& r = f->record;
  if (!r.archive_number().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("record ", id, " is already archived as ", r.archive_number()));
  }
  if (r.end_unix_nanos() == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("record ", id, " has no end yet; set it first (custody record correct ", id,
                     " --field end --value TIME --reason ...)"));
  }
  const std::string prefix = ArchivePrefix(r, rules_);
  auto it = b->archive_sequences.find(prefix);
  uint64_t seq = (it == b->archive_sequences.end() ? 0 : it->second) + 1;
  const absl::Time now = absl::Now();
  RETURN_IF_ERROR(Append(
      by, "record.archived", "record:" + id,
      {{"number", ArchiveNumber(r, rules_, seq)},
       {"prefix", prefix},
       {"sequence", std::to_string(seq)},
       {"retention_until", std::to_string(rules_.testing_retention > absl::ZeroDuration()
                                              ? absl::ToUnixNanos(now + rules_.testing_retention)
                                              : RetentionEnd(now, rules_.min_retention_years))}}));
  return Get(id);
}

absl::StatusOr<std::string> RecordKeeper::FileIngested(const Actor& by,
                                                       const v1::ObjectManifest& object) {
  const std::string device = MetaValue(object, "device");
  uint32_t matter = 0;
  ASSIGN_OR_RETURN(int64_t start, MetaTime(object, "start"));
  ASSIGN_OR_RETURN(int64_t end, MetaTime(object, "end"));
  if (device.empty() || start == 0 || !absl::SimpleAtoi(MetaValue(object, "matter"), &matter)) {
    return std::string();  // not footage of a recorded matter
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  std::string agency = MetaValue(object, "agency");
  auto d = b->devices.find(device);
  if (agency.empty() && d != b->devices.end()) agency = d->second.agency();
  if (agency.empty()) return std::string();  // nobody to file it for
  v1::AttachRequest attach;
  attach.set_kind(KindOfMediaType(object.media_type()));
  attach.set_record_id(OpenRecordFor(*b, agency, matter, device, start));
  if (attach.record_id().empty()) {
    v1::CreateRecordRequest c = RecordFromMetadata(object, agency, matter, start, end);
    ASSIGN_OR_RETURN(v1::Record r, Create(by, c));
    attach.set_record_id(r.id());
  }
  absl::StatusOr<v1::Record> r = Attach(by, attach, object);
  if (!r.ok() && !absl::IsAlreadyExists(r.status())) return r.status();
  return attach.record_id();
}

}  // namespace custody
