#include "server/services/download_reactor.h"

#include <deque>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/thread_pool.h"
#include "common/units.h"

namespace custody {
namespace {
constexpr size_t kMessageBytes = 1 << 20;
constexpr size_t kFetchAhead = 2;
}  // namespace

struct DownloadReactor::Fetch {
  absl::Notification done;
  absl::StatusOr<std::string> data;
};

struct DownloadReactor::State {
  std::shared_ptr<SerialExecutor> strand;
  bool finished = false;  // strand only
  v1::ObjectManifest manifest;
  ReadFor why;                               // told to the nodes chunks are read from
  int next_fetch = 0;                        // index of the next chunk to fetch
  std::deque<std::shared_ptr<Fetch>> ahead;  // chunks being fetched, in order
  std::string current;                       // the chunk being sent
  size_t pos = 0;                            // next byte of `current` to send
  size_t skip = 0;                           // bytes to skip in the first chunk (offset)
  int fetch_end = 0;                         // one past the last chunk of the range
  int first_chunk = 0;                       // the first chunk of the range
  uint64_t remaining = 0;                    // bytes of the range not yet sent
  bool sent_info = false;
  uint64_t bytes_sent = 0;
  absl::Time started = absl::Now();
  v1::DownloadResponse msg;  // owned by the pending write
};

DownloadReactor::DownloadReactor(Node* node, Playbacks* playbacks, grpc::CallbackServerContext* ctx,
                                 const v1::DownloadRequest* request, std::string peer)
    : node_(node),
      playbacks_(playbacks),
      ctx_(ctx),
      peer_(std::move(peer)),
      state_(std::make_shared<State>()) {
  state_->strand = std::make_shared<SerialExecutor>(node->read_pool());
  v1::DownloadRequest req = *request;
  state_->strand->Schedule([this, s = state_, req] { Start(req); });
}

void DownloadReactor::OnWriteDone(bool ok) {
  state_->strand->Schedule([this, s = state_, ok] {
    if (s->finished) return;
    if (!ok) return FinishWith(absl::CancelledError("the client went away"));
    SendNext();
  });
}

void DownloadReactor::OnDone() { delete this; }

void DownloadReactor::FinishWith(const absl::Status& s) {
  state_->finished = true;
  node_->metrics()->DownloadDone(state_->bytes_sent, absl::Now() - state_->started, s.ok());
  Finish(ToGrpcStatus(s));  // the last use of `this`
}

std::shared_ptr<DownloadReactor::Fetch> DownloadReactor::StartFetch(int chunk) {
  auto f = std::make_shared<Fetch>();
  absl::StatusOr<Digest> d = Digest::FromRaw(state_->manifest.chunks(chunk));
  if (!d.ok()) {
    f->data = d.status();
    f->done.Notify();
    return f;
  }
  node_->fetch_pool()->Schedule([f, d = *d, store = node_->cluster_chunks(), why = state_->why] {
    f->data = store->GetFor(d, why);
    f->done.Notify();
  });
  return f;
}

// Keeps kFetchAhead chunk reads in flight (read-ahead for cold volumes).
void DownloadReactor::FetchAhead() {
  State& st = *state_;
  while (st.ahead.size() < kFetchAhead && st.next_fetch < st.fetch_end) {
    st.ahead.push_back(StartFetch(st.next_fetch++));
  }
}

void DownloadReactor::Start(const v1::DownloadRequest& req) {
  State& st = *state_;
  absl::StatusOr<Digest> id = Digest::Parse(req.id());
  if (!id.ok()) return FinishWith(id.status());
  const std::string purpose = req.purpose().empty() ? "view" : req.purpose();
  if (purpose != "view" && purpose != "export") {
    return FinishWith(absl::InvalidArgumentError("purpose is view or export"));
  }
  absl::StatusOr<v1::Principal> who = node_->Authorize(*ctx_, Action::kReadFootage, id->ToString());
  if (!who.ok()) return FinishWith(who.status());
  absl::StatusOr<v1::ObjectManifest> m = node_->VisibleManifest(*who, *id, Action::kReadFootage);
  if (!m.ok()) return FinishWith(m.status());
  absl::StatusOr<std::optional<v1::PurgePlan>> purged = node_->records()->PurgedBy(id->ToString());
  if (!purged.ok()) return FinishWith(purged.status());
  if (purged->has_value()) {
    return FinishWith(absl::FailedPreconditionError(absl::StrCat(
        id->ToString(), " was purged on ", FormatUnixNanos((*purged)->executed_unix_nanos()),
        " under purge request ", (*purged)->request_id(),
        " (its retention had ended); its metadata and audit trail remain")));
  }
  st.manifest = std::move(*m);
  if (req.offset() > st.manifest.size()) {
    return FinishWith(
        absl::OutOfRangeError(absl::StrCat("offset ", req.offset(), " is past the end of ",
                                           req.id(), " (", st.manifest.size(), " bytes)")));
  }
  // The read is on record, durably, before the first byte leaves.
  v1::AuditEvent e = NewEvent("object.read", id->ToString());
  absl::Status allowed = CheckGrant(*who, *id, st.manifest, purpose, &e);
  if (!allowed.ok()) return FinishWith(allowed);
  const uint64_t size = st.manifest.size();
  const uint64_t end =
      req.length() == 0 || req.length() > size - req.offset() ? size : req.offset() + req.length();
  AddDetail(&e, "offset", absl::StrCat(req.offset()));
  if (end != size) AddDetail(&e, "length", absl::StrCat(end - req.offset()));
  if (!req.playback().empty()) AddDetail(&e, "playback", req.playback());
  AddDetail(&e, "peer", peer_);
  if (!who->relay().empty()) AddDetail(&e, "relay", who->relay());
  st.why = {ReadFor::Purpose::kDownload, id->ToString(), who->name(), purpose};
  // The later reads of a playback on record are part of that viewing.
  if (req.playback().empty() ||
      playbacks_->FirstRead(absl::StrCat(who->name(), " ", id->ToString(), " ", req.playback()),
                            absl::Now())) {
    absl::Status recorded = node_->Record(std::move(e));
    if (!recorded.ok()) return FinishWith(recorded);
  }
  uint64_t cs = st.manifest.chunk_size();
  st.next_fetch = static_cast<int>(req.offset() / cs);
  st.first_chunk = st.next_fetch;
  st.fetch_end = end == req.offset() ? st.next_fetch : static_cast<int>((end - 1) / cs + 1);
  st.remaining = end - req.offset();
  FetchAhead();
  st.skip = req.offset() % cs;  // applied to the first chunk taken
  SendNext();
}

absl::Status DownloadReactor::CheckGrant(const v1::Principal& p, const Digest& id,
                                         const v1::ObjectManifest& m, const std::string& purpose,
                                         v1::AuditEvent* e) {
  const v1::Principal* who = &p;
  e->set_actor(who->name());
  AddDetail(e, "purpose", purpose);
  if (who->via() == "loopback") return absl::OkStatus();  // the local operator of a test node
  absl::StatusOr<std::optional<v1::AccessGrant>> g =
      node_->LiveGrant(who->name(), id.ToString(), purpose);
  if (!g.ok()) return g.status();
  if (!g->has_value()) {
    return node_->Refuse(who->name(), Action::kReadFootage, id.ToString(),
                         absl::PermissionDeniedError(absl::StrCat(
                             who->name(), " has no live access grant to ", purpose, " ",
                             id.ToString(), ": ask with `custody access request ID --reason TEXT",
                             purpose == "export" ? " --purpose export" : "",
                             "`, then an archive-head and a leader of the agency approve it")));
  }
  // The grant must still fit the object as this node holds it: a request
  // entry a node made up (another agency, a lower classification) gives
  // nothing.
  // A record's grant covers the objects the record holds now: the record's
  // agency (which never changes) is the grant's.
  auto agency = m.metadata().find("agency");
  auto level = m.metadata().find("classification");
  const std::string object_agency = !(*g)->record_id().empty()     ? (*g)->agency()
                                    : agency == m.metadata().end() ? ""
                                                                   : agency->second;
  absl::Status fits =
      GrantFits(**g, object_agency, level == m.metadata().end() ? "internal" : level->second);
  if (!fits.ok()) return node_->Refuse(who->name(), Action::kReadFootage, id.ToString(), fits);
  AddDetail(e, "viewer", who->name());
  AddDetail(e, "reason", (*g)->reason());
  AddDetail(e, "grant", (*g)->request_id());
  AddDetail(e, "agency", object_agency);  // whose viewing register it is in (article 21)
  if (!(*g)->record_id().empty()) AddDetail(e, "record", (*g)->record_id());
  return absl::OkStatus();
}

void DownloadReactor::SendNext() {
  State& st = *state_;
  if (st.sent_info && st.remaining == 0) return FinishWith(absl::OkStatus());
  bool need_chunk = st.pos >= st.current.size();
  if (need_chunk && !st.ahead.empty()) {
    std::shared_ptr<Fetch> f = std::move(st.ahead.front());
    st.ahead.pop_front();
    f->done.WaitForNotification();  // a fetch-pool task, never blocked
    if (!f->data.ok()) {
      LOG(ERROR) << "download of " << ObjectStore::ToInfo(st.manifest).id()
                 << " stopped: " << f->data.status();
      return FinishWith(f->data.status());
    }
    st.current = std::move(*f->data);
    st.pos = st.skip;
    st.skip = 0;
    FetchAhead();
    need_chunk = st.pos >= st.current.size();
  }
  if (need_chunk && st.sent_info) return FinishWith(absl::OkStatus());
  st.msg.Clear();
  if (!st.sent_info) {
    *st.msg.mutable_info() = ObjectStore::ToInfo(st.manifest);
    for (int c = st.first_chunk; c < st.fetch_end; ++c) {
      st.msg.add_chunk_sha256(st.manifest.chunks(c));
    }
    st.msg.set_first_chunk_offset(static_cast<uint64_t>(st.first_chunk) * st.manifest.chunk_size());
    st.sent_info = true;
  }
  if (!need_chunk) {
    size_t n = std::min<uint64_t>({kMessageBytes, st.current.size() - st.pos, st.remaining});
    st.remaining -= n;
    st.msg.set_data(st.current.data() + st.pos, n);
    st.pos += n;
    st.bytes_sent += n;
  }
  StartWrite(&st.msg);
}

}  // namespace custody
