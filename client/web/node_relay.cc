#include "client/web/node_relay.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/client.h"
#include "common/grpc_status.h"
#include "common/session_statement.h"
#include "custody/v1/access.pb.h"
#include "custody/v1/audit.pb.h"
#include "custody/v1/custody.pb.h"
#include "custody/v1/offsite.pb.h"
#include "custody/v1/records.pb.h"

namespace custody::web {
namespace {

namespace pb = google::protobuf;
using GenericStub = grpc::TemplatedGenericStub<pb::Message, pb::Message>;

const std::set<std::string>& RelayedMethods() {
  static const auto* m = new std::set<std::string>{
      "custody.v1.Access/WhoAmI",
      "custody.v1.Access/RequestAccess",
      "custody.v1.Access/ListAccess",
      "custody.v1.Access/Decide",
      "custody.v1.Access/Revoke",
      "custody.v1.Records/Catalog",
      "custody.v1.Records/Show",
      "custody.v1.Records/List",
      "custody.v1.Records/Note",
      "custody.v1.Records/Archive",
      "custody.v1.Records/Exempt",
      "custody.v1.Records/ApproveExemption",
      "custody.v1.Records/Retain",
      "custody.v1.Records/Hold",
      "custody.v1.Records/Late",
      "custody.v1.Records/ApproveLate",
      "custody.v1.Records/DeviceList",
      "custody.v1.Records/MakeReport",
      "custody.v1.Records/Sample",
      "custody.v1.Audit/Log",
      "custody.v1.Audit/LatestCheckpoint",
      "custody.v1.Custody/Stat",
      "custody.v1.Custody/NodeStatus",
      "custody.v1.Custody/ClusterStatus",
      "custody.v1.Snapshots/ListSnapshots",
      "custody.v1.Records/Stations",
      "custody.v1.Records/StationRetry",
      "custody.v1.Records/PurgeCandidates",
      "custody.v1.Records/RequestPurge",
      "custody.v1.Records/ApprovePurge",
      "custody.v1.Records/ExecutePurge",
  };
  return *m;
}

// Links in the descriptors of every relayed service: a .pb.cc registers its
// file's descriptors only when something in the binary refers to it (the
// snapshots' file was missing, and ListSnapshots was "no method").
bool LinkDescriptors() {
  return v1::WhoAmIRequest::descriptor() != nullptr && v1::RecordRef::descriptor() != nullptr &&
         v1::AuditLogRequest::descriptor() != nullptr && v1::StatRequest::descriptor() != nullptr &&
         v1::ListSnapshotsRequest::descriptor() != nullptr;
}

bool WorthAnotherNode(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

absl::StatusOr<std::string> ToJson(const pb::Message& m) {
  pb::util::JsonPrintOptions out;
  out.preserve_proto_field_names = true;
  out.always_print_primitive_fields = true;
  std::string json;
  pb::util::Status printed = pb::util::MessageToJsonString(m, &json, out);
  if (!printed.ok()) return absl::InternalError(printed.message().as_string());
  return json;
}

// The log's events travel as their canonical bytes (what the Merkle tree
// hashes); the browser gets them as JSON.
absl::StatusOr<std::string> AuditLogJson(const pb::Message& m) {
  v1::AuditLogResponse log;
  log.CopyFrom(m);
  std::string out = "{\"events\":[";
  for (int i = 0; i < log.events_size(); ++i) {
    v1::AuditEvent e;
    if (!e.ParseFromString(log.events(i))) return absl::DataLossError("an event does not parse");
    absl::StatusOr<std::string> j = ToJson(e);
    if (!j.ok()) return j.status();
    absl::StrAppend(&out, i ? "," : "", *j);
  }
  v1::AuditLogResponse rest;
  *rest.mutable_unreachable() = log.unreachable();
  rest.set_truncated(log.truncated());
  absl::StatusOr<std::string> tail = ToJson(rest);
  if (!tail.ok()) return tail.status();
  // {"events":[...],  +  "unreachable":[...],"truncated":false}
  return absl::StrCat(out, "],", tail->substr(tail->find("\"unreachable\"")));
}

}  // namespace

NodeRelay::NodeRelay(std::vector<std::string> servers) : servers_(std::move(servers)) {
  for (const std::string& s : servers_) channels_.push_back(CustodyClient::NewChannel(s));
}

bool NodeRelay::Relays(const std::string& method) { return RelayedMethods().count(method) > 0; }

void NodeRelay::Prepare(grpc::ClientContext* ctx, const CallerCredentials& who,
                        int timeout_s) const {
  if (!who.session.empty()) ctx->AddMetadata(kSessionMetadataKey, who.session);
  if (!who.token.empty()) ctx->AddMetadata("authorization", "Bearer " + who.token);
  if (timeout_s > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
  }
}

absl::StatusOr<std::string> NodeRelay::CallJson(const std::string& method,
                                                const std::string& request_json,
                                                const CallerCredentials& who) {
  if (!Relays(method)) {
    return absl::NotFoundError(absl::StrCat("the console does not relay ", method));
  }
  static const bool linked = LinkDescriptors();
  (void)linked;
  const pb::MethodDescriptor* m = pb::DescriptorPool::generated_pool()->FindMethodByName(
      absl::StrCat(method.substr(0, method.find('/')), ".", method.substr(method.find('/') + 1)));
  if (m == nullptr) return absl::NotFoundError(absl::StrCat("no method ", method));
  pb::MessageFactory* factory = pb::MessageFactory::generated_factory();
  std::unique_ptr<pb::Message> req(factory->GetPrototype(m->input_type())->New());
  std::unique_ptr<pb::Message> resp(factory->GetPrototype(m->output_type())->New());
  pb::util::JsonParseOptions in;
  in.ignore_unknown_fields = false;
  pb::util::Status parsed =
      pb::util::JsonStringToMessage(request_json.empty() ? "{}" : request_json, req.get(), in);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request for ", method, " is not valid: ", parsed.message().as_string()));
  }
  absl::Status called = Call(method, *req, resp.get(), who);
  if (!called.ok()) return called;
  if (method == "custody.v1.Audit/Log") return AuditLogJson(*resp);
  return ToJson(*resp);
}

absl::Status NodeRelay::Call(const std::string& method, const pb::Message& request,
                             pb::Message* response, const CallerCredentials& who) {
  grpc::Status last;
  for (size_t i = 0; i < channels_.size(); ++i) {
    grpc::ClientContext ctx;
    Prepare(&ctx, who, 30);
    GenericStub stub(channels_[i]);
    absl::Notification done;
    stub.UnaryCall(&ctx, absl::StrCat("/", method), grpc::StubOptions(), &request, response,
                   [&](grpc::Status s) {
                     last = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    if (!WorthAnotherNode(last)) break;
  }
  return FromGrpcStatus(last);
}

absl::Status NodeRelay::Read(const std::string& id, uint64_t offset, uint64_t length,
                             const std::string& playback, const CallerCredentials& who,
                             v1::ObjectInfo* info,
                             const std::function<bool(const char* data, size_t n)>& sink) {
  v1::DownloadRequest req;
  req.set_id(id);
  req.set_offset(offset);
  req.set_length(length);
  req.set_playback(playback);
  grpc::Status last;
  for (size_t i = 0; i < channels_.size(); ++i) {
    grpc::ClientContext ctx;
    Prepare(&ctx, who, 0);
    v1::Custody::Stub stub(channels_[i]);
    std::unique_ptr<grpc::ClientReader<v1::DownloadResponse>> r = stub.Download(&ctx, req);
    v1::DownloadResponse msg;
    bool any = false, stopped = false;
    while (!stopped && r->Read(&msg)) {
      any = true;
      if (msg.has_info()) *info = msg.info();
      if (!msg.data().empty()) stopped = !sink(msg.data().data(), msg.data().size());
    }
    if (stopped) {
      ctx.TryCancel();
      r->Finish();
      return absl::CancelledError("the browser went away");
    }
    last = r->Finish();
    if (any || !WorthAnotherNode(last)) break;
  }
  return FromGrpcStatus(last);
}

}  // namespace custody::web
