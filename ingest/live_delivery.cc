// Daemon: a docked recording whose camera streamed it live
// (ingest/live_reconciler.h, doc/live.md "Docking"): nothing sent when the
// cluster holds it, only the rest when it extends the live upload, and
// uploaded whole, marked altered, when its first bytes differ.
#include "absl/strings/str_cat.h"
#include "client/live_uploader.h"
#include "common/live_chain.h"
#include "common/log.h"
#include "common/utf8.h"
#include "ingest/daemon.h"

namespace custody::ingest {

PutResult Daemon::Deliver(const Candidate& c, const RecordingMeta& meta) {
  if (c.device.empty()) return Upload(c, meta);
  for (int attempt = 1; !stop_->load(); ++attempt) {
    ServerPool::Server server = servers_->Current();
    absl::StatusOr<LiveMatch> m = MatchLive(server.channel, c.path, c.device, c.key.size,
                                            absl::FromUnixNanos(c.key.mtime_ns));
    if (!m.ok()) {
      NoteFailure(c, attempt, m.status());
      LOG(WARNING) << c.rel << ": looking for its live upload on " << server.address
                   << " failed, will retry: " << m.status();
      if (ShouldFailOver(m.status())) servers_->FailOver(server.index, m.status());
      SleepBackoff(attempt);
      continue;
    }
    switch (m->kind) {
      case LiveMatch::kNone:
        return Upload(c, meta);
      case LiveMatch::kAltered: {
        std::map<std::string, std::string> altered = {{"live_altered", m->upload.live_id()}};
        if (!m->upload.object_id().empty()) altered["live_altered_object"] = m->upload.object_id();
        LOG(WARNING) << c.rel << ": its first " << m->upload.held()
                     << " bytes differ from what live upload " << m->upload.live_id()
                     << " streamed: uploaded whole and marked altered after upload; both are kept";
        return Upload(c, meta, altered);
      }
      case LiveMatch::kStored:
        // Presented by its hash: the node answers from what it holds, with
        // how many nodes hold it, and reads no byte.
        LOG(INFO) << c.rel << ": identical to live upload " << m->upload.live_id() << " ("
                  << m->upload.object_id() << "): nothing sent";
        return Upload(c, meta, {}, /*hash_first=*/true);
      case LiveMatch::kContinue:
        return ContinueLive(c, meta, *m, server);
    }
  }
  return PutResult();
}

PutResult Daemon::ContinueLive(const Candidate& c, const RecordingMeta& meta, const LiveMatch& m,
                               const ServerPool::Server& server) {
  LiveOptions o;
  o.path = c.path;
  o.device = c.device;
  o.metadata = ToObjectMetadata(meta, options_.station);
  o.metadata["source_path"] = EscapeInvalidUtf8(c.rel);
  o.live_id = m.continue_id;
  o.continues = m.upload.live_id();
  o.segment_bytes = kMaxLiveSegment;
  o.finish_after = absl::ZeroDuration();  // docked: the file is complete
  o.stop = stop_;
  o.progress = [&](uint64_t held, uint64_t size) { Progress(c.rel, held, size); };
  NoteAttempt(c, server.address);
  LOG(INFO) << c.rel << ": starts with the " << m.upload.held() << " bytes of live upload "
            << m.upload.live_id() << " (" << m.upload.state() << "): sending the other "
            << c.key.size - m.upload.held();
  absl::StatusOr<LiveResult> r = StreamLive(server.channel, o);
  if (r.ok() && r->last.object_id().empty()) return PutResult();  // stopping: resumes next time
  if (!r.ok()) {
    absl::StatusOr<std::string> judged = Judge(c, r.status());  // quarantines the file's faults
    if (!absl::IsAborted(judged.status())) {
      NoteFailure(c, 1, r.status());
      LOG(WARNING) << c.rel << ": continuing live upload " << m.upload.live_id()
                   << " failed; it is tried again: " << r.status();
    }
    return PutResult();
  }
  // Sealed: confirmed by its hash like any stored file (how many nodes hold
  // it), without a byte sent again.
  PutResult got = Upload(c, meta, {}, /*hash_first=*/true);
  if (!got.id.empty() && got.id != r->last.object_id()) {
    LOG(ERROR) << c.rel << ": sealed as " << r->last.object_id() << " but its hash is " << got.id;
  }
  got.resumed_from = m.upload.held();
  got.bytes_sent = c.key.size - m.upload.held();
  return got;
}

}  // namespace custody::ingest
