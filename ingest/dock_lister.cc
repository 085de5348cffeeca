#include "ingest/dock_lister.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/decision_signer.h"
#include "common/dock_manifest.h"
#include "common/files.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/utf8.h"
#include "custody/v1/records.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace custody::ingest {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Path(const DockOptions& o) { return o.state_dir + "/docks.jsonl"; }

// The listed file at `path`, or nullopt when it is not a regular file.
std::optional<v1::DockedFile> Describe(const DockOptions& o, const std::string& device,
                                       const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  v1::DockedFile f;
  f.set_name(EscapeInvalidUtf8(fs::path(path).filename().string()));
  f.set_size(static_cast<uint64_t>(st.st_size));
  f.set_mtime_unix_nanos(absl::ToUnixNanos(absl::TimeFromTimespec(st.st_mtim)));
  // Where the metadata reads, its start and the camera's number; a file
  // whose metadata does not read is listed all the same.
  absl::StatusOr<RecordingMeta> m = ReadMetadata(path, device, o.name_pattern, o.time_zone);
  if (m.ok()) {
    f.set_start_unix_nanos(absl::ToUnixNanos(m->start));
    if (m->sequence) f.set_sequence(*m->sequence);
  }
  return f;
}

}  // namespace

std::string DockLister::Key(const std::string& device, const v1::DockedFile& f) {
  return absl::StrCat(device, "\n", f.name(), "\n", f.size(), "\n", f.mtime_unix_nanos());
}

absl::StatusOr<std::unique_ptr<DockLister>> DockLister::Open(DockOptions options,
                                                             ServerPool* servers) {
  std::unique_ptr<DockLister> d(new DockLister(std::move(options), servers));
  absl::StatusOr<std::string> text = ReadFileToString(Path(d->o_));
  if (!text.ok() && !absl::IsNotFound(text.status())) return text.status();
  std::map<std::string, std::set<std::string>> present;  // device -> Key()s in its folder
  std::string kept;
  for (absl::string_view line : absl::StrSplit(text.ok() ? *text : "", '\n', absl::SkipEmpty())) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.value("device", json()).is_string()) continue;
    const std::string device = j["device"].get<std::string>(), key = j.value("key", "");
    auto [it, fresh] = present.try_emplace(device);
    if (fresh) {
      v1::DockRequest now = d->Unlisted(device);
      for (const v1::DockedFile& f : now.files()) it->second.insert(Key(device, f));
    }
    // Only files still in the folder count.
    if (it->second.count(key) && d->listed_.insert(key).second) {
      absl::StrAppend(&kept, line, "\n");
    }
  }
  RETURN_IF_ERROR(ReplaceFile(Path(d->o_), kept, 0600));
  return d;
}

v1::DockRequest DockLister::Unlisted(const std::string& device, const Scanner* scanner) const {
  v1::DockRequest dock;
  dock.set_device(device);
  dock.set_station(o_.station);
  const std::string folder = o_.watch_dir + "/" + device;
  absl::StatusOr<std::vector<std::string>> names = ListDir(folder);
  if (!names.ok()) return dock;
  for (const std::string& name : *names) {
    if (IsIgnoredName(folder, name)) continue;
    if (scanner != nullptr && scanner->Settling(folder + "/" + name)) continue;
    std::optional<v1::DockedFile> f = Describe(o_, device, folder + "/" + name);
    if (f && !listed_.count(Key(device, *f))) *dock.add_files() = std::move(*f);
  }
  return dock;
}

bool DockLister::Listed(const Candidate& c, const Scanner& scanner, absl::Time now) {
  if (c.device.empty() || unsupported_) return true;
  v1::DockedFile self;
  self.set_name(EscapeInvalidUtf8(fs::path(c.path).filename().string()));
  self.set_size(c.key.size);
  self.set_mtime_unix_nanos(c.key.mtime_ns);
  if (listed_.count(Key(c.device, self))) return true;
  auto waiting = waiting_.try_emplace(c.device, now).first;
  const bool complete = scanner.Complete(c.device);
  if (!complete && now - waiting->second < kIncompleteWait) return false;  // still being copied
  v1::DockRequest dock = Unlisted(c.device, complete ? nullptr : &scanner);
  dock.set_dock_id(NewDockId());
  dock.set_docked_unix_nanos(absl::ToUnixNanos(now));
  absl::Status s = Send(dock);
  if (!s.ok()) {
    if (absl::IsUnimplemented(s)) {
      LOG(WARNING) << "the cluster takes no dock manifests (an older version): files are "
                      "uploaded without";
      unsupported_ = true;
      return true;
    }
    if (IsNodeDown(s) || absl::IsResourceExhausted(s) || absl::IsUnauthenticated(s)) {
      std::string problem(s.message());
      if (problem != last_problem_) {
        LOG(WARNING) << "the dock manifest of " << c.device << " was not taken (uploads of its "
                     << "files wait for it; will retry): " << s;
        last_problem_ = problem;
      }
      return false;
    }
    // Refused (e.g. a device of another agency): the uploads go on, and the
    // node judges each file as ever (quarantined with its reason).
    LOG(WARNING) << "the cluster refused the dock manifest of " << c.device << " ("
                 << dock.files_size() << " file(s)); they are uploaded without: " << s;
    for (const v1::DockedFile& f : dock.files()) listed_.insert(Key(c.device, f));
    waiting_.erase(c.device);
    return true;
  }
  last_problem_.clear();
  waiting_.erase(c.device);
  if (absl::Status r = Remember(dock); !r.ok()) LOG(WARNING) << "docks.jsonl: " << r;
  LOG(INFO) << "docked " << c.device << ": " << dock.files_size() << " file(s) listed as "
            << dock.dock_id();
  return listed_.count(Key(c.device, self)) > 0;
}

absl::Status DockLister::Send(v1::DockRequest dock) {
  RETURN_IF_ERROR(CheckDock(dock));
  ASSIGN_OR_RETURN(*dock.mutable_signed_(),
                   SignDecision(kDockedKind, "dock:" + dock.dock_id(), DockFields(dock)));
  ServerPool::Retry retry = ServerPool::EachNodeOnce();
  return servers_->Call(retry, [&](const ServerPool::Server& server) {
    auto stub = v1::Records::NewStub(server.channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::DockResponse out;
    return FromGrpcStatus(stub->Docked(&ctx, dock, &out));
  });
}

absl::Status DockLister::Remember(const v1::DockRequest& dock) {
  std::string lines;
  for (const v1::DockedFile& f : dock.files()) {
    listed_.insert(Key(dock.device(), f));
    absl::StrAppend(&lines, json{{"device", dock.device()}, {"key", Key(dock.device(), f)}}.dump(),
                    "\n");
  }
  int fd = open(Path(o_).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "opening " + Path(o_));
  absl::Status s = WriteBytes(fd, lines, Path(o_));
  close(fd);
  return s;
}

}  // namespace custody::ingest
