#include "client/live_uploader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "client/server_pool.h"
#include "common/digest.h"
#include "common/files.h"
#include "common/grpc_status.h"
#include "common/live_chain.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace custody {

namespace {

using Stream = grpc::ClientReaderWriter<v1::LiveMessage, v1::LiveAck>;

// A file unchanged this long has paused: what it holds goes at once.
constexpr absl::Duration kPause = absl::Milliseconds(250);

// What the client knows of the upload across its streams.
struct Progress {
  uint64_t held = 0;  // acknowledged by the node
  std::string chain = FirstLiveChain();
  Sha256 hash;  // of the bytes [0, held)
  uint64_t size = 0;
  int64_t mtime = 0;
  absl::Time changed = absl::Now();  // when size or mtime last changed
  absl::Time sent = absl::Now();     // when the last segment went
};

// Failures worth another stream: the node down, busy or restarting, or the
// old stream still holding the upload.
bool Retryable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) || absl::IsCancelled(s) ||
         absl::IsAborted(s) || absl::IsResourceExhausted(s) || absl::IsInternal(s) ||
         absl::IsUnknown(s);
}

// Reads [from, from + n) of the file.
absl::StatusOr<std::string> ReadAt(int fd, uint64_t from, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, out.data() + got, n - got, static_cast<off_t>(from + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoStatus(errno, "reading the recording");
    if (r == 0) return absl::DataLossError("the recording shrank while it was read");
    got += static_cast<size_t>(r);
  }
  return out;
}

class Session {
 public:
  Session(const LiveOptions& o, const std::string& id, int fd, Progress* p)
      : o_(o), id_(id), fd_(fd), p_(*p) {}

  // Runs one stream; OK once the file is sealed or `stop` is set.
  absl::Status Run(v1::Live::Stub* stub, v1::LiveAck* last) {
    grpc::ClientContext ctx;
    std::unique_ptr<Stream> rw = stub->Stream(&ctx);
    absl::Status s = Exchange(rw.get(), last);
    rw->WritesDone();
    absl::Status end = FromGrpcStatus(rw->Finish());
    return s.ok() ? absl::OkStatus() : (end.ok() ? s : end);
  }

 private:
  absl::Status Exchange(Stream* rw, v1::LiveAck* last) {
    v1::LiveMessage m;
    v1::LiveHeader* h = m.mutable_header();
    h->set_live_id(id_);
    h->set_device(o_.device);
    h->set_file_name(std::filesystem::path(o_.path).filename().string());
    h->set_media_type(GuessMediaType(o_.path));
    h->mutable_metadata()->insert(o_.metadata.begin(), o_.metadata.end());
    h->set_offset(p_.held);
    h->set_continues(o_.continues);
    ASSIGN_OR_RETURN(*last, Call(rw, m));
    if (last->state() != "recording") return absl::OkStatus();  // sealed before
    if (last->held() != p_.held) RETURN_IF_ERROR(Resync(*last));
    p_.chain = last->chain();
    while (o_.stop == nullptr || !o_.stop->load()) {
      RETURN_IF_ERROR(Look());
      const uint64_t avail = p_.size - p_.held;
      const absl::Time now = absl::Now();
      // A segment when one is full, at least every interval, and as soon as
      // the camera pauses (its last bytes wait for nothing).
      if (avail >= o_.segment_bytes ||
          (avail > 0 && (now - p_.sent >= o_.interval || now - p_.changed >= kPause))) {
        ASSIGN_OR_RETURN(*last, Send(rw, std::min<uint64_t>(avail, o_.segment_bytes)));
      } else if (avail == 0 && now - p_.changed >= o_.finish_after) {
        v1::LiveMessage f;
        f.mutable_finish()->set_sha256(Sha256(p_.hash).Finish().ToString());
        ASSIGN_OR_RETURN(*last, Call(rw, f));
        return absl::OkStatus();
      } else {
        absl::SleepFor(absl::Milliseconds(20));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<v1::LiveAck> Call(Stream* rw, const v1::LiveMessage& m) {
    v1::LiveAck ack;
    if (!rw->Write(m) || !rw->Read(&ack)) {
      return absl::UnavailableError("the stream broke");  // Finish says why
    }
    return ack;
  }

  absl::StatusOr<v1::LiveAck> Send(Stream* rw, uint64_t n) {
    v1::LiveMessage m;
    ASSIGN_OR_RETURN(*m.mutable_segment()->mutable_data(), ReadAt(fd_, p_.held, n));
    const std::string chain = NextLiveChain(p_.chain, p_.held, m.segment().data());
    m.mutable_segment()->set_chain(chain);
    ASSIGN_OR_RETURN(v1::LiveAck ack, Call(rw, m));
    if (ack.held() != p_.held + n || ack.chain() != chain) {
      return absl::DataLossError(absl::StrCat("the node acknowledged ", ack.held(),
                                              " bytes and another chain than the ", p_.held + n,
                                              " sent: it holds something else"));
    }
    p_.hash.Update(m.segment().data());
    p_.held += n;
    p_.chain = chain;
    p_.sent = absl::Now();
    if (o_.progress) o_.progress(p_.held, p_.size);
    return ack;
  }

  // The node holds another amount than this client knew (it restarted):
  // continue from the node's, hashing the file up to there.
  absl::Status Resync(const v1::LiveAck& ack) {
    RETURN_IF_ERROR(Look());
    if (ack.held() > p_.size) {
      return absl::FailedPreconditionError(
          absl::StrCat(id_, ": the node holds ", ack.held(), " bytes, the file only ", p_.size));
    }
    p_.hash = Sha256();
    for (uint64_t at = 0; at < ack.held();) {
      uint64_t n = std::min<uint64_t>(ack.held() - at, 4u << 20);
      ASSIGN_OR_RETURN(std::string data, ReadAt(fd_, at, n));
      p_.hash.Update(data);
      at += n;
    }
    p_.held = ack.held();
    return absl::OkStatus();
  }

  // The file's size and mtime now.
  absl::Status Look() {
    struct stat st;
    if (fstat(fd_, &st) != 0) return ErrnoStatus(errno, "stat " + o_.path);
    const int64_t mtime = absl::ToUnixNanos(absl::TimeFromTimespec(st.st_mtim));
    if (static_cast<uint64_t>(st.st_size) != p_.size || mtime != p_.mtime) {
      if (static_cast<uint64_t>(st.st_size) < p_.held) {
        return absl::FailedPreconditionError(absl::StrCat(
            o_.path, " shrank to ", st.st_size, " bytes; ", p_.held, " are in custody already"));
      }
      p_.size = static_cast<uint64_t>(st.st_size);
      p_.mtime = mtime;
      p_.changed = absl::Now();
    }
    return absl::OkStatus();
  }

  const LiveOptions& o_;
  const std::string& id_;
  int fd_;
  Progress& p_;
};

}  // namespace

absl::StatusOr<std::string> DeriveLiveId(const LiveOptions& o) {
  if (!o.live_id.empty()) return o.live_id;
  struct stat st;
  if (stat(o.path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat " + o.path);
  const std::string name = std::filesystem::path(o.path).filename().string();
  return "live-" + Digest::Of(absl::StrCat(o.device, "\n", name, "\n", st.st_dev, ":", st.st_ino))
                       .Hex()
                       .substr(0, 32);
}

std::string ContinuationLiveId(const std::string& live_id) {
  return "live-" + Digest::Of(absl::StrCat(live_id, "\ndocked")).Hex().substr(0, 32);
}

absl::StatusOr<LiveResult> StreamLive(const std::string& servers, const LiveOptions& o) {
  ASSIGN_OR_RETURN(std::vector<std::string> addresses, ParseServers({servers}));
  ServerPool pool(std::move(addresses));
  return StreamLive(&pool, o);
}

absl::StatusOr<LiveResult> StreamLive(std::shared_ptr<grpc::Channel> channel,
                                      const LiveOptions& o) {
  ServerPool pool(std::move(channel));
  return StreamLive(&pool, o);
}

absl::StatusOr<LiveResult> StreamLive(ServerPool* pool, const LiveOptions& o) {
  if (o.device.empty()) return absl::InvalidArgumentError("live needs --device");
  LiveResult result;
  ASSIGN_OR_RETURN(result.live_id, DeriveLiveId(o));
  int fd = open(o.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "opening " + o.path);
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  Progress progress;
  absl::Duration backoff = absl::Milliseconds(250);
  size_t down_in_a_row = 0;  // nodes that failed as down since the last pause
  while (true) {
    const ServerPool::Server server = pool->Current();
    auto stub = v1::Live::NewStub(server.channel);
    Session session(o, result.live_id, fd, &progress);
    const uint64_t before = progress.held;
    absl::Status s = session.Run(stub.get(), &result.last);
    if (s.ok()) return result;
    if (!Retryable(s)) return s;
    if (progress.held > before) backoff = absl::Milliseconds(250);
    ++result.reconnects;
    if (o.stop != nullptr && o.stop->load()) return result;
    // A node that is down, or that does not hold the upload (another node
    // took it over, or holds its copy), hands the next attempt to the next
    // node at once; after a round of them the client pauses.
    if (IsNodeDown(s) && pool->size() > 1 && ++down_in_a_row < pool->size()) {
      LOG(WARNING) << result.live_id << ": " << s << "; " << progress.held
                   << " bytes in custody; trying " << pool->FailOver(server.index, s);
      continue;
    }
    if (IsNodeDown(s) && pool->size() > 1) pool->FailOver(server.index, s);
    down_in_a_row = 0;
    LOG(WARNING) << result.live_id << ": " << s << "; " << progress.held
                 << " bytes in custody; retrying in " << backoff;
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, o.max_backoff);
  }
}

}  // namespace custody
