// Audit events as people read them (custody audit log, audit verify): a
// table with local times and short details, or JSON; the copies of one
// cluster-wide change (a ledger entry each node holds) shown once with the
// nodes that hold it.
#ifndef CUSTODY_CLIENT_AUDIT_TEXT_H_
#define CUSTODY_CLIENT_AUDIT_TEXT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "custody/v1/audit.pb.h"

namespace custody {

// One line of the register: an event, and every node that holds it (the
// event's own node first).
struct AuditLine {
  v1::AuditEvent event;
  std::vector<std::string> nodes;
};

// Folds the events that record one ledger entry (its origin's event and each
// other node's ledger.received) into one line; others stay one line each.
// Keeps the order of each line's first event.
std::vector<AuditLine> GroupEvents(const std::vector<v1::AuditEvent>& events);

nlohmann::ordered_json EventJson(const v1::AuditEvent& e);
nlohmann::ordered_json LineJson(const AuditLine& line);

// A table with a header; a NODES column when the events come from several
// nodes. Details are cut to fit a line (--json has them whole); details
// that hold times (Unix nanoseconds) are shown as times.
void PrintEvents(const std::vector<v1::AuditEvent>& events);
void PrintLines(const std::vector<AuditLine>& lines);

}  // namespace custody

#endif  // CUSTODY_CLIENT_AUDIT_TEXT_H_
