// CustodyClient::Stream: an object (or a range of it) to a pipe, each chunk
// checked before any of its bytes is written (custody get -o -).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "common/digest.h"
#include "common/files.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace custody {

struct CustodyClient::StreamState {
  Digest want;
  int fd = -1;
  uint64_t size = 0, chunk_size = 0;
  uint64_t start = 0, end = 0;  // the bytes to write: [start, end)
  uint64_t next = 0;            // the next chunk's offset (what is fetched next)
  uint64_t fetch_end = 0;       // one past the last chunk's last byte
  bool whole = true;            // no range: the object's hash is checked
  Sha256 hash;
  GetResult* result = nullptr;

  // Checks the chunk at `next` against `want_raw` and writes its part in range.
  absl::Status Take(const std::string& chunk, const std::string& want_raw);
};

absl::Status CustodyClient::StreamState::Take(const std::string& chunk,
                                              const std::string& want_raw) {
  if (std::string(Digest::Of(chunk).Raw()) != want_raw) {
    return absl::DataLossError(
        absl::StrCat("the chunk at byte ", next, " of ", want.ToString(),
                     " does not match its SHA-256; none of its bytes were written (",
                     result->bytes_received, " bytes before it were)"));
  }
  const uint64_t from = std::max(start, next);
  const uint64_t to = std::min(end, next + chunk.size());
  if (to > from)
    RETURN_IF_ERROR(
        WriteBytes(fd, absl::string_view(chunk).substr(from - next, to - from), "the output"));
  if (whole) hash.Update(chunk);
  result->bytes_received += to > from ? to - from : 0;
  next += chunk.size();
  return absl::OkStatus();
}

absl::Status CustodyClient::StreamOnce(v1::Custody::Stub* stub, StreamState* st,
                                       const ProgressFn& progress) {
  grpc::ClientContext ctx;
  v1::DownloadRequest req;
  req.set_id(st->want.ToString());
  req.set_offset(st->next);
  req.set_length(st->fetch_end - st->next);
  req.set_purpose(purpose_);
  std::unique_ptr<grpc::ClientReader<v1::DownloadResponse>> r = stub->Download(&ctx, req);
  v1::DownloadResponse msg;
  std::vector<std::string> hashes;
  std::string chunk;
  absl::Status s;
  while (s.ok() && r->Read(&msg)) {
    if (msg.has_info()) {
      hashes.assign(msg.chunk_sha256().begin(), msg.chunk_sha256().end());
      if (msg.first_chunk_offset() != st->next) {
        s = absl::InternalError("the node sent another range than asked for");
      }
    }
    chunk += msg.data();
    while (s.ok() && st->next < st->fetch_end) {
      const uint64_t want = std::min(st->chunk_size, st->size - st->next);
      if (chunk.size() < want) break;
      const size_t k = (st->next - req.offset()) / st->chunk_size;
      if (k >= hashes.size()) {
        s = absl::InternalError("the node sent more chunks than it named");
        break;
      }
      std::string rest = chunk.substr(want);
      chunk.resize(want);
      s = st->Take(chunk, hashes[k]);
      chunk = std::move(rest);
      if (s.ok() && progress) progress(st->result->bytes_received, st->end - st->start);
    }
  }
  if (!s.ok()) {
    ctx.TryCancel();
    r->Finish();
    return s;
  }
  return FromGrpcStatus(r->Finish());
}

absl::StatusOr<GetResult> CustodyClient::Stream(const std::string& id, int fd,
                                                std::optional<ByteRange> range,
                                                ProgressFn progress) {
  StreamState st;
  ASSIGN_OR_RETURN(st.want, Digest::Parse(id));
  GetResult result;
  ASSIGN_OR_RETURN(result.info, Stat(id));
  st.fd = fd;
  st.result = &result;
  st.size = result.info.size();
  st.chunk_size = std::max<uint64_t>(result.info.chunk_size(), 1);
  st.end = st.size;
  if (range) {
    st.whole = false;
    const uint64_t last = range->end.value_or(st.size == 0 ? 0 : st.size - 1);
    if (range->start >= st.size || last < range->start) {
      return absl::InvalidArgumentError(absl::StrCat("--range ", range->start, "-", last,
                                                     " is not within ", id, " (", st.size,
                                                     " bytes: 0-", st.size - 1, ")"));
    }
    st.start = range->start;
    st.end = std::min(last + 1, st.size);
  }
  st.next = st.start / st.chunk_size * st.chunk_size;
  st.fetch_end = std::min(st.size, (st.end + st.chunk_size - 1) / st.chunk_size * st.chunk_size);
  absl::Status s = pool_->Call(
      ServerPool::Retry{absl::Seconds(15), WorthAnotherNode, nullptr},
      [&](const ServerPool::Server& server) {
        if (st.next >= st.fetch_end) return absl::OkStatus();
        std::unique_ptr<v1::Custody::Stub> stub = v1::Custody::NewStub(server.channel);
        return StreamOnce(stub.get(), &st, progress);
      },
      &result.attempts);
  RETURN_IF_ERROR(s);
  if (st.next < st.fetch_end) {
    return absl::DataLossError(absl::StrCat("the stream ended at byte ", st.next, " of ", st.end));
  }
  if (st.whole) {
    const Digest got = st.hash.Finish();
    if (got != st.want) {
      return absl::DataLossError(absl::StrCat("the ", result.bytes_received,
                                              " bytes written hash to ", got.ToString(), ", not ",
                                              id, ": they are not the object"));
    }
  }
  return result;
}

}  // namespace custody
