#include "client/record_cli.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/cli_errors.h"
#include "client/decision_signer.h"
#include "client/record_call.h"
#include "client/record_text.h"
#include "client/unary_call.h"
#include "custody/v1/records.grpc.pb.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;
using Stub = v1::Records::Stub;

v1::RecordRef Ref(const RecordArgs& a) {
  v1::RecordRef ref;
  ref.set_record_id(a.record);
  return ref;
}

absl::StatusOr<v1::CreateRecordRequest> CreateRequest(const RecordArgs& a) {
  v1::CreateRecordRequest req;
  req.set_agency(a.agency);
  req.set_matter(a.matter);
  req.set_target(a.target);
  req.set_stage(a.stage);
  for (const std::string& o : a.officers) req.add_officers(o);
  for (const std::string& d : a.devices) req.add_devices(d);
  absl::StatusOr<int64_t> start = ParseTimeFlag("--start", a.start);
  if (!start.ok()) return start.status();
  absl::StatusOr<int64_t> end = ParseTimeFlag("--end", a.end);
  if (!end.ok()) return end.status();
  req.set_start_unix_nanos(*start);
  req.set_end_unix_nanos(*end);
  req.set_classification(a.classification);
  return req;
}

// exempt: with REC none of the new record's flags; without it all those the
// record needs.
absl::Status CheckExemptArgs(const RecordArgs& a) {
  bool describes = !a.agency.empty() || a.matter != 0 || !a.target.empty() || !a.stage.empty() ||
                   !a.start.empty() || !a.end.empty() || !a.officers.empty() ||
                   !a.classification.empty();
  if (!a.record.empty()) {
    if (!describes) return absl::OkStatus();
    return UsageError(
        absl::StrCat("exempt ", a.record,
                     " exempts an existing record: leave out --agency, --matter, "
                     "--target, --stage, --start, --end, --officer and --classification"));
  }
  std::vector<std::string> missing;
  if (a.agency.empty()) missing.push_back("--agency");
  if (a.matter == 0) missing.push_back("--matter");
  if (a.target.empty()) missing.push_back("--target");
  if (a.stage.empty()) missing.push_back("--stage");
  if (a.start.empty()) missing.push_back("--start");
  if (missing.empty()) return absl::OkStatus();
  return UsageError(absl::StrCat("exempt without REC makes a new work record and needs ",
                                 absl::StrJoin(missing, ", ")));
}

}  // namespace

int CatalogListCommand(const RecordArgs& a) {
  v1::CatalogResponse resp;
  absl::Status s = UnaryCall(a.server, &Stub::Catalog, v1::CatalogRequest(), &resp);
  if (!s.ok()) return PrintFailure(s);
  if (a.json) {
    json matters = json::array();
    for (const v1::Matter& m : resp.matters()) matters.push_back(MatterJson(m));
    std::cout << matters.dump() << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::Matter& m : resp.matters()) {
    rows.push_back({absl::StrCat(m.number()), m.category(), m.matter(), m.category_en(),
                    m.matter_en(), m.record_class()});
  }
  PrintTable(std::cout, {"NO", "CATEGORY", "MATTER", "CATEGORY (EN)", "MATTER (EN)", "CLASS"},
             rows);
  std::cerr << resp.matters_size() << " matter(s), catalog " << resp.source() << "\n";
  return 0;
}

int RecordCreateCommand(const RecordArgs& a) {
  absl::StatusOr<v1::CreateRecordRequest> req = CreateRequest(a);
  if (!req.ok()) return PrintFailure(req.status());
  return RecordCall(a, &Stub::Create, *req, [](const v1::Record& r) { return r.id(); });
}

int RecordAttachCommand(const RecordArgs& a) {
  v1::AttachRequest req;
  req.set_record_id(a.record);
  req.set_object_id(a.object);
  req.set_kind(a.kind);
  req.set_device(a.device);
  absl::StatusOr<int64_t> start = ParseTimeFlag("--start", a.start);
  if (!start.ok()) return PrintFailure(start.status());
  absl::StatusOr<int64_t> end = ParseTimeFlag("--end", a.end);
  if (!end.ok()) return PrintFailure(end.status());
  req.set_start_unix_nanos(*start);
  req.set_end_unix_nanos(*end);
  req.set_note_for_gap(a.gap);
  return RecordCall(a, &Stub::Attach, req, [&](const v1::Record& r) {
    return absl::StrCat("attached ", a.object, " to ", r.id(), " as ", a.kind, " (",
                        r.segments_size(), " segment(s), ", r.gaps_size(), " gap(s))");
  });
}

int RecordShowCommand(const RecordArgs& a) {
  v1::Record r;
  absl::Status s = UnaryCall(a.server, &Stub::Show, Ref(a), &r);
  if (!s.ok()) return PrintFailure(s);
  if (a.json) {
    std::cout << RecordJson(r).dump() << "\n";
  } else {
    PrintRecord(std::cout, r);
  }
  return 0;
}

int RecordListCommand(const RecordArgs& a, bool overdue) {
  v1::ListRecordsRequest req;
  req.set_agency(a.agency);
  req.set_matter(a.matter);
  req.set_officer(a.officer);
  req.set_device(a.device);
  absl::StatusOr<int64_t> from = ParseTimeFlag("--from", a.from);
  if (!from.ok()) return PrintFailure(from.status());
  absl::StatusOr<int64_t> to = ParseTimeFlag("--to", a.to);
  if (!to.ok()) return PrintFailure(to.status());
  req.set_from_unix_nanos(*from);
  req.set_to_unix_nanos(*to);
  req.set_flag(a.flag);
  req.set_overdue(overdue);
  req.set_target(a.target);
  req.set_text(a.text);
  req.set_held(a.held);
  req.set_page_size(a.page_size);
  req.set_page_token(a.page);
  // With --limit, one page; without, every page, each printed as it comes.
  const bool one_page = a.page_size != 0;
  size_t count = 0;
  if (a.json) std::cout << "[";  // an array, as ever; the paging on stderr
  std::string next;
  bool first = true;
  do {
    v1::ListRecordsResponse resp;
    absl::Status s = UnaryCall(a.server, &Stub::List, req, &resp);
    if (!s.ok()) return PrintFailure(s);
    std::vector<std::vector<std::string>> rows;
    for (const v1::Record& r : resp.records()) {
      if (a.json) {
        std::cout << (count++ == 0 ? "" : ",") << RecordJson(r).dump();
      } else {
        rows.push_back(RecordRow(r));
      }
    }
    if (!a.json) PrintTable(std::cout, RecordHeader(), rows, first);
    first = false;
    count += rows.size();
    next = resp.next_page_token();
    req.set_page_token(next);
  } while (!one_page && !next.empty());
  if (a.json) std::cout << "]\n";
  std::cerr << count << " record(s)";
  if (one_page && !next.empty()) std::cerr << "; next page: --page " << next;
  std::cerr << "\n";
  return 0;
}

int RecordCorrectCommand(const RecordArgs& a) {
  v1::CorrectRequest req;
  req.set_record_id(a.record);
  req.set_field(a.field);
  req.set_value(a.value);
  std::string signed_value = a.value;            // what the node stores
  if (a.field == "start" || a.field == "end") {  // sent as RFC 3339 UTC, whatever was typed
    absl::StatusOr<int64_t> t = ParseTimeFlag("--value", a.value);
    if (!t.ok()) return PrintFailure(t.status());
    req.set_value(
        absl::FormatTime(absl::RFC3339_full, absl::FromUnixNanos(*t), absl::UTCTimeZone()));
    signed_value = std::to_string(*t);
  }
  req.set_reason(a.reason);
  absl::StatusOr<v1::SignedDecision> d =
      SignDecision("record.corrected", "record:" + a.record,
                   {{"field", a.field}, {"value", signed_value}, {"reason", a.reason}});
  if (!d.ok()) return PrintFailure(d.status());
  *req.mutable_signed_() = *d;
  return RecordCall(a, &Stub::Correct, req, [&](const v1::Record& r) {
    std::string text = absl::StrCat("corrected ", a.field, " of ", r.id());
    if (r.corrections().empty()) return text;
    const v1::Correction& c = *r.corrections().rbegin();
    return absl::StrCat(text, ": \"", CorrectedValueText(c.field(), c.old_value(), r.time_zone()),
                        "\" -> \"", CorrectedValueText(c.field(), c.new_value(), r.time_zone()),
                        "\"");
  });
}

int RecordArchiveCommand(const RecordArgs& a) {
  return RecordCall(a, &Stub::Archive, Ref(a), [](const v1::Record& r) {
    return absl::StrCat("archived ", r.id(), " as ", r.archive_number());
  });
}

int RecordNoteCommand(const RecordArgs& a) {
  v1::NoteRequest req;
  req.set_record_id(a.record);
  req.set_gap(a.gap);
  req.set_missing(a.missing);
  req.set_reason(a.reason);
  return RecordCall(a, &Stub::Note, req, [&](const v1::Record& r) {
    return absl::StrCat("noted ", a.missing != 0 ? "missing file " : "gap ",
                        a.missing != 0 ? a.missing : a.gap, " of ", r.id(), ": ", a.reason);
  });
}

int RecordExemptCommand(const RecordArgs& a) {
  if (absl::Status c = CheckExemptArgs(a); !c.ok()) return PrintFailure(c);
  v1::ExemptRequest req;
  if (!a.record.empty()) {
    req.set_record_id(a.record);
  } else {
    absl::StatusOr<v1::CreateRecordRequest> create = CreateRequest(a);
    if (!create.ok()) return PrintFailure(create.status());
    *req.mutable_create() = *std::move(create);
  }
  req.set_reason(a.reason);
  req.set_details(a.details);
  return RecordCall(a, &Stub::Exempt, req, [](const v1::Record& r) { return r.id(); });
}

int RecordApproveExemptionCommand(const RecordArgs& a) {
  v1::RecordRef ref = Ref(a);
  absl::StatusOr<v1::SignedDecision> d =
      SignDecision("record.exemption-approved", "record:" + a.record, {});
  if (!d.ok()) return PrintFailure(d.status());
  *ref.mutable_signed_() = *d;
  return RecordCall(a, &Stub::ApproveExemption, ref, [](const v1::Record& r) {
    return absl::StrCat("approved the exemption of ", r.id(), " (", r.exemption().reason(), ")");
  });
}

int RecordRetainCommand(const RecordArgs& a) {
  v1::RetainRequest req;
  req.set_record_id(a.record);
  req.set_permanent(a.permanent);
  absl::StatusOr<int64_t> until = ParseTimeFlag("--until", a.until);
  if (!until.ok()) return PrintFailure(until.status());
  req.set_until_unix_nanos(*until);
  req.set_reason(a.reason);
  std::map<std::string, std::string> fields{{"reason", a.reason}};
  if (a.permanent) {
    fields["permanent"] = "true";
  } else {
    fields["until"] = std::to_string(*until);
  }
  absl::StatusOr<v1::SignedDecision> d =
      SignDecision("record.retained", "record:" + a.record, fields);
  if (!d.ok()) return PrintFailure(d.status());
  *req.mutable_signed_() = *d;
  return RecordCall(a, &Stub::Retain, req, [](const v1::Record& r) {
    const v1::Retention& t = r.retention();
    return absl::StrCat(
        r.id(), " is kept ",
        t.permanent() ? "permanently" : absl::StrCat("until ", TimeText(t.until_unix_nanos())));
  });
}

}  // namespace custody
