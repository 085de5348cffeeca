#include "client/storage_commands.h"

#include <unistd.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/attestation_check.h"
#include "client/cli_errors.h"
#include "client/client.h"
#include "client/progress.h"
#include "client/record_text.h"
#include "client/shown_time.h"
#include "common/units.h"
#include "common/utf8.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;

int Fail(const absl::Status& s) { return PrintFailure(s); }

json InfoJson(const v1::ObjectInfo& o) {
  json meta = json::object();
  for (const auto& [k, v] : o.metadata()) meta[k] = v;
  return json{{"id", o.id()},
              {"size", o.size()},
              {"file_name", o.file_name()},
              {"media_type", o.media_type()},
              {"stored_at", ShownTime(o.stored_at_unix_nanos())},
              {"chunk_size", o.chunk_size()},
              {"chunks", o.chunk_count()},
              {"sm3", o.sm3()},
              {"metadata", meta}};
}

void PrintInfo(const v1::ObjectInfo& o) {
  std::cout << "id:         " << o.id() << "\n"
            << "size:       " << o.size() << " bytes (" << FormatBytes(o.size()) << ")\n"
            << "file name:  " << o.file_name() << "\n"
            << "media type: " << o.media_type() << "\n"
            << "stored at:  " << ShownTime(o.stored_at_unix_nanos()) << "\n"
            << "chunks:     " << o.chunk_count() << " x " << FormatBytes(o.chunk_size()) << "\n";
  if (!o.sm3().empty()) std::cout << "sm3:        " << o.sm3() << "\n";
  for (const auto& [k, v] : o.metadata()) std::cout << "meta " << k << " = " << v << "\n";
}

// What put prints: the id on stdout (all of it as JSON with --json), and
// the copies and the rate on stderr.
void PrintPut(const PutResult& r, const std::string& file, double secs, bool as_json) {
  if (as_json) {
    std::cout << json{{"id", r.id},
                      {"size", r.size},
                      {"already_stored", r.already_stored},
                      {"bytes_sent", r.bytes_sent},
                      {"resumed_from", r.resumed_from},
                      {"attempts", r.attempts},
                      {"seconds", secs},
                      {"durable_replicas", r.durable_replicas},
                      {"required_replicas", r.required_replicas},
                      {"record", r.record_id},
                      {"filing_problem", r.filing_problem}}
                     .dump()
              << "\n";
    return;
  }
  std::cout << r.id << "\n";
  if (r.durable_replicas < r.required_replicas) {
    std::cerr << "warning: the cluster holds " << r.durable_replicas << " of the "
              << r.required_replicas << " copies it needs\n";
  }
  if (!r.record_id.empty()) std::cerr << "filed under record " << r.record_id << "\n";
  if (!r.filing_problem.empty()) {
    std::cerr << "warning: stored, but not filed under a record: " << r.filing_problem << "\n";
  }
  if (r.already_stored && r.bytes_sent == 0) {  // the node answered from the file's hash
    std::cerr << "already stored: " << file << " (" << FormatBytes(r.size)
              << "; the node holds it: no bytes sent)\n";
    return;
  }
  std::cerr << (r.already_stored ? "already stored: " : "stored: ") << file << " ("
            << FormatBytes(r.size) << ", " << FormatBytes(r.bytes_sent / std::max(secs, 1e-6))
            << "/s" << (r.resumed_from ? absl::StrCat(", resumed at byte ", r.resumed_from) : "")
            << ")\n";
}

int RunPut(const CliGlobals& g, const std::string& file, const std::vector<std::string>& metas) {
  PutOptions opts;
  if (absl::Status s = ParseMetadata(metas, &opts.metadata); !s.ok()) return Fail(s);
  ProgressBar bar("put", isatty(STDERR_FILENO));
  opts.progress = [&](uint64_t d, uint64_t t) { bar.Update(d, t); };
  absl::Time t0 = absl::Now();
  absl::StatusOr<PutResult> r = CustodyClient::Connect(g.server)->Put(file, opts);
  double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  if (!r.ok()) return Fail(r.status());
  PrintPut(*r, file, secs, g.json);
  return 0;
}

// "START-END" or "START-" (bytes, END included).
absl::StatusOr<ByteRange> ParseRange(const std::string& text) {
  ByteRange r;
  const size_t dash = text.find('-');
  uint64_t end = 0;
  if (dash == std::string::npos || !absl::SimpleAtoi(text.substr(0, dash), &r.start) ||
      (dash + 1 < text.size() && !absl::SimpleAtoi(text.substr(dash + 1), &end)) ||
      (dash + 1 < text.size() && end < r.start)) {
    return UsageError(absl::StrCat("--range \"", text,
                                   "\" must be START-END or START- (byte offsets, END included)"));
  }
  if (dash + 1 < text.size()) r.end = end;
  return r;
}

// get -o -: the object (or --range of it) to stdout, for a pipe.
int RunGetToStdout(const CliGlobals& g, const std::string& id, const std::string& range_text) {
  if (g.json) return Fail(UsageError("--json goes with -o FILE: with -o - stdout is the object"));
  std::optional<ByteRange> range;
  if (!range_text.empty()) {
    absl::StatusOr<ByteRange> r = ParseRange(range_text);
    if (!r.ok()) return Fail(r.status());
    range = *r;
  }
  absl::StatusOr<GetResult> r = CustodyClient::Connect(g.server)->Stream(id, STDOUT_FILENO, range);
  if (!r.ok()) return Fail(r.status());
  std::cerr << "verified " << (range ? "every chunk of the range of " : "") << r->info.id() << " ("
            << FormatBytes(r->bytes_received) << " to stdout)\n";
  return 0;
}

int RunGet(const CliGlobals& g, const std::string& id, const std::string& out,
           const std::string& range) {
  if (out == "-") return RunGetToStdout(g, id, range);
  if (!range.empty()) return Fail(UsageError("--range goes with -o - (to stdout)"));
  ProgressBar bar("get", isatty(STDERR_FILENO));
  absl::StatusOr<GetResult> r = CustodyClient::Connect(g.server)->Get(
      id, out, [&](uint64_t d, uint64_t t) { bar.Update(d, t); });
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    std::cout << json{{"id", r->info.id()},
                      {"size", r->info.size()},
                      {"output", out},
                      {"verified", true}}
                     .dump()
              << "\n";
  } else {
    std::cerr << "verified " << r->info.id() << " -> " << out << " (" << FormatBytes(r->info.size())
              << ")\n";
  }
  return 0;
}

int RunStat(const CliGlobals& g, const std::string& id, bool sm3) {
  absl::StatusOr<v1::ObjectInfo> r = CustodyClient::Connect(g.server)->Stat(id, sm3);
  if (!r.ok()) return Fail(r.status());
  if (g.json)
    std::cout << InfoJson(*r).dump() << "\n";
  else
    PrintInfo(*r);
  return 0;
}

int RunList(const CliGlobals& g) {
  // Page by page, each printed as it comes: a node may hold millions.
  size_t count = 0;
  bool first = true;
  if (g.json) std::cout << "{\"objects\":[";
  absl::Status s =
      CustodyClient::Connect(g.server)->ForEachPage([&](const std::vector<v1::ObjectInfo>& page) {
        std::vector<std::vector<std::string>> rows;
        for (const v1::ObjectInfo& o : page) {
          if (g.json) {
            std::cout << (count == 0 ? "" : ",") << InfoJson(o).dump();
          } else {
            rows.push_back({o.id(), absl::StrCat(o.size()), ShownTime(o.stored_at_unix_nanos()),
                            o.file_name().empty() ? "-" : o.file_name()});
          }
          ++count;
        }
        if (!g.json) {
          PrintTable(std::cout,
                     {"ID", "BYTES", "STORED (" + ShownTimeZoneName() + ")", "FILE NAME"}, rows,
                     first);
        }
        first = false;
      });
  if (!s.ok()) return Fail(s);  // JSON left open: not a whole list
  if (g.json) std::cout << "],\"count\":" << count << "}\n";
  if (!g.json) std::cerr << count << " object(s)\n";
  return 0;
}

int RunStatus(const CliGlobals& g) {
  absl::StatusOr<v1::NodeStatusResponse> r = CustodyClient::Connect(g.server)->NodeStatus();
  if (!r.ok()) return Fail(r.status());
  json j{{"node_id", r->node_id()},
         {"chunk_size", r->chunk_size()},
         {"io_backend", r->io_backend()},
         {"objects", r->objects()},
         {"volume_bytes", r->volume_bytes()},
         {"free_bytes", r->free_bytes()},
         {"map_version", r->map_version()},
         {"zone", r->zone()},
         {"replication_factor", r->replication_factor()},
         {"read_only", r->read_only()},
         {"audit_events_held", r->audit_events_held()},
         {"etcd", r->etcd()},
         {"etcd_checked", TimeJson(r->etcd_checked_unix_nanos())}};
  if (r->has_attestation()) j["attestation"] = AttestationStatusJson(r->attestation());
  if (g.json) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  const std::string map = r->map_version() == 0 ? std::string("none (a cluster of one)")
                                                : absl::StrCat("version ", r->map_version());
  // A node without a zone in the map is its own zone: not worth a word.
  const bool zone = !r->zone().empty() && r->zone() != r->node_id();
  std::cout << "node:       " << r->node_id() << (zone ? " (zone " + r->zone() + ")" : "") << "\n"
            << "objects:    " << r->objects() << "\n"
            << "stored:     " << FormatBytes(r->volume_bytes()) << " in volumes, "
            << FormatBytes(r->free_bytes()) << " free\n"
            << "chunks:     " << FormatBytes(r->chunk_size()) << ", written via " << r->io_backend()
            << "\n"
            << "cluster:    map " << map << ", R = " << r->replication_factor() << "\n";
  if (!r->read_only().empty()) std::cout << "READ-ONLY:  " << r->read_only() << "\n";
  if (!r->etcd().empty()) {
    std::cout << "etcd:       " << r->etcd()
              << (r->etcd_checked_unix_nanos() != 0
                      ? " (" + ShownTime(r->etcd_checked_unix_nanos()) + ")"
                      : std::string())
              << "\n";
  }
  if (r->audit_events_held() > 0) {
    std::cout << "audit:      " << r->audit_events_held()
              << " events held in memory until there is room on disk\n";
  }
  for (const std::string& line : AttestationStatusLines(r->attestation())) {
    std::cout << "vouched:    " << line << "\n";
  }
  return 0;
}

}  // namespace

absl::Status ParseMetadata(const std::vector<std::string>& metas,
                           std::map<std::string, std::string>* metadata) {
  for (const std::string& m : metas) {
    size_t eq = m.find('=');
    if (eq == std::string::npos || eq == 0) {
      return UsageError(absl::StrCat("--meta wants KEY=VALUE, got \"", m, "\""));
    }
    if (!metadata->emplace(m.substr(0, eq), m.substr(eq + 1)).second) {
      return UsageError(absl::StrCat("--meta ", m.substr(0, eq), " is given twice"));
    }
    if (!IsValidUtf8(m)) {
      return UsageError(absl::StrCat("--meta ", m.substr(0, eq), " is not valid UTF-8 text"));
    }
  }
  return absl::OkStatus();
}

StorageCommands::StorageCommands(CommandSet* set) : set_(set) {
  AddObjects(set->app());
  AddCluster(set->app());
}

void StorageCommands::AddObjects(CLI::App* app) {
  CLI::App* put = set_->Add(app, "put", "store a file; prints its id",
                            [this](const CliGlobals& g) { return RunPut(g, file_, metas_); });
  put->add_option("FILE", file_)->required()->check(CLI::ExistingFile);
  put->add_option("--meta", metas_, "KEY=VALUE metadata (repeatable)");
  set_->AddJsonFlag(put);
  CLI::App* get =
      set_->Add(app, "get", "fetch an object, verified, into a new file (or - for stdout)",
                [this](const CliGlobals& g) { return RunGet(g, id_, out_, range_); });
  get->add_option("ID", id_)->required();
  get->add_option("-o,--output", out_,
                  "output file (must not exist), or - for stdout: each chunk is checked before "
                  "it is written, the whole object at the end")
      ->required();
  get->add_option("--range", range_,
                  "with -o -: only bytes START-END (END included; START- to the end), reading "
                  "only the chunks that hold them");
  set_->AddJsonFlag(get);
  CLI::App* stat = set_->Add(app, "stat", "show an object's facts",
                             [this](const CliGlobals& g) { return RunStat(g, id_, sm3_); });
  stat->add_option("ID", id_)->required();
  stat->add_flag("--sm3", sm3_,
                 "also its SM3 (GB/T 32905-2016): computed by the node the first time (it reads "
                 "the whole object), kept and audited as object.sm3-computed");
  set_->AddJsonFlag(stat);
  set_->AddJsonFlag(set_->Add(app, "ls", "list objects", RunList));
  set_->AddJsonFlag(set_->Add(app, "status", "show the node's status", RunStatus));
}

void StorageCommands::AddCluster(CLI::App* app) {
  CLI::App* cluster = set_->AddGroup(app, "cluster", "the cluster as the node sees it");
  CLI::App* status = set_->Add(cluster, "status", "every node of the map: up, zone, space",
                               WithGlobals(&cluster_, ClusterStatusCommand));
  CLI::App* repair =
      set_->Add(cluster, "repair",
                "run anti-entropy now on every node (or --node): copy what home nodes lack",
                WithGlobals(&cluster_, ClusterRepairCommand));
  CLI::App* scrub = set_->Add(
      cluster, "scrub", "re-hash every chunk now on every node (or --node), repairing corrupt ones",
      WithGlobals(&cluster_, ClusterScrubCommand));
  for (CLI::App* c : {repair, scrub}) {
    c->add_option("--node", cluster_.node, "only this node (its id)");
  }
  for (CLI::App* c : {status, repair, scrub}) set_->AddJsonFlag(c);
  CLI::App* map = set_->AddGroup(cluster, "map", "the cluster map, as etcd holds it");
  CLI::App* show = set_->Add(map, "show", "print the cluster map (its JSON)",
                             WithGlobals(&cluster_, ClusterMapShowCommand));
  CLI::App* apply = set_->Add(
      map, "apply", "install FILE as the next version of the map; every node switches to it",
      WithGlobals(&cluster_,
                  [this](const ClusterArgs& a) { return ClusterMapApplyCommand(a, map_file_); }));
  apply->add_option("FILE", map_file_, "the new map (doc/cluster.md); its version the next one")
      ->required();
  for (CLI::App* c : {show, apply}) set_->AddJsonFlag(c);
}

}  // namespace custody
