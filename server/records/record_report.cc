// RecordKeeper::MakeReport: the compliance report of one agency over a
// period (article 25), counted from the folded records, devices and grants.
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/records/record_keeper.h"
#include "server/security/access_state.h"

namespace custody {

namespace {

bool Has(const v1::Record& r, const std::string& flag) {
  for (const std::string& f : r.flags()) {
    if (f == flag) return true;
  }
  return false;
}

void CountRecord(const v1::Record& r, v1::Report* out) {
  out->set_records(out->records() + 1);
  if (!r.archive_number().empty()) {
    out->set_archived(out->archived() + 1);
    if (!Has(r, "archived-late")) out->set_archived_on_time(out->archived_on_time() + 1);
  }
  if (!r.late().approved_by().empty()) {
    out->set_late_handovers(out->late_handovers() + 1);
    out->add_late_records(r.id());
  }
  if (Has(r, "overdue")) {
    out->set_overdue(out->overdue() + 1);
    out->add_overdue_records(r.id());
  }
  uint64_t open_gaps = 0;
  for (const v1::Gap& g : r.gaps()) open_gaps += g.explained_by().empty() ? 1 : 0;
  out->set_explained_gaps(out->explained_gaps() + (r.gaps_size() - open_gaps));
  if (open_gaps > 0) out->add_gap_records(r.id());
  out->set_unexplained_gaps(out->unexplained_gaps() + open_gaps);
  if (Has(r, "time-mismatch")) out->set_time_mismatches(out->time_mismatches() + 1);
  if (r.has_exemption()) {
    out->set_exemptions(out->exemptions() + 1);
    out->add_exemption_records(r.id());
    if (r.exemption().approved_by().empty()) {
      out->set_exemptions_pending(out->exemptions_pending() + 1);
    }
  }
}

}  // namespace

absl::StatusOr<v1::Report> RecordKeeper::MakeReport(
    const v1::ReportRequest& req, const std::function<bool(const std::string&)>& cleared) {
  if (req.agency().empty()) return absl::InvalidArgumentError("a report needs --agency");
  if (req.to_unix_nanos() <= req.from_unix_nanos()) {
    return absl::InvalidArgumentError("--to must be after --from");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  const absl::Time now = absl::Now();
  const AccessState access(d_.fold->Snapshot(), now);
  v1::Report out;
  out.set_agency(req.agency());
  out.set_from_unix_nanos(req.from_unix_nanos());
  out.set_to_unix_nanos(req.to_unix_nanos());
  std::set<std::string> objects;  // of the agency's records in the period
  absl::Status failed;
  RETURN_IF_ERROR(b->ForEachRecordStarting(
      req.from_unix_nanos(), req.to_unix_nanos(), [&](const FoldedRecord& f) {
        const v1::Record& folded = f.record;
        if (folded.agency() != req.agency() || folded.start_unix_nanos() < req.from_unix_nanos() ||
            folded.start_unix_nanos() >= req.to_unix_nanos()) {
          return true;
        }
        if (!cleared(folded.classification())) {
          out.set_withheld_above_clearance(out.withheld_above_clearance() + 1);
          return true;
        }
        absl::StatusOr<v1::Record> r = Evaluate(f, *b, rules_, now);
        if (!r.ok()) failed = r.status();
        if (!failed.ok()) return false;
        CountRecord(*r, &out);
        for (const v1::Segment& s : folded.segments()) {
          if (cleared(s.classification())) objects.insert(s.object_id());
        }
        return true;
      }));
  RETURN_IF_ERROR(failed);
  if (out.records() > 0) {
    out.set_archived_on_time_percent(100.0 * static_cast<double>(out.archived_on_time()) /
                                     static_cast<double>(out.records()));
  }
  RETURN_IF_ERROR(access.ForEachGrant("", [&](const v1::AccessGrant& g) {
    bool ours = g.agency() == req.agency() || objects.count(g.object_id()) > 0;
    if (!ours || !cleared(g.classification()) || g.requested_unix_nanos() < req.from_unix_nanos() ||
        g.requested_unix_nanos() >= req.to_unix_nanos()) {
      return true;
    }
    out.set_access_requests(out.access_requests() + 1);
    if (g.state() == "denied") out.set_access_refusals(out.access_refusals() + 1);
    return true;
  }));
  RETURN_IF_ERROR(b->ForEachDevice([&](const v1::Device& d) {
    if (d.agency() == req.agency() && !d.held_by().empty()) {
      out.set_devices_not_checked_in(out.devices_not_checked_in() + 1);
    }
  }));
  // Offsite: named by a snapshot an offsite peer confirmed with a receipt.
  for (const std::string& o : objects) {
    ASSIGN_OR_RETURN(bool offsite, b->Offsite(o));
    if (!offsite) out.set_objects_not_offsite(out.objects_not_offsite() + 1);
  }
  return out;
}

}  // namespace custody
