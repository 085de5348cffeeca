#include "ingest/commands.h"

#include <signal.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/units.h"
#include "ingest/quarantine.h"

namespace custody::ingest {
namespace {

using json = nlohmann::json;

std::string Dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace); }

void PrintSummary(const json& j) {
  int64_t pid = j.value("pid", int64_t{0});
  bool alive = j.value("running", false) && pid > 0 && kill(static_cast<pid_t>(pid), 0) == 0;
  std::string servers;
  json addresses = j.value("servers", json::array());
  for (const auto& s : addresses) {
    std::string a = s.get<std::string>();
    absl::StrAppend(&servers, servers.empty() ? "" : ", ", a,
                    a == j.value("server", "") ? " (in use)" : "");
  }
  std::cout << "daemon       "
            << (alive ? "running, pid " + std::to_string(pid)
                      : std::string("not running: the figures are from its last status"))
            << "\n"
            << "updated      " << j.value("updated", "") << "\n"
            << "servers      " << servers << "\n"
            << "failovers    " << j.value("failovers", 0) << "\n"
            << "settling     " << j.value("settling", 0) << "\n"
            << "queued       " << j.value("queued", 0) << "\n"
            << "awaiting     " << j.value("awaiting_dock_manifest", 0)
            << " (their folder's dock manifest is not on record yet"
            << (j.value("dock_manifest_problem", "").empty()
                    ? ""
                    : ": " + j.value("dock_manifest_problem", ""))
            << ")\n"
            << "in flight    " << j.value("in_flight", json::array()).size() << "\n"
            << "done         " << j.value("done", 0) << "\n"
            << "not filed    " << j.value("not_filed", 0)
            << " (stored, but the node could not file them under a record)\n"
            << "quarantined  " << j.value("quarantined", 0) << " in all\n"
            << "ignored      " << j.value("ignored", 0) << " (links, nested folders: see the log)\n"
            << "rate         " << FormatBytes(j.value("bytes_per_second", 0.0)) << "/s\n";
}

void PrintFiles(const json& j) {
  json stuck = j.value("stuck", json::object()), in_flight = j.value("in_flight", json::array());
  for (const auto& [file, why] : stuck.items()) {
    std::cout << "  STUCK " << file << ": " << why.get<std::string>() << "\n";
  }
  for (const auto& f : in_flight) {
    std::string error = f.value("last_error", "");
    std::cout << "  " << f.value("file", "") << "  " << FormatBytes(f.value("sent", 0.0)) << " of "
              << FormatBytes(f.value("size", 0.0)) << " to " << f.value("server", "")
              << (error.empty() ? "" : "  retrying: " + error) << "\n";
  }
}

void PrintQuarantine(const std::vector<QuarantinedFile>& files) {
  std::cout << "in quarantine " << files.size()
            << (files.empty() ? "\n" : " (custody-ingestd retry FILE|--all puts them back)\n");
  for (const QuarantinedFile& f : files) {
    std::cout << "  " << f.rel << ": " << (f.reason.empty() ? "(no .reason file)" : f.reason)
              << "\n";
  }
}

void PrintRecentDone(const json& j) {
  json recent = j.value("recent_done", json::array());
  if (recent.empty()) return;
  std::cout << "last done, newest first:\n";
  for (const auto& f : recent) {
    std::string id = f.value("id", "");
    std::string record = f.value("record", ""), problem = f.value("filing_problem", "");
    std::cout << "  " << f.value("when", "") << "  " << f.value("file", "") << "  "
              << (id.empty() ? "(id not recorded)" : id) << "  "
              << (!problem.empty() ? "NOT FILED: " + problem
                  : record.empty() ? "(no record)"
                                   : record)
              << "\n";
  }
}

json ToJson(const std::vector<QuarantinedFile>& files) {
  json out = json::array();
  for (const QuarantinedFile& f : files) out.push_back({{"file", f.rel}, {"reason", f.reason}});
  return out;
}

}  // namespace

int PrintStatus(const std::string& state_dir, const std::string& watch_dir, bool as_json) {
  absl::StatusOr<std::string> text = ReadFileToString(state_dir + "/status.json");
  if (!text.ok()) {
    std::cerr << "custody-ingestd: NOT_FOUND: no status in " << state_dir
              << " (is the daemon running with --state " << state_dir << "?)\n";
    return 1;
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::cerr << "custody-ingestd: DATA_LOSS: the status file " << state_dir
              << "/status.json does not parse\n";
    return 1;
  }
  std::string watch = watch_dir.empty() ? j.value("watch", "") : watch_dir;
  absl::StatusOr<std::vector<QuarantinedFile>> quarantined =
      watch.empty()
          ? absl::FailedPreconditionError("the status names no watched folder: pass --watch")
          : ListQuarantine(watch);
  if (as_json) {
    if (quarantined.ok()) j["quarantined_files"] = ToJson(*quarantined);
    std::cout << Dump(j) << "\n";
  } else {
    PrintSummary(j);
    PrintFiles(j);
    if (quarantined.ok()) PrintQuarantine(*quarantined);
    PrintRecentDone(j);
  }
  if (!quarantined.ok()) {
    std::cerr << "custody-ingestd: listing the quarantine: " << quarantined.status() << "\n";
    return 1;
  }
  return 0;
}

int RunRetry(const std::string& watch_dir, const std::string& state_dir,
             const std::vector<std::string>& files, bool all, bool as_json) {
  if (all == !files.empty()) {
    std::cerr << "custody-ingestd: retry takes FILE... (under quarantine/) or --all\n";
    return 2;
  }
  std::error_code ec;
  std::string watch = std::filesystem::canonical(watch_dir, ec).string();
  if (ec || !std::filesystem::is_directory(watch, ec)) {
    std::cerr << "custody-ingestd: --watch " << watch_dir << " is not a folder\n";
    return 2;
  }
  std::vector<std::string> todo = files;
  if (all) {
    absl::StatusOr<std::vector<QuarantinedFile>> listed = ListQuarantine(watch);
    if (!listed.ok()) {
      std::cerr << "custody-ingestd: listing the quarantine: " << listed.status() << "\n";
      return 1;
    }
    for (const QuarantinedFile& f : *listed) todo.push_back(f.rel);
    if (todo.empty() && !as_json) std::cout << "nothing in " << watch << "/quarantine\n";
  }
  int failed = 0;
  json retried = json::array(), failures = json::array();
  for (const std::string& file : todo) {
    absl::Time now = absl::Now();
    absl::StatusOr<Retried> r = Retry(watch, file, now);
    if (!r.ok()) {
      std::cerr << "custody-ingestd: retry " << file << ": " << r.status() << "\n";
      failures.push_back({{"file", file}, {"error", r.status().ToString()}});
      ++failed;
      continue;
    }
    retried.push_back({{"file", r->rel}, {"sidecar", r->sidecar}});
    if (!as_json) {
      std::cout << "retried " << r->rel << (r->sidecar ? " with its sidecar" : "") << "\n";
    }
    if (absl::Status l = LogRetry(state_dir, *r, now); !l.ok()) {
      std::cerr << "custody-ingestd: retried " << r->rel << ", but could not log it: " << l << "\n";
      failures.push_back({{"file", r->rel}, {"error", "not logged: " + l.ToString()}});
      ++failed;
    }
  }
  if (as_json) std::cout << Dump(json{{"retried", retried}, {"failed", failures}}) << "\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace custody::ingest
