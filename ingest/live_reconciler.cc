#include "ingest/live_reconciler.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "client/live_uploader.h"
#include "common/digest.h"
#include "common/files.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace custody::ingest {

// A live upload opened this long after the file's last write may still be
// its recording (clocks of station and node differ a little).
constexpr absl::Duration kClockSlack = absl::Minutes(1);

absl::StatusOr<std::string> PrefixSha256(const std::string& path, uint64_t n) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "opening " + path);
  absl::Cleanup closer = [fd] { close(fd); };
  Sha256 hash;
  std::string buf(1u << 20, '\0');
  for (uint64_t at = 0; at < n;) {
    ssize_t r =
        pread(fd, buf.data(), std::min<uint64_t>(buf.size(), n - at), static_cast<off_t>(at));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoStatus(errno, "reading " + path);
    if (r == 0) return absl::DataLossError(absl::StrCat(path, " is shorter than ", n, " bytes"));
    hash.Update(buf.data(), static_cast<size_t>(r));
    at += static_cast<uint64_t>(r);
  }
  return hash.Finish().ToString();
}

absl::StatusOr<LiveMatch> MatchLive(std::shared_ptr<grpc::Channel> channel, const std::string& path,
                                    const std::string& device, uint64_t size, absl::Time mtime) {
  v1::LiveFindRequest req;
  req.set_device(device);
  req.set_file_name(std::filesystem::path(path).filename().string());
  v1::LiveListResponse found;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  absl::Status s = FromGrpcStatus(v1::Live::NewStub(channel)->Find(&ctx, req, &found));
  if (absl::IsUnimplemented(s)) return LiveMatch();  // a node without live upload
  RETURN_IF_ERROR(s);
  std::vector<v1::LiveInfo> candidates;
  for (const v1::LiveInfo& i : found.uploads()) {
    if (absl::FromUnixNanos(i.opened_unix_nanos()) <= mtime + kClockSlack) candidates.push_back(i);
  }
  if (candidates.empty()) return LiveMatch();
  // The longest upload the file starts with.
  std::sort(candidates.begin(), candidates.end(),
            [](const v1::LiveInfo& a, const v1::LiveInfo& b) { return a.held() > b.held(); });
  std::map<uint64_t, std::string> prefix;  // the file's hash of its first N bytes
  for (const v1::LiveInfo& i : candidates) {
    if (i.held() > size) continue;
    auto it = prefix.find(i.held());
    if (it == prefix.end()) {
      ASSIGN_OR_RETURN(std::string h, PrefixSha256(path, i.held()));
      it = prefix.emplace(i.held(), std::move(h)).first;
    }
    if (it->second != i.held_sha256()) continue;
    LiveMatch m;
    m.upload = i;
    if (i.held() == size && i.state() != "recording" && !i.object_id().empty()) {
      m.kind = LiveMatch::kStored;
    } else {
      m.kind = LiveMatch::kContinue;
      m.continue_id = i.state() == "recording" ? i.live_id() : ContinuationLiveId(i.live_id());
    }
    return m;
  }
  LiveMatch m;
  m.kind = LiveMatch::kAltered;
  m.upload = candidates.front();
  return m;
}

}  // namespace custody::ingest
