#include "client/live_cli.h"

#include <atomic>
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/cli_errors.h"
#include "client/decision_signer.h"
#include "client/live_uploader.h"
#include "client/record_text.h"
#include "client/shown_time.h"
#include "client/storage_commands.h"
#include "client/unary_call.h"
#include "common/live_chain.h"
#include "common/units.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;

std::atomic<bool> g_stop{false};

json InfoJson(const v1::LiveInfo& i) {
  return json{{"live_id", i.live_id()},
              {"device", i.device()},
              {"file_name", i.file_name()},
              {"owner", i.owner()},
              {"state", i.state()},
              {"held", i.held()},
              {"chain", absl::BytesToHexString(i.chain())},
              {"opened", TimeJson(i.opened_unix_nanos())},
              {"last_segment", TimeJson(i.last_segment_unix_nanos())},
              {"object_id", i.object_id()},
              {"sealed_by", i.sealed_by()},
              {"truncated_reason", i.truncated_reason()},
              {"moved_to", i.moved_to()}};
}

void PrintInfo(const v1::LiveInfo& i, bool as_json) {
  if (as_json) {
    std::cout << InfoJson(i).dump() << "\n";
    return;
  }
  std::cout << i.live_id() << "  " << i.device() << "  " << i.file_name() << "\n"
            << "state:        " << (i.state() == "recording" ? "recording (live)" : i.state())
            << (i.truncated_reason().empty() ? "" : " (" + i.truncated_reason() + ")") << "\n"
            << "held:         " << FormatBytes(i.held()) << " (" << i.held() << " bytes)\n"
            << "last segment: " << TimeText(i.last_segment_unix_nanos(), "none yet") << "\n"
            << "owner:        " << i.owner() << "\n";
  if (!i.object_id().empty()) std::cout << "object:       " << i.object_id() << "\n";
  if (!i.moved_to().empty()) std::cout << "moved to:     node " << i.moved_to() << "\n";
}

int LiveCommand(const LiveArgs& a) {
  if (a.file.empty()) {
    return PrintFailure(UsageError("live needs FILE (or one of: seal, show, list)"));
  }
  LiveOptions o;
  o.path = a.file;
  o.device = a.device;
  o.live_id = a.live_id;
  if (absl::Status s = ParseMetadata(a.metas, &o.metadata); !s.ok()) return PrintFailure(s);
  absl::StatusOr<uint64_t> segment = ParseByteSize(a.segment);
  if (!segment.ok() || *segment == 0 || *segment > kMaxLiveSegment) {
    return PrintFailure(UsageError("--segment is 1 byte to 1MiB, e.g. 256KiB"));
  }
  o.segment_bytes = *segment;
  o.interval = absl::Seconds(a.interval);
  o.finish_after = absl::Seconds(a.finish_after);
  o.stop = &g_stop;
  signal(SIGINT, [](int) { g_stop = true; });
  signal(SIGTERM, [](int) { g_stop = true; });
  absl::Time last_print = absl::InfinitePast();
  o.progress = [&](uint64_t held, uint64_t size) {
    if (a.json || absl::Now() - last_print < absl::Seconds(1)) return;
    last_print = absl::Now();
    std::cerr << "in custody: " << FormatBytes(held) << ", behind: " << FormatBytes(size - held)
              << "\n";
  };
  absl::StatusOr<LiveResult> r = StreamLive(a.server, o);
  if (!r.ok()) return PrintFailure(r.status());
  const v1::LiveAck& last = r->last;
  if (a.json) {
    std::cout << json{{"live_id", r->live_id},
                      {"state", last.state()},
                      {"held", last.held()},
                      {"object_id", last.object_id()},
                      {"durable_replicas", last.durable_replicas()},
                      {"reconnects", r->reconnects}}
                     .dump()
              << "\n";
  } else if (!last.object_id().empty()) {
    std::cout << last.object_id() << "\n";
    std::cerr << r->live_id << ": sealed, " << FormatBytes(last.held()) << " in custody\n";
  } else {
    std::cerr << r->live_id << ": stopped; " << FormatBytes(last.held())
              << " in custody, still recording (live): run again to go on\n";
  }
  return 0;
}

int LiveSealCommand(const LiveArgs& a) {
  v1::LiveSealRequest req;
  req.set_live_id(a.live_id);
  req.set_reason(a.reason);
  // The caller's own decision: signed with their key (doc/security.md).
  absl::StatusOr<v1::SignedDecision> d =
      SignDecision("live.seal-ordered", "live:" + a.live_id, {{"reason", a.reason}});
  if (!d.ok()) return PrintFailure(d.status());
  *req.mutable_signed_() = *std::move(d);
  v1::LiveInfo out;
  absl::Status s = UnaryCall(a.server, &v1::Live::Stub::Seal, req, &out);
  if (!s.ok()) return PrintFailure(s);
  PrintInfo(out, a.json);
  return 0;
}

int LiveShowCommand(const LiveArgs& a) {
  v1::LiveRef req;
  req.set_live_id(a.live_id);
  v1::LiveInfo out;
  absl::Status s = UnaryCall(a.server, &v1::Live::Stub::Query, req, &out);
  if (!s.ok()) return PrintFailure(s);
  PrintInfo(out, a.json);
  return 0;
}

int LiveListCommand(const LiveArgs& a) {
  v1::LiveListResponse out;
  absl::Status s = UnaryCall(a.server, &v1::Live::Stub::List, v1::LiveListRequest(), &out);
  if (!s.ok()) return PrintFailure(s);
  if (a.json) {
    json all = json::array();
    for (const v1::LiveInfo& i : out.uploads()) all.push_back(InfoJson(i));
    std::cout << json{{"uploads", all}}.dump() << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::LiveInfo& i : out.uploads()) {
    rows.push_back({i.live_id(), i.device(), i.state(), absl::StrCat(i.held()),
                    TimeText(i.last_segment_unix_nanos(), "-"),
                    i.object_id().empty() ? "-" : i.object_id()});
  }
  PrintTable(std::cout, {"LIVE", "DEVICE", "STATE", "HELD", "LAST SEGMENT", "OBJECT"}, rows);
  return 0;
}

}  // namespace

LiveCommands::LiveCommands(CommandSet* set) : set_(set) {
  CLI::App* live = set_->Add(set->app(), "live",
                             "stream a recording while it grows; prints its object id once sealed "
                             "(doc/live.md)",
                             WithGlobals(&args_, LiveCommand));
  live->add_option("FILE", args_.file, "the growing recording");
  live->add_option("--device", args_.device, "the camera's device id");
  live->add_option("--meta", args_.metas, "KEY=VALUE metadata (repeatable)");
  live->add_option("--live-id", args_.live_id, "resume this upload (default: from the file)");
  live->add_option("--segment", args_.segment, "segment size (default 1MiB)");
  live->add_option("--interval", args_.interval, "seconds: a segment at least this often")
      ->check(CLI::Range(0.05, 60.0));
  live->add_option("--finish-after", args_.finish_after,
                   "seconds the file must stay unchanged to be complete (default 10)")
      ->check(CLI::Range(0.0, 3600.0));
  set_->AddJsonFlag(live);
  CLI::App* seal = set_->Add(live, "seal",
                             "seal an upload the camera will not finish, as truncated, for a "
                             "reason on record",
                             WithGlobals(&args_, LiveSealCommand));
  seal->add_option("ID", args_.live_id)->required();
  seal->add_option("--reason", args_.reason, "why (the camera was destroyed, ...)")->required();
  CLI::App* show = set_->Add(live, "show", "one live upload", WithGlobals(&args_, LiveShowCommand));
  show->add_option("ID", args_.live_id)->required();
  CLI::App* list = set_->Add(live, "list", "every live upload the node holds",
                             WithGlobals(&args_, LiveListCommand));
  for (CLI::App* c : {seal, show, list}) set_->AddJsonFlag(c);
}

}  // namespace custody
