#include "client/purge_cli.h"

#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli_errors.h"
#include "client/decision_signer.h"
#include "client/record_text.h"
#include "client/shown_time.h"
#include "client/unary_call.h"
#include "common/units.h"
#include "custody/v1/records.grpc.pb.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;
using Stub = v1::Records::Stub;
using Strings = google::protobuf::RepeatedPtrField<std::string>;

constexpr char kHowToPurge[] =
    "dry run: nothing was removed; to purge: custody purge request --reason R, an archive-head "
    "approves it (custody purge approve REQ), then custody purge --expired --confirm REQ";

json StringsJson(const Strings& list) {
  return json(std::vector<std::string>(list.begin(), list.end()));
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

// Sets `key` to the time's text unless it is 0 (not yet).
void AddTime(json* j, const char* key, int64_t nanos) {
  if (nanos != 0) (*j)[key] = ShownTime(nanos);
}

json PlanJson(const v1::PurgePlan& p) {
  json j{{"request", p.request_id()},
         {"records", StringsJson(p.records())},
         {"reason", p.reason()},
         {"requested_by", p.requested_by()}};
  AddTime(&j, "requested", p.requested_unix_nanos());
  j["approved_by"] = p.approved_by();
  AddTime(&j, "approved", p.approved_unix_nanos());
  j["state"] = p.state();
  AddTime(&j, "executed", p.executed_unix_nanos());
  return j;
}

json ResultJson(const v1::PurgeResult& r) {
  return json{{"request", r.request_id()},
              {"records", StringsJson(r.records())},
              {"objects", StringsJson(r.objects())},
              {"chunks", r.chunks()},
              {"skipped", StringsJson(r.skipped())}};
}

// id, archive number, end of retention: a record that could go.
std::string CandidateLine(const v1::Record& r) {
  return absl::StrJoin(
      {r.id(), OrDash(r.archive_number()), TimeText(r.retention().until_unix_nanos())}, "  ");
}

// id, state, who asked, who approved, how many records.
std::string PlanLine(const v1::PurgePlan& p) {
  return absl::StrCat(p.request_id(), "  ", p.state(), "  requested by ", OrDash(p.requested_by()),
                      "  approved by ", OrDash(p.approved_by()), "  ", p.records_size(),
                      " record(s)");
}

void PrintCandidates(const v1::PurgeCandidatesResponse& c) {
  std::cout << c.records_size() << " record(s) whose retention has ended:\n";
  for (const v1::Record& r : c.records()) std::cout << "  " << CandidateLine(r) << "\n";
  std::cout << c.objects_size() << " object(s) whose data would be removed:\n";
  for (const std::string& o : c.objects()) std::cout << "  " << o << "\n";
  std::cout << c.requests_size() << " purge request(s) so far:\n";
  for (const v1::PurgePlan& p : c.requests()) std::cout << "  " << PlanLine(p) << "\n";
  std::cout << kHowToPurge << "\n";
}

int DryRun(const RecordArgs& a) {
  v1::PurgeCandidatesResponse resp;
  absl::Status s = UnaryCall(a.server, &Stub::PurgeCandidates, v1::PurgeCandidatesRequest(), &resp);
  if (!s.ok()) return PrintFailure(s);
  if (!a.json) {
    PrintCandidates(resp);
    return 0;
  }
  json records = json::array(), requests = json::array();
  for (const v1::Record& r : resp.records()) records.push_back(RecordJson(r));
  for (const v1::PurgePlan& p : resp.requests()) requests.push_back(PlanJson(p));
  std::cout << json{{"records", records},
                    {"objects", StringsJson(resp.objects())},
                    {"requests", requests}}
                   .dump()
            << "\n";
  return 0;
}

void PrintResult(const v1::PurgeResult& r) {
  for (const std::string& rec : r.records()) std::cout << "purged " << rec << "\n";
  for (const std::string& o : r.objects()) std::cout << "removed the data of " << o << "\n";
  std::cout << r.request_id() << ": " << r.records_size() << " record(s) purged, "
            << r.objects_size() << " object(s) and " << r.chunks()
            << " chunk(s) removed (chunks other objects share are kept)\n";
  for (const std::string& why : r.skipped()) std::cerr << "warning: skipped " << why << "\n";
}

int Execute(const RecordArgs& a, const std::string& request) {
  v1::PurgeRef ref;
  ref.set_request_id(request);
  v1::PurgeResult r;
  absl::Status s = UnaryCall(a.server, &Stub::ExecutePurge, ref, &r);
  if (!s.ok()) return PrintFailure(s);
  if (a.json) {
    std::cout << ResultJson(r).dump() << "\n";
  } else {
    PrintResult(r);
  }
  return 0;
}

}  // namespace

int PurgeCommand(const RecordArgs& a, const PurgeArgs& p) {
  return p.confirm.empty() ? DryRun(a) : Execute(a, p.confirm);
}

int PurgeRequestCommand(const RecordArgs& a, const PurgeArgs& pa) {
  v1::PurgeRequestRequest req;
  req.set_reason(a.reason);
  for (const std::string& r : pa.records) req.add_records(r);
  v1::PurgePlan p;
  absl::Status s = UnaryCall(a.server, &Stub::RequestPurge, req, &p);
  if (!s.ok()) return PrintFailure(s);
  if (a.json) {
    std::cout << PlanJson(p).dump() << "\n";
    return 0;
  }
  std::cout << p.request_id() << "\n";
  std::cerr << p.request_id() << " covers " << p.records_size()
            << " record(s); an archive-head other than you approves it: custody purge approve "
            << p.request_id() << "\n";
  return 0;
}

int PurgeApproveCommand(const RecordArgs& a, const PurgeArgs& p) {
  v1::PurgeRef ref;
  ref.set_request_id(p.request);
  absl::StatusOr<v1::SignedDecision> d = SignDecision("purge.approved", "purge:" + p.request, {});
  if (!d.ok()) return PrintFailure(d.status());
  *ref.mutable_signed_() = *d;
  v1::PurgePlan plan;
  absl::Status s = UnaryCall(a.server, &Stub::ApprovePurge, ref, &plan);
  if (!s.ok()) return PrintFailure(s);
  std::cout << (a.json ? PlanJson(plan).dump() : absl::StrCat("approved ", plan.request_id()))
            << "\n";
  return 0;
}

}  // namespace custody
