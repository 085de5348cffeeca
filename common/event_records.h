// Length-prefixed event records: each event's canonical encoding after its
// varint32 length. The format of an audit event group (server/audit/event_groups.h)
// and of a snapshot's audit page (common/snapshot_format.h).
#ifndef CUSTODY_COMMON_EVENT_RECORDS_H_
#define CUSTODY_COMMON_EVENT_RECORDS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace custody {

// Appends one event's record to `group`.
void AppendEventRecord(std::string* group, absl::string_view event);

// Splits `group` into its events (views into `group`). False if a record
// runs past the end of the value.
bool DecodeEventGroup(absl::string_view group, std::vector<absl::string_view>* events);

}  // namespace custody

#endif  // CUSTODY_COMMON_EVENT_RECORDS_H_
