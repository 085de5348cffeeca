#include "client/sample_cli.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli_errors.h"
#include "client/record_text.h"
#include "client/shown_time.h"
#include "client/unary_call.h"
#include "common/checkpoint.h"
#include "common/ed25519.h"
#include "common/files.h"
#include "common/spot_check.h"
#include "common/status_macros.h"
#include "custody/v1/records.grpc.pb.h"

namespace custody {
namespace {

using json = nlohmann::ordered_json;

json SampleJson(const v1::SampleResponse& r) {
  json sampled = json::array();
  for (const v1::SampledRecord& s : r.sampled()) {
    sampled.push_back(json{{"id", s.id()},
                           {"archive_number", s.archive_number()},
                           {"start", TimeJson(s.start_unix_nanos())},
                           {"end", TimeJson(s.end_unix_nanos())},
                           {"status", s.status()},
                           {"problems", s.problems()}});
  }
  return json{{"agency", r.agency()},
              {"from_unix_nanos", r.from_unix_nanos()},
              {"to_unix_nanos", r.to_unix_nanos()},
              {"from", TimeJson(r.from_unix_nanos())},
              {"to", TimeJson(r.to_unix_nanos())},
              {"n", r.n()},
              {"checkpoint", r.checkpoint()},
              {"public_key_pem", r.public_key_pem()},
              {"seed", r.seed()},
              {"population", r.population()},
              {"withheld_above_clearance", r.withheld_above_clearance()},
              {"sampled", sampled}};
}

void PrintSample(const v1::SampleResponse& r, const Checkpoint& c) {
  std::cout << "spot check of agency " << r.agency() << ", records started from "
            << TimeText(r.from_unix_nanos()) << " to " << TimeText(r.to_unix_nanos()) << ": "
            << r.sampled_size() << " of " << r.population_size() << " drawn\n"
            << "seed " << r.seed() << " from checkpoint " << c.origin << " at size " << c.size
            << ", signed " << ShownTime(c.time_unix_nanos) << ", after the period ended\n";
  if (r.withheld_above_clearance() > 0) {
    std::cout << r.withheld_above_clearance()
              << " record(s) above your clearance are not in the draw\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::SampledRecord& s : r.sampled()) {
    rows.push_back({s.id(), s.archive_number().empty() ? "-" : s.archive_number(),
                    TimeText(s.start_unix_nanos()), s.status(), absl::StrJoin(s.problems(), "; ")});
  }
  PrintTable(std::cout, {"RECORD", "ARCHIVE NUMBER", "START", "STATUS", "PROBLEMS"}, rows);
  std::cout << "anyone can reproduce the draw: save this with --json, then "
               "custody report sample --verify FILE\n";
}

// Whether `j` has the fields of a --json output, of their types (so that
// Reproduce reads them without a throw).
absl::Status CheckShape(const json& j) {
  for (const char* k : {"agency", "checkpoint", "public_key_pem", "seed"}) {
    if (!j.contains(k) || !j[k].is_string())
      return absl::InvalidArgumentError(absl::StrCat("no ", k));
  }
  for (const char* k : {"from_unix_nanos", "to_unix_nanos", "n"}) {
    if (!j.contains(k) || !j[k].is_number_integer()) {
      return absl::InvalidArgumentError(absl::StrCat("no ", k));
    }
  }
  if (!j.contains("population") || !j["population"].is_array()) {
    return absl::InvalidArgumentError("no population");
  }
  for (const json& id : j["population"]) {
    if (!id.is_string()) return absl::InvalidArgumentError("a population entry is not an id");
  }
  if (!j.contains("sampled") || !j["sampled"].is_array()) {
    return absl::InvalidArgumentError("no sampled records");
  }
  for (const json& r : j["sampled"]) {
    if (!r.is_object() || !r.contains("id") || !r["id"].is_string()) {
      return absl::InvalidArgumentError("a sampled record has no id");
    }
  }
  return absl::OkStatus();
}

// Reproduces the draw saved in `j` (a --json output, CheckShape), offline.
absl::Status Reproduce(const json& j, const std::string& pubkey_pem, Checkpoint* c) {
  std::string pem = pubkey_pem.empty() ? j["public_key_pem"].get<std::string>() : pubkey_pem;
  ASSIGN_OR_RETURN(std::string key, Ed25519PublicFromPem(pem));
  ASSIGN_OR_RETURN(*c, VerifyCheckpoint(j["checkpoint"].get<std::string>(), key));
  const int64_t from = j["from_unix_nanos"].get<int64_t>(), to = j["to_unix_nanos"].get<int64_t>();
  if (c->time_unix_nanos < to) {
    return absl::DataLossError(absl::StrCat("the checkpoint was signed at ",
                                            ShownTime(c->time_unix_nanos),
                                            ", before the period ended: its draw was knowable"));
  }
  Digest seed = SpotCheckSeed(j["agency"].get<std::string>(), from, to, *c);
  if (seed.Hex() != j["seed"].get<std::string>()) {
    return absl::DataLossError("the seed is not the one the checkpoint gives");
  }
  std::vector<std::string> population = j["population"].get<std::vector<std::string>>();
  if (std::set<std::string>(population.begin(), population.end()).size() != population.size() ||
      !std::is_sorted(population.begin(), population.end())) {
    return absl::DataLossError("the population is not a sorted list of distinct records");
  }
  std::vector<std::string> want, got;
  for (uint64_t i : DrawSample(seed, population.size(), j["n"].get<uint32_t>())) {
    want.push_back(population[i]);
  }
  for (const json& s : j["sampled"]) got.push_back(s["id"].get<std::string>());
  if (want != got) {
    return absl::DataLossError(absl::StrCat("the records drawn are not the ones the seed draws: ",
                                            absl::StrJoin(want, ", ")));
  }
  return absl::OkStatus();
}

int Verify(const SampleArgs& s) {
  absl::StatusOr<std::string> text = ReadFileToString(s.verify);
  if (!text.ok()) return PrintFailure(text.status());
  std::string pubkey;
  if (!s.pubkey.empty()) {
    absl::StatusOr<std::string> pem = ReadFileToString(s.pubkey);
    if (!pem.ok()) return PrintFailure(pem.status());
    pubkey = *pem;
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return PrintFailure(UsageError(s.verify + " is not the --json output of a sample"));
  }
  if (absl::Status shape = CheckShape(j); !shape.ok()) {
    return PrintFailure(UsageError(absl::StrCat(s.verify, ": ", shape.message())));
  }
  Checkpoint c;
  if (absl::Status ok = Reproduce(j, pubkey, &c); !ok.ok()) return PrintFailure(ok);
  std::cout << "reproduced: the " << j["sampled"].size() << " record(s) are the draw of seed "
            << j["seed"].get<std::string>() << " from checkpoint " << c.origin << " at size "
            << c.size << ", signed " << ShownTime(c.time_unix_nanos) << " after the period\n";
  return 0;
}

}  // namespace

int SampleCommand(const RecordArgs& a, const SampleArgs& s) {
  if (!s.verify.empty()) return Verify(s);
  if (a.agency.empty() || a.from.empty() || a.to.empty()) {
    return PrintFailure(UsageError("a sample needs --agency, --from and --to (or --verify FILE)"));
  }
  v1::SampleRequest req;
  req.set_agency(a.agency);
  req.set_n(s.n);
  absl::StatusOr<std::pair<int64_t, int64_t>> period = ParsePeriod(a.from, a.to);
  if (!period.ok()) return PrintFailure(period.status());
  req.set_from_unix_nanos(period->first);
  req.set_to_unix_nanos(period->second);
  v1::SampleResponse r;
  absl::Status st = UnaryCall(a.server, &v1::Records::Stub::Sample, req, &r);
  if (!st.ok()) return PrintFailure(st);
  if (a.json) {
    std::cout << SampleJson(r).dump() << "\n";
    return 0;
  }
  absl::StatusOr<std::string> key = Ed25519PublicFromPem(r.public_key_pem());
  absl::StatusOr<Checkpoint> c = key.ok() ? VerifyCheckpoint(r.checkpoint(), *key) : key.status();
  if (!c.ok()) return PrintFailure(c.status());
  PrintSample(r, *c);
  return 0;
}

}  // namespace custody
