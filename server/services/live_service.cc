#include "server/services/live_service.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/unary.h"
#include "server/objects/live_upload.h"
#include "server/security/decisions.h"
#include "server/security/ledger.h"
#include "server/security/principals.h"
#include "server/services/filing.h"

namespace custody {

namespace {

bool OnlyADevice(const v1::Principal& p) { return HasRole(p, "device") && p.roles_size() == 1; }

// A camera's own identity streams, and finds, only its own footage.
absl::Status CheckOwnDevice(Node* node, const v1::Principal& caller, const std::string& device,
                            const std::string& subject) {
  if (!OnlyADevice(caller) || caller.name() == "user:" + device) return absl::OkStatus();
  return node->Refuse(caller.name(), Action::kLiveUpload, subject,
                      absl::PermissionDeniedError(
                          absl::StrCat(caller.name(), " is a device: it streams only device ",
                                       caller.name().substr(5), ", not ", device)));
}

// One Stream: the header, then segments, then (when the file is complete) a
// finish; each answered with a LiveAck once durable. Reads and writes
// alternate, so one message is in hand at a time; the work runs on a
// worker strand, never on a gRPC thread. Finish is called exactly once.
class LiveReactor : public grpc::ServerBidiReactor<v1::LiveMessage, v1::LiveAck> {
 public:
  LiveReactor(Node* node, grpc::CallbackServerContext* ctx)
      : node_(node), ctx_(ctx), strand_(std::make_shared<SerialExecutor>(node->live_pool())) {
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    strand_->Schedule([this, ok] { Process(ok); });
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return End(absl::CancelledError("the client went away"));
    if (sealed_) return End(absl::OkStatus());
    StartRead(&in_);
  }
  void OnDone() override {
    // Dropping the stream releases the upload: do it on the strand.
    std::shared_ptr<SerialExecutor> strand = strand_;
    strand->Schedule([stream = std::shared_ptr<LiveStream>(std::move(stream_))] {});
    delete this;
  }

 private:
  void Process(bool ok) {
    if (finished_) return;
    if (!ok) {
      return End(stream_ ? absl::OkStatus()  // the client closed: what it sent is durable
                         : absl::InvalidArgumentError("the stream ended before its header"));
    }
    absl::StatusOr<v1::LiveAck> ack = Handle();
    if (!ack.ok()) return End(ack.status());
    out_ = *std::move(ack);
    StartWrite(&out_);
  }

  absl::StatusOr<v1::LiveAck> Handle() {
    switch (in_.kind_case()) {
      case v1::LiveMessage::kHeader:
        return Open(in_.header());
      case v1::LiveMessage::kSegment:
        if (!stream_) return absl::InvalidArgumentError("a segment before the header");
        {
          ASSIGN_OR_RETURN(v1::LiveAck ack, stream_->Append(in_.segment()));
          node_->metrics()->LiveBytes(in_.segment().data().size());
          return ack;
        }
      case v1::LiveMessage::kFinish: {
        if (!stream_) return absl::InvalidArgumentError("a finish before the header");
        ASSIGN_OR_RETURN(v1::LiveAck ack, stream_->Finish(in_.finish().sha256()));
        sealed_ = true;
        (void)FileUnderRecord(node_, caller_, ack.object_id());
        return ack;
      }
      default:
        return absl::InvalidArgumentError("an empty message");
    }
  }

  absl::StatusOr<v1::LiveAck> Open(const v1::LiveHeader& h) {
    if (stream_) return absl::InvalidArgumentError("a second header");
    const std::string subject = "live:" + h.live_id();
    ASSIGN_OR_RETURN(caller_, node_->Authorize(*ctx_, Action::kLiveUpload, subject));
    RETURN_IF_ERROR(CheckOwnDevice(node_, caller_, h.device(), subject));
    ASSIGN_OR_RETURN(bool may_take_over, MayTakeOver(h, subject));
    absl::StatusOr<std::unique_ptr<LiveStream>> s =
        node_->live()->Open(h, caller_.name(), may_take_over);
    if (absl::IsPermissionDenied(s.status())) {
      return node_->Refuse(caller_.name(), Action::kLiveUpload, subject, s.status());
    }
    if (!s.ok()) return s.status();
    stream_ = *std::move(s);
    if (stream_->info().held() == 0 && h.continues().empty()) {
      OpenRecordForLive(node_, caller_, stream_->info());
    }
    return stream_->Ack();
  }

  // A docking station (doc/live.md, "Docking") sends the rest of an upload
  // the camera opened: any identity that streams, except a device's own,
  // for a device of its agency.
  absl::StatusOr<bool> MayTakeOver(const v1::LiveHeader& h, const std::string& subject) {
    if (h.continues().empty() || OnlyADevice(caller_)) return false;
    google::protobuf::Map<std::string, std::string> meta;
    meta["device"] = h.device();
    absl::StatusOr<std::string> agency = node_->records()->FilingAgency(caller_, meta);
    if (absl::IsPermissionDenied(agency.status())) {
      return node_->Refuse(caller_.name(), Action::kLiveUpload, subject, agency.status());
    }
    return true;
  }

  void End(const absl::Status& s) {
    if (finished_) return;
    finished_ = true;
    if (!s.ok()) LOG(WARNING) << "live stream ended: " << s;
    Finish(ToGrpcStatus(s));
  }

  Node* node_;
  grpc::CallbackServerContext* ctx_;
  std::shared_ptr<SerialExecutor> strand_;
  std::unique_ptr<LiveStream> stream_;  // touched on the strand only
  v1::Principal caller_;
  v1::LiveMessage in_;
  v1::LiveAck out_;
  bool sealed_ = false;
  bool finished_ = false;
};

}  // namespace

grpc::ServerBidiReactor<v1::LiveMessage, v1::LiveAck>* LiveService::Stream(
    grpc::CallbackServerContext* ctx) {
  return new LiveReactor(node_, ctx);
}

grpc::ServerUnaryReactor* LiveService::Query(grpc::CallbackServerContext* ctx,
                                             const v1::LiveRef* req, v1::LiveInfo* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(
        node_->Authorize(*ctx, Action::kReadMetadata, "live:" + req->live_id()).status());
    ASSIGN_OR_RETURN(*out, node_->live()->Query(req->live_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LiveService::Seal(grpc::CallbackServerContext* ctx,
                                            const v1::LiveSealRequest* req, v1::LiveInfo* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    const std::string subject = "live:" + req->live_id();
    ASSIGN_OR_RETURN(v1::Principal p, node_->Authorize(*ctx, Action::kLiveSeal, subject));
    // A person's decision: signed by them, checked here, kept in the ledger
    // before the node carries it out (the trail reads order, then seal).
    absl::StatusOr<v1::LedgerEntry> decided = node_->ledger()->verifier().FromClient(
        p, req->signed_(), kLiveSealOrdered, subject, {{"reason", req->reason()}}, absl::Now());
    if (!decided.ok()) return node_->Refuse(p.name(), Action::kLiveSeal, subject, decided.status());
    if (req->reason().empty()) return absl::InvalidArgumentError("sealing needs --reason");
    // On a node that only mirrors it, the upload is taken over first, so that
    // an owner that refuses leaves no order in the ledger that nobody carried out.
    RETURN_IF_ERROR(node_->live()->Claim(req->live_id(), p.name()));
    ASSIGN_OR_RETURN(v1::LiveInfo now, node_->live()->Query(req->live_id()));
    if (now.state() != "recording") {
      return absl::FailedPreconditionError(
          absl::StrCat("live upload ", req->live_id(), " was ", now.state(), " already"));
    }
    if (node_->live()->Streaming(req->live_id())) {
      return absl::AbortedError(absl::StrCat(
          "live upload ", req->live_id(), " is being appended to: seal it when its stream ends"));
    }
    v1::AuditEvent e = EventOf(*decided, subject);
    RETURN_IF_ERROR(node_->ledger()->Append(*std::move(decided), std::move(e)).status());
    ASSIGN_OR_RETURN(*out, node_->live()->SealTruncated(req->live_id(), p.name(), req->reason()));
    if (!out->object_id().empty()) (void)FileUnderRecord(node_, p, out->object_id());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LiveService::List(grpc::CallbackServerContext* ctx,
                                            const v1::LiveListRequest*, v1::LiveListResponse* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(node_->Authorize(*ctx, Action::kReadMetadata, "live").status());
    return node_->live()->ForEach([&](const v1::LiveInfo& i) { *out->add_uploads() = i; });
  });
}

grpc::ServerUnaryReactor* LiveService::Find(grpc::CallbackServerContext* ctx,
                                            const v1::LiveFindRequest* req,
                                            v1::LiveListResponse* out) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    const std::string subject = "device:" + req->device();
    ASSIGN_OR_RETURN(v1::Principal p, node_->Authorize(*ctx, Action::kLiveUpload, subject));
    RETURN_IF_ERROR(CheckOwnDevice(node_, p, req->device(), subject));
    ASSIGN_OR_RETURN(std::vector<v1::LiveInfo> found,
                     node_->live()->Find(req->device(), req->file_name()));
    for (v1::LiveInfo& i : found) *out->add_uploads() = std::move(i);
    return absl::OkStatus();
  });
}

}  // namespace custody
