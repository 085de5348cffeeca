// AuditLog::Select: the register (article 21) from one node's log, by actor,
// action and period across every subject.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/audit/audit_log.h"
#include "server/audit/event_groups.h"

namespace custody {

bool EventFilter::Matches(const v1::AuditEvent& e) const {
  if (!actor.empty() && e.actor() != actor) return false;
  if (!action.empty()) {
    const bool prefix = action.back() == '.';
    if (prefix ? !absl::StartsWith(e.action(), action) : e.action() != action) return false;
  }
  if (from_unix_nanos != 0 && e.time_unix_nanos() < from_unix_nanos) return false;
  return to_unix_nanos == 0 || e.time_unix_nanos() < to_unix_nanos;
}

absl::StatusOr<std::vector<std::string>> AuditLog::Select(const EventFilter& filter, size_t limit,
                                                          bool* truncated) {
  std::vector<std::string> out;
  *truncated = false;
  EventCursor events(index_, rocksdb::ReadOptions());
  v1::AuditEvent e;
  for (events.Seek(0); events.Valid(); events.Next()) {
    if (!e.ParseFromArray(events.event().data(), static_cast<int>(events.event().size()))) {
      return absl::DataLossError(
          absl::StrCat("stored audit event ", events.position(), " does not parse"));
    }
    if (!filter.Matches(e)) continue;
    if (out.size() == limit) {
      *truncated = true;
      break;
    }
    out.emplace_back(events.event());
  }
  if (!events.problem().empty()) {
    return absl::DataLossError(absl::StrCat("reading the audit log: ", events.problem()));
  }
  return out;
}

}  // namespace custody
