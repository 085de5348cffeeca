// `custody offsite challenge` and the challenge lines of `offsite status`
// (doc/offsite.md, "Challenges").
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli_errors.h"
#include "client/offsite_cli.h"
#include "client/shown_time.h"
#include "client/unary_call.h"
#include "common/units.h"
#include "custody/v1/offsite.grpc.pb.h"

namespace custody {

nlohmann::ordered_json ChallengeJson(const v1::ChallengeReport& r) {
  return nlohmann::ordered_json{{"ok", r.ok()},
                                {"peer", r.peer()},
                                {"snapshot", r.snapshot_id()},
                                {"seed", r.seed()},
                                {"population", r.population()},
                                {"samples", r.samples()},
                                {"missed", r.missed()},
                                {"error", r.error()},
                                {"bytes", r.bytes()},
                                {"seconds", r.seconds()},
                                {"peer_seconds", r.peer_seconds()},
                                {"rate_bytes_per_second", r.rate_bytes_per_second()},
                                {"loss_bound_percent", r.loss_bound_percent()},
                                {"finished", ShownTime(r.finished_unix_nanos())}};
}

void PrintChallenge(std::ostream& out, const v1::ChallengeReport& r) {
  out << (r.ok() ? "ok" : "FAILED") << ": peer " << r.peer() << " answered "
      << (r.samples() - r.missed_size()) << " of " << r.samples() << " chunk(s) drawn from the "
      << r.population() << " of snapshot " << r.snapshot_id() << " ("
      << ShownTime(r.finished_unix_nanos()) << ")\n";
  if (r.ok()) {
    out << absl::StrFormat("at most %.2f%% of the chunks can be lost (95%% confidence)\n",
                           r.loss_bound_percent());
  }
  out << "read " << FormatBytes(r.bytes()) << " on each side at "
      << FormatBytes(r.rate_bytes_per_second()) << "/s: " << absl::StrFormat("%.1f", r.seconds())
      << " s here, " << absl::StrFormat("%.1f", r.peer_seconds()) << " s on the peer; seed "
      << r.seed() << "\n";
  if (!r.error().empty()) out << "the peer gave no answers: " << r.error() << "\n";
  for (const std::string& m : r.missed()) out << "missed: " << m << "\n";
  if (!r.ok()) out << "the next offsite sync sends what the peer lost again\n";
}

int OffsiteChallengeCommand(const OffsiteArgs& a) {
  v1::ChallengeOffsiteRequest req;
  req.set_peer(a.peer);
  req.set_samples(a.samples);
  if (!a.rate.empty()) {
    absl::StatusOr<uint64_t> r = ParseByteRate(a.rate);
    if (!r.ok())
      return PrintFailure(UsageError(absl::StrCat("--rate must be ", r.status().message())));
    req.set_rate_bytes_per_second(*r);
  }
  v1::ChallengeReport r;
  absl::Status st = UnaryCall(a.server, &v1::Snapshots::Stub::ChallengeOffsite, req, &r,
                              std::chrono::seconds(24 * 3600));
  if (!st.ok()) return PrintFailure(st);
  if (a.json) {
    std::cout << ChallengeJson(r).dump() << "\n";
  } else {
    PrintChallenge(std::cout, r);
  }
  return r.ok() ? 0 : 1;
}

}  // namespace custody
