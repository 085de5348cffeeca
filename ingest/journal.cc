#include "ingest/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace custody::ingest {

using json = nlohmann::json;

namespace {
// One journal line; paths that are not UTF-8 are kept readable, not refused.
std::string Line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
}  // namespace

std::string FileKey::ToString() const {
  return absl::StrCat(dev, ":", ino, ":", size, ":", mtime_ns);
}

absl::StatusOr<FileKey> FileKey::Of(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return ErrnoStatus(errno, absl::StrCat("stat ", path));
  FileKey k;
  k.dev = st.st_dev;
  k.ino = st.st_ino;
  k.size = static_cast<uint64_t>(st.st_size);
  k.mtime_ns = absl::ToUnixNanos(absl::TimeFromTimespec(st.st_mtim));
  return k;
}

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("creating ", state_dir, ": ", ec.message()));
  std::unique_ptr<Journal> j(new Journal);
  j->path_ = state_dir + "/journal.jsonl";
  absl::MutexLock l(&j->mu_);
  std::ifstream in(j->path_);
  for (std::string line; std::getline(in, line);) j->Replay(line);
  RETURN_IF_ERROR(j->Rewrite());
  return j;
}

Journal::~Journal() {
  absl::MutexLock l(&mu_);
  if (fd_ >= 0) close(fd_);
}

// A line that does not parse is the torn end of a write the daemon never
// acted on (each step waits for its line to be synced): it is dropped.
void Journal::Replay(const std::string& line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("op") || !j["op"].is_string()) {
    if (!line.empty()) LOG(WARNING) << "journal: dropping a torn line: " << line;
    return;
  }
  std::string op = j["op"].get<std::string>();
  std::string key = j.value("key", "");
  if (op == "stored") {
    stored_[key] = {j.value("id", ""), j.value("record", ""), j.value("filing_problem", "")};
  } else if (op == "done") {
    auto it = stored_.find(key);
    StoredFile f = it == stored_.end() ? StoredFile{} : it->second;
    DoneFile d{j.value("path", ""), j.value("id", f.id), j.value("t", int64_t{0}),
               j.value("record", f.record), j.value("filing_problem", f.filing_problem)};
    if (!d.filing_problem.empty()) ++not_filed_;
    AddRecentLocked(std::move(d));
    stored_.erase(key);
    ++done_;
  } else if (op == "recent") {  // a done file kept by compaction: already counted
    AddRecentLocked({j.value("path", ""), j.value("id", ""), j.value("t", int64_t{0}),
                     j.value("record", ""), j.value("filing_problem", "")});
  } else if (op == "quarantined") {
    stored_.erase(key);
    ++quarantined_;
  } else if (op == "totals") {
    done_ = j.value("done", uint64_t{0});
    quarantined_ = j.value("quarantined", uint64_t{0});
    not_filed_ = j.value("not_filed", uint64_t{0});
  }
}

void Journal::AddRecentLocked(DoneFile f) {
  recent_.push_back(std::move(f));
  while (recent_.size() > kRecentDone) recent_.pop_front();
}

// Compacts the journal to the totals, the recent done files and the files
// stored but not yet moved.
absl::Status Journal::Rewrite() {
  std::string out = Line(json{
      {"op", "totals"}, {"done", done_}, {"quarantined", quarantined_}, {"not_filed", not_filed_}});
  out += "\n";
  for (const DoneFile& f : recent_) {
    out += Line(json{{"op", "recent"},
                     {"path", f.path},
                     {"id", f.id},
                     {"t", f.time},
                     {"record", f.record},
                     {"filing_problem", f.filing_problem}}) +
           "\n";
  }
  for (const auto& [key, f] : stored_) {
    out += Line(json{{"op", "stored"},
                     {"key", key},
                     {"id", f.id},
                     {"record", f.record},
                     {"filing_problem", f.filing_problem}}) +
           "\n";
  }
  RETURN_IF_ERROR(ReplaceFile(path_, out, 0600));
  if (fd_ >= 0) close(fd_);
  fd_ = open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return ErrnoStatus(errno, absl::StrCat("opening ", path_));
  return absl::OkStatus();
}

absl::Status Journal::AppendLocked(const std::string& line) {
  std::string l = line + "\n";
  ssize_t n = write(fd_, l.data(), l.size());
  if (n != static_cast<ssize_t>(l.size())) {
    return ErrnoStatus(n < 0 ? errno : ENOSPC, absl::StrCat("writing ", path_));
  }
  if (fdatasync(fd_) != 0) return ErrnoStatus(errno, absl::StrCat("syncing ", path_));
  return absl::OkStatus();
}

std::optional<std::string> Journal::StoredId(const FileKey& key) const {
  absl::MutexLock l(&mu_);
  auto it = stored_.find(key.ToString());
  if (it == stored_.end()) return std::nullopt;
  return it->second.id;
}

absl::Status Journal::Stored(const FileKey& key, const std::string& path, const std::string& id,
                             const std::string& record, const std::string& filing_problem) {
  absl::MutexLock l(&mu_);
  RETURN_IF_ERROR(AppendLocked(Line(json{{"op", "stored"},
                                         {"key", key.ToString()},
                                         {"path", path},
                                         {"id", id},
                                         {"record", record},
                                         {"filing_problem", filing_problem},
                                         {"t", absl::ToUnixSeconds(absl::Now())}})));
  stored_[key.ToString()] = {id, record, filing_problem};
  return absl::OkStatus();
}

absl::Status Journal::Done(const FileKey& key, const std::string& path) {
  absl::MutexLock l(&mu_);
  auto it = stored_.find(key.ToString());
  StoredFile s = it == stored_.end() ? StoredFile{} : it->second;
  DoneFile f{path, s.id, absl::ToUnixSeconds(absl::Now()), s.record, s.filing_problem};
  RETURN_IF_ERROR(AppendLocked(Line(json{{"op", "done"},
                                         {"key", key.ToString()},
                                         {"path", path},
                                         {"id", f.id},
                                         {"t", f.time},
                                         {"record", f.record},
                                         {"filing_problem", f.filing_problem}})));
  stored_.erase(key.ToString());
  ++done_;
  if (!f.filing_problem.empty()) ++not_filed_;
  AddRecentLocked(std::move(f));
  return absl::OkStatus();
}

absl::Status Journal::Quarantined(const FileKey& key, const std::string& path,
                                  const std::string& reason) {
  absl::MutexLock l(&mu_);
  RETURN_IF_ERROR(AppendLocked(Line(json{{"op", "quarantined"},
                                         {"key", key.ToString()},
                                         {"path", path},
                                         {"reason", reason},
                                         {"t", absl::ToUnixSeconds(absl::Now())}})));
  stored_.erase(key.ToString());
  ++quarantined_;
  return absl::OkStatus();
}

uint64_t Journal::done_total() const {
  absl::MutexLock l(&mu_);
  return done_;
}

uint64_t Journal::not_filed_total() const {
  absl::MutexLock l(&mu_);
  return not_filed_;
}

uint64_t Journal::quarantined_total() const {
  absl::MutexLock l(&mu_);
  return quarantined_;
}

std::vector<DoneFile> Journal::RecentDone() const {
  absl::MutexLock l(&mu_);
  return std::vector<DoneFile>(recent_.rbegin(), recent_.rend());
}

}  // namespace custody::ingest
