// How audit events are stored: one RocksDB value per committed batch (an
// event group), keyed by the position of its first event, so that reading
// the whole log is a scan of a few large values rather than of a million
// small keys. See doc/audit_log.md, "Storage".
//
// Group value: a sequence of records, each a varint32 length and that many
// bytes of one event's canonical encoding. The group under key K holds the
// events at positions K, K+1, ...; groups tile the log with no gap and no
// overlap.
#ifndef CUSTODY_SERVER_AUDIT_EVENT_GROUPS_H_
#define CUSTODY_SERVER_AUDIT_EVENT_GROUPS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/event_records.h"
#include "rocksdb/db.h"

namespace custody {

class Index;

// Reads the stored events in log order, across groups, checking that the
// groups tile the log. Not thread-safe; use one per thread.
class EventCursor {
 public:
  EventCursor(Index* index, const rocksdb::ReadOptions& ro);

  // Positions the cursor at the event at `position`.
  void Seek(uint64_t position);
  // At an event. When false, problem() says why ("" at the end of the log).
  bool Valid() const { return valid_; }
  uint64_t position() const { return key_ + at_; }
  absl::string_view event() const { return events_[at_]; }
  void Next();
  // Skips the rest of the current group and checks that the next group
  // starts where it ends.
  void NextGroup();
  // The first damage to the storage met ("" if none): a gap between groups,
  // overlapping groups, or a record that runs past its group.
  const std::string& problem() const { return problem_; }

 private:
  // Loads the group the iterator is at; `expect` is the position it must
  // start at (or UINT64_MAX when any start is fine).
  void LoadGroup(uint64_t expect);
  void Stop(std::string problem);

  std::unique_ptr<rocksdb::Iterator> it_;
  uint64_t key_ = 0;  // position of the current group's first event
  size_t at_ = 0;     // index of the current event in the group
  std::vector<absl::string_view> events_;
  bool valid_ = false;
  std::string problem_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_AUDIT_EVENT_GROUPS_H_
