// RecordKeeper::MakeReport: the compliance report of one agency over a
// period (article 25), counted from the folded records, devices and grants.
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/spot_check.h"
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
  uint64_t open_missing = 0;
  for (const v1::MissingFile& m : r.missing()) open_missing += m.explained_by().empty() ? 1 : 0;
  out->set_explained_missing_files(out->explained_missing_files() +
                                   (r.missing_size() - open_missing));
  out->set_missing_files(out->missing_files() + open_missing);
  if (open_missing > 0) out->add_missing_records(r.id());
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
  uint64_t withheld = 0;
  RETURN_IF_ERROR(ForEachInPeriod(req.agency(), req.from_unix_nanos(), req.to_unix_nanos(), cleared,
                                  &withheld, [&](const v1::Record& r, const v1::Record& folded) {
                                    CountRecord(r, &out);
                                    for (const v1::Segment& s : folded.segments()) {
                                      if (cleared(s.classification()))
                                        objects.insert(s.object_id());
                                    }
                                  }));
  out.set_withheld_above_clearance(withheld);
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

absl::Status RecordKeeper::ForEachInPeriod(
    const std::string& agency, int64_t from, int64_t to,
    const std::function<bool(const std::string&)>& cleared, uint64_t* withheld,
    const std::function<void(const v1::Record& evaluated, const v1::Record& folded)>& fn) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  const absl::Time now = absl::Now();
  absl::Status failed;
  RETURN_IF_ERROR(b->ForEachRecordStarting(from, to, [&](const FoldedRecord& f) {
    const v1::Record& folded = f.record;
    if (folded.agency() != agency || folded.start_unix_nanos() < from ||
        folded.start_unix_nanos() >= to) {
      return true;
    }
    if (!cleared(folded.classification())) {
      ++*withheld;
      return true;
    }
    absl::StatusOr<v1::Record> r = Evaluate(f, *b, rules_, now);
    if (!r.ok()) failed = r.status();
    if (!failed.ok()) return false;
    fn(*r, folded);
    return true;
  }));
  return failed;
}

namespace {

// What keeps a record from being complete: its flags (unexplained-gap,
// exemption-pending, overdue, time-mismatch, ...; `record list --flag`), and
// no footage without an exemption.
std::vector<std::string> Problems(const v1::Record& r) {
  std::vector<std::string> out(r.flags().begin(), r.flags().end());
  if (r.segments().empty() && !r.has_exemption()) out.push_back("no-footage");
  return out;
}

}  // namespace

absl::Status RecordKeeper::Sample(const v1::SampleRequest& req, const Checkpoint& checkpoint,
                                  const std::function<bool(const std::string&)>& cleared,
                                  v1::SampleResponse* out) {
  std::map<std::string, v1::Record> period;  // by id: the population's order
  uint64_t withheld = 0;
  RETURN_IF_ERROR(
      ForEachInPeriod(req.agency(), req.from_unix_nanos(), req.to_unix_nanos(), cleared, &withheld,
                      [&](const v1::Record& r, const v1::Record&) { period[r.id()] = r; }));
  std::vector<const v1::Record*> population;
  for (const auto& [id, r] : period) {
    out->add_population(id);
    population.push_back(&r);
  }
  Digest seed = SpotCheckSeed(req.agency(), req.from_unix_nanos(), req.to_unix_nanos(), checkpoint);
  out->set_seed(seed.Hex());
  out->set_withheld_above_clearance(withheld);
  for (uint64_t i : DrawSample(seed, population.size(), req.n())) {
    const v1::Record& r = *population[i];
    v1::SampledRecord* s = out->add_sampled();
    s->set_id(r.id());
    s->set_archive_number(r.archive_number());
    s->set_start_unix_nanos(r.start_unix_nanos());
    s->set_end_unix_nanos(r.end_unix_nanos());
    for (std::string& p : Problems(r)) s->add_problems(std::move(p));
    s->set_status(s->problems().empty() ? "complete" : "incomplete");
  }
  return absl::OkStatus();
}

}  // namespace custody
