// Daemon: what happens to a docked file at the end: released (moved to done/
// or deleted) once the cluster holds it, or moved to quarantine/ with the
// reason. Nothing is ever overwritten: a name already taken gets "~N".
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "ingest/daemon.h"

namespace custody::ingest {

namespace fs = std::filesystem;

// A free path for `c` in `folder` (done/ or quarantine/), by device.
std::string Daemon::Destination(const std::string& folder, const Candidate& c) {
  fs::path dir = fs::path(options_.watch_dir) / folder / (c.device.empty() ? "" : c.device);
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path name = fs::path(c.path).filename();
  fs::path p = dir / name;
  for (int n = 1; fs::exists(p, ec) || fs::exists(p.string() + ".json", ec) ||
                  fs::exists(p.string() + ".reason", ec);
       ++n) {
    p = dir / absl::StrCat(name.stem().string(), "~", n, name.extension().string());
  }
  return p.string();
}

// Moves the recording and its sidecar to `dest` (and dest.json).
static absl::Status MoveWithSidecar(const std::string& path, const std::string& dest) {
  RETURN_IF_ERROR(MoveNoReplace(path, dest));
  std::error_code ec;
  if (fs::exists(path + ".json", ec))
    RETURN_IF_ERROR(MoveNoReplace(path + ".json", dest + ".json"));
  return absl::OkStatus();
}

absl::Status Daemon::Release(const Candidate& c, const std::string& id) {
  if (Fingerprint(c.path) != c.fingerprint) {
    return absl::FailedPreconditionError(
        "the file or its sidecar changed after it was stored; the new version is taken as a "
        "new file");
  }
  if (options_.delete_after_verified) {
    if (unlink(c.path.c_str()) != 0) return ErrnoStatus(errno, "deleting " + c.path);
    unlink((c.path + ".json").c_str());
    RETURN_IF_ERROR(SyncDir(DirName(c.path)));
    LOG(INFO) << c.rel << ": deleted from the station, the cluster holds it as " << id;
  } else {
    std::string dest = Destination(kDoneDir, c);
    RETURN_IF_ERROR(MoveWithSidecar(c.path, dest));
  }
  return journal_->Done(c.key, c.rel);
}

void Daemon::Quarantine(const Candidate& c, const std::string& reason) {
  std::string dest = Destination(kQuarantineDir, c);
  LOG(WARNING) << c.rel << ": quarantined: " << reason;
  std::string text = absl::StrCat(
      "file: ", c.rel,
      "\nwhen: ", absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()),
      "\nversion: ", c.key.ToString(), "\nreason: ", reason, "\n");
  absl::Status s = MoveWithSidecar(c.path, dest);
  if (s.ok()) s = WriteNewFile(dest + ".reason", text);
  if (s.ok()) s = journal_->Quarantined(c.key, c.rel, reason);
  if (!s.ok()) {
    LOG(ERROR) << c.rel << ": could not be quarantined (it stays where it is): " << s;
    MarkStuck(c, absl::StrCat(reason, "; and it could not be quarantined: ", s.message()));
  }
}

}  // namespace custody::ingest
