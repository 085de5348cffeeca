#include "client/client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/file_hasher.h"
#include "common/digest.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "common/utf8.h"

namespace custody {
namespace {

constexpr size_t kMessageBytes = 1 << 20;

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

std::string GuessMediaType(const std::string& path) {
  static const std::map<std::string, std::string> kTypes = {
      {".mp4", "video/mp4"},        {".mov", "video/quicktime"}, {".avi", "video/x-msvideo"},
      {".mkv", "video/x-matroska"}, {".wav", "audio/wav"},       {".mp3", "audio/mpeg"},
      {".m4a", "audio/mp4"},        {".jpg", "image/jpeg"},      {".jpeg", "image/jpeg"},
      {".png", "image/png"},        {".pdf", "application/pdf"}, {".txt", "text/plain"},
      {".json", "application/json"}};
  std::string ext = absl::AsciiStrToLower(std::filesystem::path(path).extension().string());
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

bool WorthAnotherNode(const absl::Status& s) {
  return IsRetryable(s) || absl::IsResourceExhausted(s);
}

bool IsRetryable(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

CustodyClient::CustodyClient(std::shared_ptr<grpc::Channel> channel)
    : pool_(std::make_shared<ServerPool>(std::move(channel))) {}

CustodyClient::CustodyClient(std::shared_ptr<ServerPool> pool) : pool_(std::move(pool)) {}

absl::Status CustodyClient::OnAnyNode(const std::function<absl::Status(v1::Custody::Stub*)>& call) {
  return pool_->Call(ServerPool::EachNodeOnce(), [&](const ServerPool::Server& server) {
    std::unique_ptr<v1::Custody::Stub> stub = v1::Custody::NewStub(server.channel);
    return call(stub.get());
  });
}

namespace {

absl::Mutex tls_mu;
std::shared_ptr<grpc::ChannelCredentials> tls_credentials ABSL_GUARDED_BY(tls_mu);
std::optional<TlsFiles> tls_files ABSL_GUARDED_BY(tls_mu);

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials() {
  absl::MutexLock l(&tls_mu);
  return tls_credentials ? tls_credentials : grpc::InsecureChannelCredentials();
}

}  // namespace

absl::Status CustodyClient::UseTls(const std::string& dir, const std::string& token) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  std::optional<TlsFiles> loaded;
  if (dir.empty() && !token.empty()) {
    return absl::InvalidArgumentError(
        "a token is only sent over TLS: pass --tls DIR (a folder with the cluster's ca.pem)");
  }
  if (!dir.empty()) {
    absl::StatusOr<TlsFiles> files = TlsFiles::Load(dir);
    if (!files.ok()) return files.status();
    creds = TlsChannelCredentials(*files);
    loaded = *files;
    if (!token.empty()) {
      creds = grpc::CompositeChannelCredentials(creds, grpc::AccessTokenCredentials(token));
    }
  }
  absl::MutexLock l(&tls_mu);
  tls_credentials = creds;
  tls_files = std::move(loaded);
  return absl::OkStatus();
}

std::optional<TlsFiles> CustodyClient::TlsCredentials() {
  absl::MutexLock l(&tls_mu);
  return tls_files;
}

std::shared_ptr<grpc::Channel> CustodyClient::NewChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);  // audit logs and bundles can be large
  // A node that stops answering (hung, frozen, or gone without closing the
  // connection) is noticed within about 20 s: the call fails UNAVAILABLE and
  // is retried, instead of a write waiting forever.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // A node that comes back is connected to within about a second, so that a
  // retry budget of seconds (ServerPool::Call) can use it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(address, ChannelCredentials(), args);
}

std::unique_ptr<CustodyClient> CustodyClient::Connect(const std::string& servers) {
  absl::StatusOr<std::vector<std::string>> list = ParseServers({servers});
  if (!list.ok()) return std::make_unique<CustodyClient>(NewChannel(servers));
  return std::make_unique<CustodyClient>(std::make_shared<ServerPool>(*std::move(list)));
}

std::shared_ptr<grpc::Channel> CustodyClient::ChannelToAnyOf(const std::string& servers) {
  absl::StatusOr<std::vector<std::string>> list = ParseServers({servers});
  if (!list.ok() || list->size() == 1) return NewChannel(list.ok() ? list->front() : servers);
  for (const std::string& address : *list) {
    std::shared_ptr<grpc::Channel> channel = NewChannel(address);
    if (channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(1))) {
      return channel;
    }
  }
  return NewChannel(list->front());
}

absl::StatusOr<std::string> CustodyClient::DeriveUploadId(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Errno(absl::StrCat("stat ", path));
  std::error_code ec;
  std::string abs = std::filesystem::absolute(path, ec).string();
  std::string key = absl::StrCat(abs, "\n", st.st_size, "\n", st.st_mtim.tv_sec, ".",
                                 st.st_mtim.tv_nsec, "\n", st.st_dev, ":", st.st_ino);
  return absl::StrCat("f-", Digest::Of(key).Hex().substr(0, 32));
}

absl::StatusOr<PutResult> CustodyClient::Put(const std::string& path, const PutOptions& options) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno(absl::StrCat("cannot open ", path));
  absl::Cleanup closer = [fd] { close(fd); };
  struct stat st;
  fstat(fd, &st);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  }
  PutOptions opts = options;
  if (opts.media_type.empty()) opts.media_type = GuessMediaType(path);
  if (opts.file_name.empty()) {
    opts.file_name = std::filesystem::path(path).filename().string();
  }
  opts.file_name = EscapeInvalidUtf8(opts.file_name);  // file systems allow any bytes
  std::string upload_id = opts.upload_id;
  if (upload_id.empty()) {
    ASSIGN_OR_RETURN(upload_id, DeriveUploadId(path));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  FileHasher hasher(fd, size);  // stops when the put returns
  PutResult result;
  ServerPool::Retry retry{opts.retry_budget, WorthAnotherNode,
                          [c = opts.canceller] { return c != nullptr && c->cancelled(); }};
  RETURN_IF_ERROR(pool_->Call(
      retry,
      [&](const ServerPool::Server& server) {
        std::unique_ptr<v1::Custody::Stub> stub = v1::Custody::NewStub(server.channel);
        return PutOnce(stub.get(), fd, size, hasher, opts, upload_id, &result);
      },
      &result.attempts));
  return result;
}

}  // namespace custody
