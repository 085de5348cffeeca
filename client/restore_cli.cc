// `custody offsite snapshots --peer ADDR` and `custody restore --from-offsite
// ADDR` (client/offsite_cli.h): what the offsite peer holds, and a restore
// that names the snapshot it uses before it starts (a dry run first).
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli_errors.h"
#include "client/offsite_cli.h"
#include "client/shown_time.h"
#include "client/unary_call.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "custody/v1/offsite.grpc.pb.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;
using Stub = v1::Snapshots::Stub;
constexpr std::chrono::seconds kLong(24 * 3600);  // a restore of a whole archive

std::string When(int64_t nanos) { return nanos == 0 ? "-" : ShownTime(nanos); }

json PeerSnapshotJson(const v1::PeerSnapshotSummary& s) {
  json j{{"id", s.id()},
         {"created", When(s.created_unix_nanos())},
         {"signer", s.signer()},
         {"signer_key", s.signer_key()},
         {"known_signer", s.known_signer()},
         {"reason", s.reason()},
         {"objects", s.objects()},
         {"chunks", s.chunks()},
         {"data_bytes", s.data_bytes()},
         {"ledger_entries", s.ledger_entries()},
         {"audit_logs", s.audit_logs()},
         {"merkle_root", s.merkle_root()},
         {"receipt", json{{"verified", When(s.verified_unix_nanos())}, {"peer_id", s.peer_id()}}}};
  if (!s.problem().empty()) j["problem"] = s.problem();
  return j;
}

// One row of the table under kPeerHeader.
std::string PeerSnapshotRow(const v1::PeerSnapshotSummary& s) {
  return absl::StrFormat("%-31s %-24s %-16s %-17s %-8s %7d %10s  %s%s\n", s.id(),
                         When(s.created_unix_nanos()), s.signer(), s.signer_key().substr(0, 16),
                         s.known_signer() ? "this" : "UNKNOWN", s.objects(),
                         FormatBytes(s.data_bytes()), When(s.verified_unix_nanos()),
                         s.problem().empty() ? "" : "  PROBLEM: " + s.problem());
}

const std::string kPeerHeader =
    absl::StrFormat("%-31s %-24s %-16s %-17s %-8s %7s %10s  %s\n", "ID", "CREATED", "SIGNER",
                    "SIGNER KEY", "CLUSTER", "OBJECTS", "BYTES", "RECEIPT");

absl::StatusOr<v1::PeerSnapshotList> PeerSnapshots(const OffsiteArgs& a) {
  v1::PeerSnapshotsRequest req;
  req.set_peer(a.peer);
  v1::PeerSnapshotList list;
  RETURN_IF_ERROR(UnaryCall(a.server, &Stub::ListPeerSnapshots, req, &list));
  return list;
}

// The line naming the snapshot a restore uses, from its dry run.
std::string Announcement(const OffsiteArgs& a, const v1::RestoreResult& plan) {
  std::string line = absl::StrCat(a.dry_run ? "would restore " : "restoring ", plan.snapshot_id(),
                                  " from ", a.peer, ": ", plan.snapshot_objects(), " object(s), ",
                                  FormatBytes(plan.snapshot_data_bytes()), ", made ",
                                  When(plan.snapshot_created_unix_nanos()), ", signed by ",
                                  plan.signer(), " (key ", plan.signer_key().substr(0, 16), "...)");
  for (const std::string& f : plan.forced()) {
    absl::StrAppend(&line, f == "empty-snapshot" ? "; EMPTY, restored as --allow-empty-snapshot"
                                                 : "; signed by a key this cluster does not "
                                                   "know, restored as --allow-foreign-cluster");
  }
  return line;
}

v1::RestoreRequest RequestOf(const OffsiteArgs& a) {
  v1::RestoreRequest req;
  req.set_peer(a.peer);
  req.set_snapshot_id(a.snapshot);
  req.set_allow_empty_snapshot(a.allow_empty_snapshot);
  req.set_allow_foreign_cluster(a.allow_foreign_cluster);
  for (const std::string& k : a.trusted_signer_keys) req.add_trusted_signer_keys(k);
  return req;
}

json ResultJson(const v1::RestoreResult& r) {
  return json{{"snapshot", r.snapshot_id()},
              {"snapshot_objects", r.snapshot_objects()},
              {"snapshot_data_bytes", r.snapshot_data_bytes()},
              {"snapshot_created", When(r.snapshot_created_unix_nanos())},
              {"signer", r.signer()},
              {"signer_key", r.signer_key()},
              {"forced", std::vector<std::string>(r.forced().begin(), r.forced().end())},
              {"objects", r.objects()},
              {"chunks", r.chunks()},
              {"bytes", r.bytes()},
              {"ledger_entries", r.ledger_entries()},
              {"audit_logs", r.audit_logs()},
              {"audit_events", r.audit_events()},
              {"seconds", r.seconds()},
              {"objects_present", r.objects_present()}};
}

void PrintResult(const v1::RestoreResult& r) {
  std::cout << "restored " << r.snapshot_id() << ": " << r.objects() << " object(s) ("
            << FormatBytes(r.bytes()) << ", every chunk and file hash checked), "
            << r.ledger_entries() << " ledger entries, " << r.audit_logs() << " audit log(s) of "
            << r.audit_events() << " event(s) checked against their checkpoints, in " << r.seconds()
            << " s\n";
  if (r.objects_present() > 0) {
    std::cout << r.objects_present()
              << " object(s) were in place already, from a restore that stopped half way\n";
  }
  for (const std::string& f : r.forced()) {
    std::cout << "forced: " << f
              << (f == "empty-snapshot" ? " (the snapshot names no object: nothing came back)"
                                        : " (signed by a key this cluster did not know)")
              << "\n";
  }
}

}  // namespace

int OffsiteSnapshotsCommand(const OffsiteArgs& a) {
  absl::StatusOr<v1::PeerSnapshotList> list = PeerSnapshots(a);
  if (!list.ok()) return PrintFailure(list.status());
  if (a.json) {
    json all = json::array();
    for (const v1::PeerSnapshotSummary& s : list->snapshots()) all.push_back(PeerSnapshotJson(s));
    std::cout << json{{"peer", list->peer()}, {"snapshots", all}}.dump() << "\n";
    return 0;
  }
  std::cout << kPeerHeader;
  for (const v1::PeerSnapshotSummary& s : list->snapshots()) std::cout << PeerSnapshotRow(s);
  if (list->snapshots().empty()) std::cout << "the peer holds no sealed snapshot\n";
  return 0;
}

int RestoreCommand(const OffsiteArgs& a) {
  // First the node chooses and checks the snapshot (refusing it, if it
  // must), so that it is named before the long wait.
  v1::RestoreRequest req = RequestOf(a);
  req.set_dry_run(true);
  v1::RestoreResult plan;
  absl::Status st = UnaryCall(a.server, &Stub::Restore, req, &plan);
  if (!st.ok()) return PrintFailure(st);
  (a.json ? std::cerr : std::cout) << Announcement(a, plan) << std::endl;
  if (a.dry_run) {
    if (a.json) std::cout << ResultJson(plan).dump() << "\n";
    return 0;
  }
  req.set_dry_run(false);
  req.set_snapshot_id(plan.snapshot_id());  // the one named, even if the peer got a newer one
  v1::RestoreResult r;
  st = UnaryCall(a.server, &Stub::Restore, req, &r, kLong);
  if (!st.ok()) return PrintFailure(st);
  if (a.json) {
    std::cout << ResultJson(r).dump() << "\n";
  } else {
    PrintResult(r);
  }
  return 0;
}

}  // namespace custody
