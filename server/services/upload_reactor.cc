#include "server/services/upload_reactor.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/units.h"
#include "common/upload_protocol.h"
#include "server/security/principals.h"
#include "server/services/filing.h"

namespace custody {

namespace {
// gRPC ends the stream alike when the client closes it and when a message
// does not parse, so a refusal names both.
constexpr char kUnparsed[] =
    "(gRPC ends the stream when a message does not parse: every string field "
    "must be valid UTF-8, and a message must be an UploadRequest)";
}  // namespace

struct UploadReactor::State {
  std::shared_ptr<SerialExecutor> strand;
  std::unique_ptr<Upload> upload;         // only touched on the strand
  std::string upload_id;                  // from the header, once read
  std::string actor = "unauthenticated";  // the caller, once its header is allowed
  v1::Principal caller;                   // likewise
  bool names_record = false;              // the header's metadata names device, matter, start
  bool to_file = false;         // names_record, or a docking station's footage of a device
  bool finished = false;        // only touched on the strand
  uint64_t bytes_received = 0;  // by this stream, once it ended
  bool interrupted = false;     // the stream ended before a finish message
  v1::UploadRequest req;        // owned by the pending read
  absl::Time started = absl::Now();
  std::atomic<int64_t> last_activity_ns{absl::GetCurrentTimeNanos()};
  std::atomic<bool> cancelled{false};  // the client went away (or its deadline passed)
};

UploadReactor::UploadReactor(Node* node, grpc::CallbackServerContext* ctx,
                             v1::UploadResponse* response, std::string peer)
    : node_(node),
      ctx_(ctx),
      response_(response),
      peer_(std::move(peer)),
      state_(std::make_shared<State>()) {
  state_->strand = std::make_shared<SerialExecutor>(node->stream_pool());
  WatchForStalls(node->idle_watchdog());
  StartRead(&state_->req);
}

// Ends the stream with DEADLINE_EXCEEDED when the client sends nothing for
// the watchdog's timeout (clients that set no deadline of their own).
void UploadReactor::WatchForStalls(IdleWatchdog* watchdog) {
  std::weak_ptr<State> weak = state_;
  int64_t timeout_ns = absl::ToInt64Nanoseconds(watchdog->timeout());
  watchdog->Add(state_, [this, weak, timeout_ns] {
    std::shared_ptr<State> s = weak.lock();
    if (!s || absl::GetCurrentTimeNanos() - s->last_activity_ns < timeout_ns) return;
    s->strand->Schedule([this, s, timeout_ns] {
      if (s->finished || absl::GetCurrentTimeNanos() - s->last_activity_ns < timeout_ns) return;
      FinishWith(absl::DeadlineExceededError(
          absl::StrCat("the client sent nothing for ", timeout_ns / 1000000000,
                       " s; whole chunks already "
                       "sent are kept: ask QueryUpload and resume")));
    });
  });
}

void UploadReactor::OnReadDone(bool ok) {
  state_->last_activity_ns = absl::GetCurrentTimeNanos();
  state_->strand->Schedule([this, s = state_, ok] {
    if (!s->finished) Process(ok);
  });
}

void UploadReactor::OnCancel() { state_->cancelled = true; }

void UploadReactor::OnDone() {
  // Dropping the Upload waits for its chunks in flight: do it on the strand.
  state_->strand->Schedule([s = state_] { s->upload.reset(); });
  delete this;
}

void UploadReactor::FinishWith(const absl::Status& s) {
  State& st = *state_;
  if (!s.ok()) {
    LOG(WARNING) << "upload " << (st.upload ? st.upload->received() : 0)
                 << " bytes in: refused: " << s;
  }
  if (st.upload) st.bytes_received = st.upload->received_this_stream();
  node_->metrics()->UploadDone(st.bytes_received, absl::Now() - st.started, s.ok());
  st.upload.reset();  // waits for chunks in flight: committed size is exact
  if (!s.ok()) RecordRefusal(s);
  st.finished = true;
  Finish(ToGrpcStatus(s));  // the last use of `this`
}

// Every upload that does not end in a stored object is an audit event.
void UploadReactor::RecordRefusal(const absl::Status& s) {
  // Broken: the upload stopped part-way and can resume. Whether a killed
  // client shows as a cancel or as a stream that just ended is a race in the
  // transport; both are the same to the log.
  bool broken = state_->interrupted || s.code() == absl::StatusCode::kCancelled ||
                s.code() == absl::StatusCode::kDeadlineExceeded;
  v1::AuditEvent e = NewEvent(broken ? "upload.broken" : "upload.refused",
                              "upload:" + state_->upload_id, state_->actor);
  AddDetail(&e, "code", absl::StatusCodeToString(s.code()));
  AddDetail(&e, "reason", s.message());
  AddDetail(&e, "bytes_received", absl::StrCat(state_->bytes_received));
  AddDetail(&e, "peer", peer_);
  absl::Status r = node_->RecordOrHold(std::move(e));
  if (!r.ok()) LOG(ERROR) << "recording a refused upload: " << r;
}

void UploadReactor::Process(bool ok) {
  State& st = *state_;
  if (!ok && st.cancelled) {
    FinishWith(absl::CancelledError(
        absl::StrCat("the client went away after ", st.upload ? st.upload->received() : 0,
                     " bytes; whole chunks already sent are kept for a resume")));
    return;
  }
  if (!ok) {
    if (!st.upload) {
      FinishWith(absl::InvalidArgumentError(
          absl::StrCat("upload stream ended before its header, or its first message did not parse ",
                       kUnparsed)));
      return;
    }
    st.interrupted = true;
    FinishWith(absl::InvalidArgumentError(absl::StrCat(
        "upload stream ended after ", st.upload->received(), " of ", st.upload->size(),
        " bytes without a finish message, or its next message did not parse ", kUnparsed,
        "; whole chunks already sent are kept: ask QueryUpload and resume")));
    return;
  }
  Handle(st.req);
}

bool UploadReactor::StoredWithin(const v1::Principal& p, const std::string& id) {
  absl::StatusOr<Digest> d = Digest::Parse(id);
  absl::StatusOr<v1::ObjectManifest> m =
      d.ok() ? node_->FindManifest(*d) : absl::StatusOr<v1::ObjectManifest>(d.status());
  if (!m.ok()) return false;
  auto l = m->metadata().find("classification");
  return Cleared(p, l == m->metadata().end() ? "internal" : l->second);
}

void UploadReactor::Handle(v1::UploadRequest& req) {
  State& st = *state_;
  switch (req.kind_case()) {
    case v1::UploadRequest::kHeader: {
      if (st.upload) return FinishWith(absl::InvalidArgumentError("a second header"));
      absl::Status s = Begin(req.header());
      if (!s.ok()) return FinishWith(s);
      if (req.header().sha256().empty()) break;
      if (AnsweredFromDigest(req.header().sha256())) return;
      ctx_->AddInitialMetadata(kUploadMetadataKey, kSendBytes);
      StartSendInitialMetadata();
      break;
    }
    case v1::UploadRequest::kHash: {
      if (!st.upload) return FinishWith(absl::InvalidArgumentError("a hash before the header"));
      absl::Status s = st.upload->NameHash(req.hash().sha256());
      if (!s.ok()) return FinishWith(s);
      if (AnsweredFromDigest(req.hash().sha256())) return;
      break;
    }
    case v1::UploadRequest::kData: {
      if (!st.upload) return FinishWith(absl::InvalidArgumentError("data before the header"));
      absl::Status s = st.upload->Append(req.data());
      if (!s.ok()) return FinishWith(s);
      break;
    }
    case v1::UploadRequest::kFinish: {
      if (!st.upload) return FinishWith(absl::InvalidArgumentError("finish before the header"));
      return Answer(st.upload->Finish(req.finish().sha256()));
    }
    default:
      return FinishWith(absl::InvalidArgumentError("upload message with no content"));
  }
  StartRead(&st.req);
}

absl::Status UploadReactor::Begin(const v1::UploadHeader& h) {
  State& st = *state_;
  st.upload_id = h.upload_id().substr(0, 128);
  absl::StatusOr<v1::Principal> who = node_->Authorize(*ctx_, Action::kPut);
  if (!who.ok()) return who.status();
  st.actor = who->name();
  st.caller = *who;
  for (const char* key : {"device", "matter", "start"}) {
    st.names_record = h.metadata().count(key) > 0;
    if (!st.names_record) break;
  }
  // A station's footage of a device is filed, or says why not (no matter).
  // (A plaintext node's local operator holds every role and is no station.)
  st.to_file = st.names_record || (HasRole(*who, "ingest") && who->via() != "loopback" &&
                                   h.metadata().count("device") > 0);
  if (st.names_record) {  // footage to file: its agency must be known first
    RETURN_IF_ERROR(node_->records()->FilingAgency(*who, h.metadata()).status());
  }
  absl::StatusOr<std::unique_ptr<Upload>> up = node_->uploads()->Begin(h, who->name(), peer_);
  if (!up.ok()) return up.status();
  st.upload = std::move(*up);
  return absl::OkStatus();
}

// A hash named in the header, or after part of the bytes, is answered at
// once when the cluster holds that object within the caller's clearance (to
// anyone else it is as new): no more bytes are read. Returns whether it
// answered (or failed the stream).
bool UploadReactor::AnsweredFromDigest(const std::string& id) {
  State& st = *state_;
  if (!StoredWithin(st.caller, id)) return false;
  absl::Status purged = RefuseIfPurged(id);
  if (!purged.ok()) {
    FinishWith(purged);
    return true;
  }
  absl::StatusOr<v1::UploadResponse> r = st.upload->FinishFromDigest();
  if (r.ok()) node_->metrics()->AnsweredFromDigest(r->size());
  if (absl::IsNotFound(r.status())) return false;
  Answer(std::move(r));
  return true;
}

absl::Status UploadReactor::RefuseIfPurged(const std::string& id) {
  absl::StatusOr<std::optional<v1::PurgePlan>> p = node_->records()->PurgedBy(id);
  if (!p.ok()) return p.status();
  if (!p->has_value()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(id, " was purged under purge request ",
                                                    (*p)->request_id(),
                                                    " (its retention had ended); it is not "
                                                    "stored again"));
}

// The answer to a finished upload (bytes received, or the hash presented).
void UploadReactor::Answer(absl::StatusOr<v1::UploadResponse> r) {
  State& st = *state_;
  if (!r.ok()) return FinishWith(r.status());
  if (r->already_stored()) {  // held, unless its data was purged
    absl::Status purged = RefuseIfPurged(r->id());
    if (!purged.ok()) return FinishWith(purged);
  }
  *response_ = *r;
  // Whether an object is held at a level above the caller's clearance is
  // not the caller's to learn: to them it is stored as anything new.
  if (r->already_stored() && !StoredWithin(st.caller, r->id())) {
    response_->set_already_stored(false);
  }
  if (st.to_file) {
    absl::StatusOr<std::string> rec = FileUnderRecord(node_, st.caller, r->id());
    if (rec.ok()) response_->set_record_id(*rec);
    if (!rec.ok()) response_->set_filing_problem(std::string(rec.status().message()));
  }
  double secs = absl::ToDoubleSeconds(absl::Now() - st.started);
  LOG(INFO) << "stored " << r->id() << " (" << FormatBytes(r->size()) << ", "
            << FormatBytes(r->bytes_received() / std::max(secs, 1e-6)) << "/s"
            << (r->already_stored() ? ", already held" : "") << ")";
  FinishWith(absl::OkStatus());
}

}  // namespace custody
