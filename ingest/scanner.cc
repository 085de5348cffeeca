#include "ingest/scanner.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/match.h"
#include "common/log.h"

namespace custody::ingest {

namespace fs = std::filesystem;

bool IsIgnoredName(const std::string& dir, const std::string& name) {
  if (name.empty() || name[0] == '.') return true;
  for (const char* suffix : {".part", ".partial", ".tmp", ".crdownload", ".reason"}) {
    if (absl::EndsWith(name, suffix)) return true;
  }
  if (absl::EndsWith(name, ".json")) {
    std::string stem = name.substr(0, name.size() - 5);
    std::error_code ec;
    return fs::path(stem).has_extension() || fs::exists(fs::path(dir) / stem, ec);
  }
  return false;
}

std::string Fingerprint(const std::string& path) {
  absl::StatusOr<FileKey> key = FileKey::Of(path);
  absl::StatusOr<FileKey> side = FileKey::Of(path + ".json");
  return (key.ok() ? key->ToString() : "?") + "|" + (side.ok() ? side->ToString() : "-");
}

bool NoWriters(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return errno != ENOENT;  // unreadable: let the daemon say so
  bool ok = true;
  if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    fcntl(fd, F_SETLEASE, F_UNLCK);
  } else if (errno == EAGAIN || errno == EBUSY) {
    ok = false;  // open for writing somewhere
  }              // EPERM / EINVAL: leases not available here; the settle time decides
  close(fd);
  return ok;
}

Scanner::Scanner(std::string root, absl::Duration settle)
    : root_(std::move(root)), settle_(settle) {}

std::vector<std::string> Scanner::Folders() const {
  std::vector<std::string> out = {root_};
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(root_, ec)) {
    std::string name = e.path().filename().string();
    if (e.is_directory(ec) && !e.is_symlink(ec) && name != kDoneDir && name != kQuarantineDir &&
        name[0] != '.') {
      out.push_back(e.path().string());
    }
  }
  return out;
}

std::vector<Candidate> Scanner::Scan(absl::Time now, const std::set<std::string>& busy) {
  std::vector<Candidate> out;
  present_.clear();
  settling_ = 0;
  incomplete_.clear();
  for (const std::string& folder : Folders()) {
    bool top = folder == root_;
    std::string device = top ? "" : fs::path(folder).filename().string();
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) {
      std::string name = e.path().filename().string();
      if (IsIgnoredName(folder, name) || (top && e.is_directory(ec) && !e.is_symlink(ec))) {
        continue;  // device folders are walked on their own
      }
      if (!e.is_regular_file(ec) || e.is_symlink(ec)) {
        if (ignored_.insert(e.path().string()).second) {
          LOG(WARNING) << "ignoring " << e.path().string()
                       << ": only regular files directly in the watched folder or in a device "
                          "folder are taken (not folders inside device folders, not links)";
        }
        continue;
      }
      Visit(e.path().string(), top ? name : device + "/" + name, device, now, busy, &out);
    }
  }
  for (auto it = seen_.begin(); it != seen_.end();) {
    it = present_.count(it->first) ? std::next(it) : seen_.erase(it);
  }
  return out;
}

void Scanner::Visit(const std::string& path, const std::string& rel, const std::string& device,
                    absl::Time now, const std::set<std::string>& busy,
                    std::vector<Candidate>* out) {
  present_.insert(path);
  if (busy.count(path)) return;
  absl::StatusOr<FileKey> key = FileKey::Of(path);
  if (!key.ok()) return;
  std::string fingerprint = Fingerprint(path);
  Seen& s = seen_[path];
  if (s.fingerprint != fingerprint) s = Seen{fingerprint, now};
  s.settling = now - s.since < settle_ || !NoWriters(path);
  if (s.settling) {
    ++settling_;
    incomplete_.insert(device);
    return;
  }
  out->push_back(Candidate{path, rel, device, *key, fingerprint});
}

}  // namespace custody::ingest
