#include "client/report_cli.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/cli_errors.h"
#include "client/record_text.h"
#include "client/unary_call.h"
#include "custody/v1/records.grpc.pb.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;

// The report's scalars in proto order: agency, period, then every counter.
json Scalars(const v1::Report& r) {
  return json{{"agency", r.agency()},
              {"from", TimeJson(r.from_unix_nanos())},
              {"to", TimeJson(r.to_unix_nanos())},
              {"records", r.records()},
              {"archived", r.archived()},
              {"archived_on_time", r.archived_on_time()},
              {"archived_on_time_percent", r.archived_on_time_percent()},
              {"overdue", r.overdue()},
              {"unexplained_gaps", r.unexplained_gaps()},
              {"explained_gaps", r.explained_gaps()},
              {"missing_files", r.missing_files()},
              {"explained_missing_files", r.explained_missing_files()},
              {"time_mismatches", r.time_mismatches()},
              {"exemptions", r.exemptions()},
              {"exemptions_pending", r.exemptions_pending()},
              {"late_handovers", r.late_handovers()},
              {"access_requests", r.access_requests()},
              {"access_refusals", r.access_refusals()},
              {"devices_not_checked_in", r.devices_not_checked_in()},
              {"objects_not_offsite", r.objects_not_offsite()},
              {"withheld_above_clearance", r.withheld_above_clearance()}};
}

// The record lists, each with the words the table gives it.
std::vector<std::pair<std::string, const google::protobuf::RepeatedPtrField<std::string>*>> Lists(
    const v1::Report& r) {
  return {{"overdue_records", &r.overdue_records()},
          {"gap_records", &r.gap_records()},
          {"missing_records", &r.missing_records()},
          {"exemption_records", &r.exemption_records()},
          {"late_records", &r.late_records()}};
}

std::string ValueText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_number_float()) return absl::StrFormat("%.1f", v.get<double>());
  return v.dump();
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

void PrintTable(const v1::Report& r) {
  const json scalars = Scalars(r);  // items() must not outlive it
  for (const auto& [name, value] : scalars.items()) {
    std::cout << absl::StrFormat("%-24s  %s\n", name, ValueText(value));
  }
  for (const auto& [name, ids] : Lists(r)) {
    std::cout << name << ":" << (ids->empty() ? " none" : "") << "\n";
    for (const std::string& id : *ids) std::cout << "  " << id << "\n";
  }
}

void PrintCsv(const v1::Report& r) {
  std::vector<std::string> names, values;
  const json scalars = Scalars(r);
  for (const auto& [name, value] : scalars.items()) {
    names.push_back(name);
    values.push_back(CsvField(ValueText(value)));
  }
  std::cout << absl::StrJoin(names, ",") << "\n" << absl::StrJoin(values, ",") << "\n";
}

void PrintJson(const v1::Report& r) {
  json j = Scalars(r);
  for (const auto& [name, ids] : Lists(r)) {
    j[name] = json::array();
    for (const std::string& id : *ids) j[name].push_back(id);
  }
  std::cout << j.dump() << "\n";
}

absl::StatusOr<std::string> OutputFormat(const RecordArgs& a) {
  std::string f = a.format.empty() ? (a.json ? "json" : "table") : a.format;
  if (f != "table" && f != "json" && f != "csv") {
    return UsageError(absl::StrCat("--format takes table, json or csv, not \"", f, "\""));
  }
  if (a.json && f != "json") {
    return UsageError(absl::StrCat("--json contradicts --format ", f));
  }
  return f;
}

}  // namespace

int ReportCommand(const RecordArgs& a) {
  if (a.agency.empty() || a.from.empty() || a.to.empty()) {
    return PrintFailure(UsageError("a report needs --agency, --from and --to"));
  }
  absl::StatusOr<std::string> format = OutputFormat(a);
  if (!format.ok()) return PrintFailure(format.status());
  v1::ReportRequest req;
  req.set_agency(a.agency);
  absl::StatusOr<std::pair<int64_t, int64_t>> period = ParsePeriod(a.from, a.to);
  if (!period.ok()) return PrintFailure(period.status());
  req.set_from_unix_nanos(period->first);
  req.set_to_unix_nanos(period->second);
  v1::Report r;
  absl::Status s = UnaryCall(a.server, &v1::Records::Stub::MakeReport, req, &r);
  if (!s.ok()) return PrintFailure(s);
  if (*format == "json") {
    PrintJson(r);
  } else if (*format == "csv") {
    PrintCsv(r);
  } else {
    PrintTable(r);
  }
  return 0;
}

}  // namespace custody
