#include "client/offsite_cli.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli_errors.h"
#include "client/shown_time.h"
#include "client/unary_call.h"
#include "common/units.h"
#include "custody/v1/offsite.grpc.pb.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;
using Stub = v1::Snapshots::Stub;
constexpr std::chrono::seconds kLong(24 * 3600);  // syncs and restores of a whole archive

std::string When(int64_t nanos) { return nanos == 0 ? "-" : ShownTime(nanos); }

json SummaryJson(const v1::SnapshotSummary& s) {
  json j{{"id", s.id()},
         {"created", When(s.created_unix_nanos())},
         {"created_by", s.created_by()},
         {"reason", s.reason()},
         {"objects", s.objects()},
         {"chunks", s.chunks()},
         {"data_bytes", s.data_bytes()},
         {"ledger_entries", s.ledger_entries()},
         {"audit_logs", s.audit_logs()},
         {"merkle_root", s.merkle_root()}};
  j["verified_offsite"] = s.receipt_unix_nanos() != 0;
  if (s.receipt_unix_nanos() != 0) {
    j["receipt"] = json{{"verified", When(s.receipt_unix_nanos())}, {"peer", s.receipt_peer()}};
  }
  return j;
}

std::string SummaryLine(const v1::SnapshotSummary& s) {
  return absl::StrCat(
      s.id(), "  ", When(s.created_unix_nanos()), "  ", s.objects(), " object(s)  ",
      FormatBytes(s.data_bytes()), "  ",
      s.receipt_unix_nanos() ? "verified offsite " + When(s.receipt_unix_nanos()) : "not offsite");
}

template <typename T>
json Strings(const T& list) {
  return json(std::vector<std::string>(list.begin(), list.end()));
}

json ReportJson(const v1::OffsiteVerifyReport& r) {
  return json{{"ok", r.ok()},
              {"peer_id", r.peer_id()},
              {"snapshots", Strings(r.snapshots())},
              {"objects", r.objects()},
              {"chunks", r.chunks()},
              {"bytes", r.bytes()},
              {"corrupt", Strings(r.corrupt())},
              {"missing", Strings(r.missing())},
              {"problems", Strings(r.problems())},
              {"seconds", r.seconds()}};
}

}  // namespace

int SnapshotCreateCommand(const OffsiteArgs& a) {
  v1::SnapshotSummary s;
  absl::Status st =
      UnaryCall(a.server, &Stub::CreateSnapshot, v1::CreateSnapshotRequest(), &s, kLong);
  if (!st.ok()) return PrintFailure(st);
  std::cout << (a.json ? SummaryJson(s).dump() : absl::StrCat("made ", SummaryLine(s))) << "\n";
  return 0;
}

int SnapshotListCommand(const OffsiteArgs& a) {
  v1::ListSnapshotsResponse r;
  absl::Status st = UnaryCall(a.server, &Stub::ListSnapshots, v1::ListSnapshotsRequest(), &r);
  if (!st.ok()) return PrintFailure(st);
  if (a.json) {
    json list = json::array();
    for (const v1::SnapshotSummary& s : r.snapshots()) list.push_back(SummaryJson(s));
    std::cout << json{{"snapshots", list}}.dump() << "\n";
    return 0;
  }
  if (r.snapshots().empty()) std::cout << "no snapshot yet: custody snapshot create\n";
  for (const v1::SnapshotSummary& s : r.snapshots()) std::cout << SummaryLine(s) << "\n";
  return 0;
}

int SnapshotShowCommand(const OffsiteArgs& a) {
  v1::SnapshotRef ref;
  ref.set_id(a.snapshot);
  v1::SnapshotDetail d;
  absl::Status st = UnaryCall(a.server, &Stub::GetSnapshot, ref, &d);
  if (!st.ok()) return PrintFailure(st);
  json j = SummaryJson(d.summary());
  j["signer"] = d.snapshot().signer();
  j["signer_key"] = absl::BytesToHexString(d.snapshot().public_key());
  j["signature"] = absl::BytesToHexString(d.snapshot().signature());
  if (d.has_receipt()) {
    j["receipt"]["peer_key"] = absl::BytesToHexString(d.receipt().public_key());
    j["receipt"]["signature"] = absl::BytesToHexString(d.receipt().signature());
  }
  if (a.json) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  for (const auto& [k, v] : j.items()) {
    std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  }
  return 0;
}

int OffsiteSyncCommand(const OffsiteArgs& a) {
  v1::SyncRequest req;
  req.set_snapshot_id(a.snapshot);
  req.set_peer(a.peer);
  req.set_streams(a.streams);
  if (!a.rate.empty()) {
    absl::StatusOr<uint64_t> r = ParseByteRate(a.rate);
    if (!r.ok())
      return PrintFailure(UsageError(absl::StrCat("--rate must be ", r.status().message())));
    req.set_rate_bytes_per_second(*r);
  }
  v1::SyncResult r;
  absl::Status st = UnaryCall(a.server, &Stub::Sync, req, &r, kLong);
  if (!st.ok()) return PrintFailure(st);
  if (a.json) {
    std::cout << json{{"snapshot", r.snapshot_id()},
                      {"peer_id", r.peer_id()},
                      {"blobs_offered", r.blobs_offered()},
                      {"blobs_sent", r.blobs_sent()},
                      {"bytes_sent", r.bytes_sent()},
                      {"seconds", r.seconds()},
                      {"receipt_signature", absl::BytesToHexString(r.receipt().signature())}}
                     .dump()
              << "\n";
    return 0;
  }
  std::cout << r.snapshot_id() << " verified by offsite peer " << r.peer_id() << ": sent "
            << r.blobs_sent() << " of " << r.blobs_offered() << " blob(s), "
            << FormatBytes(r.bytes_sent()) << " in " << r.seconds() << " s; receipt kept\n";
  return 0;
}

int OffsiteStatusCommand(const OffsiteArgs& a) {
  v1::OffsiteStatusResponse r;
  absl::Status st = UnaryCall(a.server, &Stub::OffsiteStatus, v1::OffsiteStatusRequest(), &r);
  if (!st.ok()) return PrintFailure(st);
  if (a.json) {
    json j{{"peer", r.peer()},
           {"schedule_seconds", r.schedule_seconds()},
           {"overdue", r.overdue()},
           {"warning", r.warning()},
           {"objects_behind", r.objects_behind()},
           {"bytes_behind", r.bytes_behind()}};
    if (r.has_last_verified()) {
      j["last_verified"] = SummaryJson(r.last_verified());
      j["age_seconds"] = r.age_seconds();
    }
    if (r.has_last_challenge()) j["last_challenge"] = ChallengeJson(r.last_challenge());
    std::cout << j.dump() << "\n";
    return 0;
  }
  if (r.has_last_verified()) {
    std::cout << "last verified: " << SummaryLine(r.last_verified()) << "\n"
              << "age: " << static_cast<int64_t>(r.age_seconds() / 3600) << " h (schedule: every "
              << static_cast<int64_t>(r.schedule_seconds() / 3600) << " h)\n";
  }
  std::cout << "behind: " << r.objects_behind() << " object(s), " << FormatBytes(r.bytes_behind())
            << " not in a verified offsite snapshot\n";
  if (r.has_last_challenge()) {
    std::cout << "last challenge: ";
    PrintChallenge(std::cout, r.last_challenge());
  } else {
    std::cout << "last challenge: none yet\n";
  }
  if (!r.warning().empty()) std::cerr << "warning: " << r.warning() << "\n";
  return 0;
}

int OffsiteVerifyCommand(const OffsiteArgs& a) {
  v1::VerifyOffsiteRequest req;
  req.set_snapshot_id(a.snapshot);
  req.set_peer(a.peer);
  v1::OffsiteVerifyReport r;
  absl::Status st = UnaryCall(a.server, &Stub::VerifyOffsite, req, &r, kLong);
  if (!st.ok()) return PrintFailure(st);
  if (a.json) {
    std::cout << ReportJson(r).dump() << "\n";
  } else {
    std::cout << (r.ok() ? "ok" : "FAILED") << ": peer " << r.peer_id() << " re-read "
              << r.snapshots_size() << " snapshot(s), " << r.objects() << " object(s), "
              << r.chunks() << " chunk(s), " << FormatBytes(r.bytes()) << " in " << r.seconds()
              << " s\n";
    for (const std::string& c : r.corrupt()) std::cout << "corrupt: " << c << "\n";
    for (const std::string& m : r.missing()) std::cout << "missing: " << m << "\n";
    for (const std::string& p : r.problems()) std::cout << "problem: " << p << "\n";
    if (!r.ok()) std::cout << "the next offsite sync sends what is missing or corrupt again\n";
  }
  return r.ok() ? 0 : 1;
}

}  // namespace custody
