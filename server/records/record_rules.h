// The regulation's checks on records (doc/records.md): what is derived from
// a folded record at the moment of an answer. Pure functions over the
// RecordBook; nothing here writes.
#ifndef CUSTODY_SERVER_RECORDS_RECORD_RULES_H_
#define CUSTODY_SERVER_RECORDS_RECORD_RULES_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "custody/v1/records.pb.h"
#include "server/records/record_book.h"

namespace custody {

struct RecordRules {
  // Consecutive segments of one device further apart than this are a gap
  // (articles 14, 15).
  absl::Duration gap_tolerance = absl::Seconds(2);
  // Documents' stated start/end against the footage's (article 16).
  absl::Duration time_tolerance = absl::Seconds(60);
  // A device clock this far from the docking station's is flagged (art. 11).
  absl::Duration clock_tolerance = absl::Seconds(30);
  // Archive numbers within this long of a record's end (article 16).
  absl::Duration archive_deadline = absl::Hours(24);
  // {agency} {date} {target} {stage} and {seq:N} (zero-padded to N digits).
  std::string archive_format = "{agency}-{date}-{target}-{stage}-{seq:4}";
  int min_retention_years = 2;  // article 19
  // Tests only (custodyd --unsafe-testing-retention): retention from
  // archiving lasts this long instead. Recorded in the node.started event.
  absl::Duration testing_retention = absl::ZeroDuration();
  // A record that ingest opened ends at its last segment once no footage
  // came for this long (or when its device is checked in).
  absl::Duration ingest_idle_close = absl::Hours(12);
  // IANA time zones (custodyd --time-zone, --agency-time-zone): archive-number
  // dates and the times people read are local to the record's agency.
  std::string time_zone = "UTC";
  std::map<std::string, std::string> agency_time_zones;  // agency -> zone
};

// The time zone name of `agency`'s records (its own, else the cluster's).
const std::string& ZoneName(const RecordRules& rules, const std::string& agency);
// The zone itself; UTC if the name does not load (the flags check it first).
absl::TimeZone ZoneOf(const RecordRules& rules, const std::string& agency);
// The moment `r`'s 24 hours to archive run from (article 17): its end (for
// an ingest record fallen silent, its last segment's), or, after an approved
// late hand-over, the officer's return if later. 0 while it has no end.
int64_t DueFrom(const v1::Record& r, const RecordRules& rules, absl::Time now);

// The latest end of `r`'s footage segments (0 without any).
int64_t LastSegmentEnd(const v1::Record& r);
// Whether `r` holds footage (video, audio or photo segments).
bool HasFootage(const v1::Record& r);
// Whether `r`, opened by ingest and still without an end, has had no footage
// for the rules' idle time at `now`: it then ends at LastSegmentEnd.
bool IdleEnded(const v1::Record& r, const RecordRules& rules, absl::Time now);

// The record as it stands at `now`: gaps (with their explanations), who held
// each segment's device, and flags.
absl::StatusOr<v1::Record> Evaluate(const FoldedRecord& f, const RecordBook& book,
                                    const RecordRules& rules, absl::Time now);

// The gaps of `r` in order (unexplained; Evaluate adds explanations).
std::vector<v1::Gap> FindGaps(const v1::Record& r, const RecordRules& rules);

// Checks an archive format: it must hold {seq} or {seq:N} exactly once.
absl::Status ValidateArchiveFormat(const std::string& format);
// The part of `r`'s archive number before the sequence fills in (the key of
// its sequence), and the whole number for `seq`.
std::string ArchivePrefix(const v1::Record& r, const RecordRules& rules);
std::string ArchiveNumber(const v1::Record& r, const RecordRules& rules, uint64_t seq);

// The officer who held `device` at `t`, or "".
std::string HolderAt(const v1::Device& device, int64_t t);

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_RECORD_RULES_H_
