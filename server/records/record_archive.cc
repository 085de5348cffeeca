// RecordKeeper: archive numbers (article 16) and filing ingested footage.
#include <algorithm>

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
  if (p == nullptr || d_.sequencer != nullptr) return ArchiveHere(by, id);
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
  ASSIGN_OR_RETURN(FoldedRecord f, Folded(id));
  const v1::Record& r = f.record;
  if (!r.archive_number().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("record ", id, " is already archived as ", r.archive_number()));
  }
  if (r.end_unix_nanos() == 0 && r.opened_by_ingest() && IdleEnded(r, rules_, absl::Now())) {
    // Ingest's record ended when its device fell silent: that end goes on
    // record before the number does.
    RETURN_IF_ERROR(Append(
        by, "record.ended", "record:" + id,
        {{"end", std::to_string(LastSegmentEnd(r))}, {"reason", "no footage for the idle time"}}));
  }
  return ArchiveEnded(by, id);
}

absl::StatusOr<v1::Record> RecordKeeper::ArchiveEnded(const Actor& by, const std::string& id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  ASSIGN_OR_RETURN(std::optional<FoldedRecord> f, b->Find(id));
  if (!f) return RecordNotFound(id);
  const v1::Record& r = f->record;
  if (!HasFootage(r) && r.exemption().approved_by().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("record ", id,
                     " holds no footage; archiving it needs an approved exemption (custody "
                     "record exempt ",
                     id, ", then a leader's approval)"));
  }
  if (r.end_unix_nanos() == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("record ", id, " has no end yet; set it first (custody record correct ", id,
                     " --field end --value TIME --reason ...)"));
  }
  const std::string prefix = ArchivePrefix(r, rules_);
  ASSIGN_OR_RETURN(uint64_t last, b->ArchiveSequence(prefix));
  uint64_t seq = last + 1;
  if (d_.sequencer != nullptr) {
    ASSIGN_OR_RETURN(seq, d_.sequencer->Reserve(prefix, id, last, by));
  }
  RETURN_IF_ERROR(AppendArchived(by, r, prefix, seq));
  return Get(id);
}

absl::Status RecordKeeper::AppendArchived(const Actor& by, const v1::Record& r,
                                          const std::string& prefix, uint64_t seq) {
  const absl::Time now = absl::Now();
  RETURN_IF_ERROR(Append(
      by, "record.archived", "record:" + r.id(),
      {{"number", ArchiveNumber(r, rules_, seq)},
       {"prefix", prefix},
       {"sequence", std::to_string(seq)},
       {"retention_until", std::to_string(rules_.testing_retention > absl::ZeroDuration()
                                              ? absl::ToUnixNanos(now + rules_.testing_retention)
                                              : RetentionEnd(now, rules_.min_retention_years))}}));
  if (d_.sequencer == nullptr) return absl::OkStatus();
  // In the ledger now; if etcd does not hear it, the next repair does this.
  absl::Status done = d_.sequencer->Done(r.id());
  if (!done.ok()) LOG(WARNING) << "archive of " << r.id() << " written; etcd not told: " << done;
  return absl::OkStatus();
}

absl::StatusOr<int> RecordKeeper::CompleteReservedArchives() {
  if (d_.sequencer == nullptr) return 0;
  ASSIGN_OR_RETURN(std::vector<ArchiveReservation> pending, d_.sequencer->Pending());
  int written = 0;
  absl::MutexLock l(&archive_mu_);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  for (const ArchiveReservation& p : pending) {
    // Younger: most likely an archive still in progress on its node.
    if (p.reserved_unix_seconds > now - 60) continue;
    ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
    ASSIGN_OR_RETURN(std::optional<FoldedRecord> f, b->Find(p.record_id));
    if (!f) continue;  // not here yet (a peer's entry still on its way)
    if (!f->record.archive_number().empty()) {
      RETURN_IF_ERROR(d_.sequencer->Done(p.record_id));
      continue;
    }
    LOG(WARNING) << "archive number " << p.sequence << " of " << p.prefix << " was reserved for "
                 << p.record_id << " and not written (a node stopped in between): writing it";
    RETURN_IF_ERROR(
        AppendArchived(p.actor.empty() ? d_.node_id : p.actor, f->record, p.prefix, p.sequence));
    ++written;
  }
  return written;
}

absl::StatusOr<std::string> RecordKeeper::FilingAgency(
    const v1::Principal& uploader, const google::protobuf::Map<std::string, std::string>& meta) {
  auto value = [&meta](const char* key) {
    auto it = meta.find(key);
    return it == meta.end() ? std::string() : it->second;
  };
  const std::string device = value("device"), stated = value("agency");
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  ASSIGN_OR_RETURN(std::optional<v1::Device> d, b->Device(device));
  const std::string owner = d ? d->agency() : "";
  if (!owner.empty() && !stated.empty() && owner != stated) {
    return absl::FailedPreconditionError(
        absl::StrCat("device ", device, " belongs to agency ", owner,
                     " but the footage's metadata says agency ", stated, ": correct one of them"));
  }
  const std::string agency = !owner.empty() ? owner : stated;
  // An uploader bound to an agency files only that agency's footage: a
  // sidecar cannot move footage into another agency's records.
  if (!agency.empty() && !uploader.agency().empty() && agency != uploader.agency()) {
    return absl::PermissionDeniedError(absl::StrCat(
        uploader.name(), " uploads for agency ", uploader.agency(), ", not for agency ", agency,
        " (the ", owner.empty() ? "footage's metadata" : "device's registration", " names it)"));
  }
  if (!agency.empty()) return agency;
  if (!uploader.agency().empty()) return uploader.agency();
  return absl::FailedPreconditionError(absl::StrCat(
      "no agency to file the footage of device ", device,
      " for: register the device (custody device add ", device,
      " --agency A), name the agency in the sidecar (\"agency\"), or ingest with an identity of "
      "an agency"));
}

absl::StatusOr<std::string> RecordKeeper::FileIngested(const v1::Principal& by,
                                                       const v1::ObjectManifest& object) {
  absl::MutexLock filing(&filing_mu_);
  ASSIGN_OR_RETURN(std::string record_id, IngestRecordLocked(by, object));
  if (record_id.empty()) return record_id;
  v1::AttachRequest attach;
  attach.set_kind(KindOfMediaType(object.media_type()));
  attach.set_record_id(record_id);
  absl::StatusOr<v1::Record> r = Attach(by.name(), attach, object);
  if (!r.ok() && !absl::IsAlreadyExists(r.status())) return r.status();
  return record_id;
}

absl::StatusOr<std::string> RecordKeeper::IngestRecord(const v1::Principal& by,
                                                       const v1::ObjectManifest& object) {
  absl::MutexLock filing(&filing_mu_);
  return IngestRecordLocked(by, object);
}

absl::StatusOr<std::string> RecordKeeper::IngestRecordLocked(const v1::Principal& by,
                                                             const v1::ObjectManifest& object) {
  const std::string device = MetaValue(object, "device");
  uint32_t matter = 0;
  ASSIGN_OR_RETURN(int64_t start, MetaTime(object, "start"));
  RETURN_IF_ERROR(MetaTime(object, "end").status());  // a bad end is refused here
  if (device.empty()) return std::string();           // not a camera's footage
  const std::string matter_text = MetaValue(object, "matter");
  if (start == 0 || !absl::SimpleAtoi(matter_text, &matter)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "footage of device ", device, " names ",
        start == 0            ? "no start time"
        : matter_text.empty() ? "no matter"
                              : "matter \"" + matter_text + "\"",
        ": give \"start\" and a \"matter\" number of the catalog (sidecar or file name), then "
        "attach it with custody record attach"));
  }
  ASSIGN_OR_RETURN(std::string agency, FilingAgency(by, object.metadata()));
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  ASSIGN_OR_RETURN(std::string live, LiveRecordOf(*b, object, agency));
  if (!live.empty()) return live;
  ASSIGN_OR_RETURN(std::string open, OpenRecordFor(*b, agency, matter, device, start));
  if (!open.empty()) return open;
  v1::CreateRecordRequest c = RecordFromMetadata(object, agency, matter, start);
  ASSIGN_OR_RETURN(v1::Record r, CreateWith(by.name(), c, {{"opened_by", "ingest"}}));
  return r.id();
}

absl::Status RecordKeeper::EndIngestRecords(const Actor& by, const RecordBook& b,
                                            const std::string& device, const std::string& why) {
  ASSIGN_OR_RETURN(std::vector<std::string> open, b.OpenRecordsOf(device));
  for (const std::string& id : open) {
    ASSIGN_OR_RETURN(std::optional<FoldedRecord> f, b.Find(id));
    if (!f) continue;
    const v1::Record& r = f->record;
    if (!r.opened_by_ingest() || r.end_unix_nanos() != 0 || !r.archive_number().empty()) continue;
    if (std::find(r.devices().begin(), r.devices().end(), device) == r.devices().end()) continue;
    const int64_t end = LastSegmentEnd(r);
    if (end == 0) continue;
    RETURN_IF_ERROR(Append(by, "record.ended", "record:" + id,
                           {{"end", std::to_string(end)}, {"reason", why}}));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RecordKeeper::LiveRecordOf(const RecordBook& b,
                                                       const v1::ObjectManifest& object,
                                                       const std::string& agency) {
  for (const char* key : {"live_extends", "live_altered_object"}) {
    const std::string of = MetaValue(object, key);
    if (of.empty()) continue;
    ASSIGN_OR_RETURN(std::vector<std::string> ids, b.RecordsOf(of));
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(std::optional<FoldedRecord> f, b.Find(id));
      if (f && f->record.archive_number().empty() && f->record.agency() == agency) return id;
    }
  }
  return std::string();
}

absl::StatusOr<std::string> RecordKeeper::OpenRecordFor(const RecordBook& b,
                                                        const std::string& agency, uint32_t matter,
                                                        const std::string& device, int64_t t) {
  ASSIGN_OR_RETURN(std::vector<std::string> open, b.OpenRecordsOf(device));
  std::vector<v1::Record> candidates;
  for (const std::string& id : open) {
    ASSIGN_OR_RETURN(std::optional<FoldedRecord> f, b.Find(id));
    if (f) candidates.push_back(std::move(f->record));
  }
  return BestOpenRecord(candidates, agency, matter, device, t);
}

}  // namespace custody
