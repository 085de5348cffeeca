#include "ingest/quarantine.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "ingest/scanner.h"

namespace custody::ingest {
namespace {

namespace fs = std::filesystem;

std::string QuarantineDir(const std::string& watch_dir) { return watch_dir + "/" + kQuarantineDir; }

// A regular file, not a link.
bool IsRegular(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsFolder(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Adds the recordings in folder `dir`, named `prefix` + name, to `out`.
absl::Status ListFolder(const std::string& dir, const std::string& prefix,
                        std::vector<QuarantinedFile>* out) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    if (IsIgnoredName(dir, name) || !IsRegular(path)) continue;
    absl::StatusOr<std::string> text = ReadFileToString(path + ".reason");
    out->push_back({prefix + name, text.ok() ? ReasonLine(*text) : ""});
  }
  return absl::OkStatus();
}

// The path under quarantine/ `q` that `file` names: a path to the file (from
// here), or already a path under `q`. At most DEVICE/NAME, nothing hidden.
absl::StatusOr<std::string> RelInQuarantine(const std::string& q, const std::string& file) {
  std::string rel = file;
  std::error_code e1, e2;
  fs::path given = fs::absolute(file, e1);
  fs::path parent = fs::canonical(given.parent_path(), e1);
  fs::path root = fs::canonical(q, e2);
  if (!e1 && !e2 && IsRegular(file)) {
    std::string full = (parent / given.filename()).string(), prefix = root.string() + "/";
    if (full.starts_with(prefix)) rel = full.substr(prefix.size());
  }
  std::vector<std::string> parts = absl::StrSplit(rel, '/', absl::SkipEmpty());
  bool ok = !rel.empty() && rel[0] != '/' && !parts.empty() && parts.size() <= 2;
  for (const std::string& p : parts) ok = ok && p[0] != '.';
  rel = absl::StrJoin(parts, "/");
  std::string path = q + "/" + rel;
  if (!ok || !IsRegular(path) || IsIgnoredName(DirName(path), fs::path(path).filename().string())) {
    return absl::NotFoundError(
        absl::StrCat(file, " is not a recording in ", q,
                     " (name it by its path there, e.g. CAM-2/clip.mp4; `status` lists them)"));
  }
  return rel;
}

absl::Status RefuseExisting(const std::string& path, const std::string& rel) {
  ASSIGN_OR_RETURN(bool exists, PathExists(path));
  if (!exists) return absl::OkStatus();
  return absl::AlreadyExistsError(
      absl::StrCat(path,
                   " already exists in the watched folder: retry never overwrites a file; move it "
                   "away, then retry ",
                   rel));
}

// Moves the recording `src` to `dest`, and its sidecar if `sidecar`. The
// sidecar of NAME.EXT goes first: the daemon never takes NAME.EXT.json
// alone, and so never sees the recording without it. (NAME.json would be
// taken as a document while NAME is missing: there the recording goes first.)
absl::Status MoveBack(const std::string& src, const std::string& dest, bool sidecar) {
  if (!sidecar) return MoveNoReplace(src, dest);
  std::pair<std::string, std::string> first{src + ".json", dest + ".json"}, second{src, dest};
  if (!fs::path(dest).has_extension()) std::swap(first, second);
  RETURN_IF_ERROR(MoveNoReplace(first.first, first.second));
  absl::Status s = MoveNoReplace(second.first, second.second);
  if (!s.ok()) {
    absl::Status back = MoveNoReplace(first.second, first.first);
    if (!back.ok()) LOG(ERROR) << "could not move " << first.second << " back: " << back;
  }
  return s;
}

// A free name beside `src` for its reason once retried.
std::string KeptReasonPath(const std::string& src, absl::Time now) {
  std::string base =
      absl::StrCat(src, ".retried-", absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()));
  std::string path = base + ".reason";
  std::error_code ec;
  for (int n = 2; fs::exists(fs::symlink_status(path, ec)); ++n) {
    path = absl::StrCat(base, "~", n, ".reason");
  }
  return path;
}

// Renames the reason of `src`, if any, out of the way of a new quarantining.
void KeepReasonAside(const std::string& src, absl::Time now, Retried* r) {
  std::string path = src + ".reason";
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return;  // none
  r->reason = ReasonLine(*text);
  std::string aside = KeptReasonPath(src, now);
  absl::Status s = MoveNoReplace(path, aside);
  if (s.ok()) {
    r->reason_kept_as = aside;
  } else {
    LOG(WARNING) << "the reason " << path << " stays where it is: " << s;
  }
}

}  // namespace

std::string ReasonLine(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (absl::string_view line : lines) {
    if (absl::ConsumePrefix(&line, "reason: ")) return std::string(line);
  }
  return std::string(lines.front());
}

absl::StatusOr<std::vector<QuarantinedFile>> ListQuarantine(const std::string& watch_dir) {
  std::string q = QuarantineDir(watch_dir);
  std::vector<QuarantinedFile> out;
  ASSIGN_OR_RETURN(bool exists, PathExists(q));
  if (!exists) return out;
  RETURN_IF_ERROR(ListFolder(q, "", &out));
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(q));
  for (const std::string& name : names) {
    if (name[0] != '.' && IsFolder(q + "/" + name)) {
      RETURN_IF_ERROR(ListFolder(q + "/" + name, name + "/", &out));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const QuarantinedFile& a, const QuarantinedFile& b) { return a.rel < b.rel; });
  return out;
}

absl::StatusOr<Retried> Retry(const std::string& watch_dir, const std::string& file,
                              absl::Time now) {
  std::string q = QuarantineDir(watch_dir);
  Retried r;
  ASSIGN_OR_RETURN(r.rel, RelInQuarantine(q, file));
  std::string src = q + "/" + r.rel, dest = watch_dir + "/" + r.rel;
  ASSIGN_OR_RETURN(r.sidecar, PathExists(src + ".json"));
  RETURN_IF_ERROR(RefuseExisting(dest, r.rel));
  if (r.sidecar) RETURN_IF_ERROR(RefuseExisting(dest + ".json", r.rel));
  std::error_code ec;
  fs::create_directories(DirName(dest), ec);
  if (ec) return absl::InternalError(absl::StrCat("creating ", DirName(dest), ": ", ec.message()));
  RETURN_IF_ERROR(MoveBack(src, dest, r.sidecar));
  KeepReasonAside(src, now, &r);
  return r;
}

absl::Status LogRetry(const std::string& state_dir, const Retried& r, absl::Time now) {
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  std::string path = state_dir + "/retries.log";
  std::string line = absl::StrCat(
      absl::FormatTime(absl::RFC3339_sec, now, absl::UTCTimeZone()), " retried ", r.rel,
      r.sidecar ? " with its sidecar" : " (no sidecar)",
      "; it was quarantined for: ", r.reason.empty() ? "(no reason file)" : r.reason,
      r.reason_kept_as.empty() ? "" : "; the reason is kept as " + r.reason_kept_as, "\n");
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "opening " + path);
  absl::Status s;
  ssize_t n = write(fd, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    s = ErrnoStatus(n < 0 ? errno : ENOSPC, "writing " + path);
  } else if (fdatasync(fd) != 0) {
    s = ErrnoStatus(errno, "syncing " + path);
  }
  close(fd);
  RETURN_IF_ERROR(s);
  LOG(INFO) << line.substr(0, line.size() - 1);
  return absl::OkStatus();
}

}  // namespace custody::ingest
