// CustodyClient::Get and the small unary calls.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "client/output_file.h"
#include "client/receive_ahead.h"
#include "common/digest.h"
#include "common/files.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace custody {

namespace {
constexpr size_t kReceiveAhead = 8;  // messages of up to 1 MiB
}  // namespace

absl::Status CustodyClient::GetOnce(v1::Custody::Stub* stub, const std::string& id, OutputFile* out,
                                    GetResult* result, Sha256* hash, const ProgressFn& progress) {
  grpc::ClientContext ctx;
  v1::DownloadRequest req;
  req.set_id(id);
  req.set_offset(result->bytes_received);
  req.set_purpose(purpose_);
  std::unique_ptr<grpc::ClientReader<v1::DownloadResponse>> r = stub->Download(&ctx, req);
  absl::Status s;
  {
    ReceiveAhead ahead(r.get(), kReceiveAhead);  // receives while this thread writes and hashes
    while (std::optional<v1::DownloadResponse> msg = ahead.Next()) {
      if (msg->has_info()) result->info = msg->info();
      s = out->Append(msg->data());
      if (!s.ok()) {
        ctx.TryCancel();
        break;
      }
      hash->Update(msg->data());
      result->bytes_received += msg->data().size();
      if (progress) progress(result->bytes_received, result->info.size());
    }
  }
  absl::Status finished = FromGrpcStatus(r->Finish());
  return s.ok() ? finished : s;
}

absl::StatusOr<GetResult> CustodyClient::Get(const std::string& id, const std::string& out_path,
                                             ProgressFn progress) {
  ASSIGN_OR_RETURN(Digest want, Digest::Parse(id));
  struct stat st;
  if (lstat(out_path.c_str(), &st) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat(out_path, " exists; custody never overwrites a file, choose another name"));
  }
  std::string tmp = absl::StrCat(out_path, ".partial-", getpid());
  absl::StatusOr<std::unique_ptr<OutputFile>> out = OutputFile::Create(tmp);
  if (!out.ok()) return absl::InternalError(out.status().message());
  GetResult result;
  Sha256 hash;
  // Each attempt resumes at the bytes received so far, from any node.
  absl::Status s = pool_->Call(
      ServerPool::Retry{absl::Seconds(15), WorthAnotherNode, nullptr},
      [&](const ServerPool::Server& server) {
        std::unique_ptr<v1::Custody::Stub> stub = v1::Custody::NewStub(server.channel);
        return GetOnce(stub.get(), want.ToString(), out->get(), &result, &hash, progress);
      },
      &result.attempts);
  if (s.ok() && result.bytes_received != result.info.size()) {
    s = absl::DataLossError(
        absl::StrCat("received ", result.bytes_received, " bytes of ", result.info.size()));
  }
  Digest got = hash.Finish();
  if (s.ok() && got != want) {
    s = absl::DataLossError(
        absl::StrCat("received bytes hash to ", got.ToString(), ", not ", want.ToString()));
  }
  if (s.ok()) s = (*out)->Finish();
  out->reset();  // closed
  if (s.ok() && rename(tmp.c_str(), out_path.c_str()) != 0) {
    s = absl::InternalError(absl::StrCat("renaming to ", out_path, ": ", std::strerror(errno)));
  }
  if (!s.ok()) {
    unlink(tmp.c_str());
    // Say what happened to the bytes only when some came.
    return absl::Status(
        s.code(),
        result.bytes_received == 0
            ? absl::StrCat(s.message(), " (nothing was written to ", out_path, ")")
            : absl::StrCat(s.message(), " (the ", result.bytes_received,
                           " bytes received were deleted; ", out_path, " was not written)"));
  }
  return result;
}

absl::StatusOr<v1::ObjectInfo> CustodyClient::Stat(const std::string& id, bool sm3) {
  ASSIGN_OR_RETURN(Digest d, Digest::Parse(id));
  v1::StatRequest req;
  req.set_id(d.ToString());
  req.set_sm3(sm3);
  v1::ObjectInfo info;
  RETURN_IF_ERROR(OnAnyNode([&](v1::Custody::Stub* stub) {
    grpc::ClientContext ctx;
    return FromGrpcStatus(stub->Stat(&ctx, req, &info));
  }));
  return info;
}

absl::StatusOr<std::vector<v1::ObjectInfo>> CustodyClient::List() {
  std::vector<v1::ObjectInfo> all;
  RETURN_IF_ERROR(ForEachPage([&all](const std::vector<v1::ObjectInfo>& page) {
    all.insert(all.end(), page.begin(), page.end());
  }));
  return all;
}

absl::Status CustodyClient::ForEachPage(
    const std::function<void(const std::vector<v1::ObjectInfo>&)>& page) {
  std::string token;
  do {
    v1::ListRequest req;
    req.set_page_token(token);
    v1::ListResponse resp;
    RETURN_IF_ERROR(OnAnyNode([&](v1::Custody::Stub* stub) {
      grpc::ClientContext ctx;
      return FromGrpcStatus(stub->List(&ctx, req, &resp));
    }));
    page(std::vector<v1::ObjectInfo>(resp.objects().begin(), resp.objects().end()));
    token = resp.next_page_token();
  } while (!token.empty());
  return absl::OkStatus();
}

absl::StatusOr<v1::QueryUploadResponse> CustodyClient::QueryUpload(const std::string& upload_id,
                                                                   Canceller* canceller) {
  v1::QueryUploadResponse resp;
  RETURN_IF_ERROR(OnAnyNode([&](v1::Custody::Stub* stub) {
    absl::StatusOr<v1::QueryUploadResponse> r = QueryUploadOn(stub, upload_id, canceller);
    if (r.ok()) resp = *std::move(r);
    return r.status();
  }));
  return resp;
}

absl::StatusOr<v1::QueryUploadResponse> CustodyClient::QueryUploadOn(v1::Custody::Stub* stub,
                                                                     const std::string& upload_id,
                                                                     Canceller* canceller) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (canceller != nullptr && !canceller->Register(&ctx)) {
    return absl::CancelledError("the upload was cancelled");
  }
  absl::Cleanup unregister = [&] {
    if (canceller != nullptr) canceller->Unregister();
  };
  v1::QueryUploadRequest req;
  req.set_upload_id(upload_id);
  v1::QueryUploadResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub->QueryUpload(&ctx, req, &resp)));
  return resp;
}

absl::StatusOr<v1::NodeStatusResponse> CustodyClient::NodeStatus() {
  v1::NodeStatusResponse resp;
  RETURN_IF_ERROR(OnAnyNode([&](v1::Custody::Stub* stub) {
    grpc::ClientContext ctx;
    return FromGrpcStatus(stub->NodeStatus(&ctx, v1::NodeStatusRequest(), &resp));
  }));
  return resp;
}

}  // namespace custody
