// Malformed, truncated, stalled and oversized requests against a real node,
// through the raw gRPC API; and a full disk.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "client/client.h"
#include "common/digest.h"
#include "custody/v1/custody.grpc.pb.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(node_.Start()) << node_.Log();
    stub_ = v1::Custody::NewStub(
        grpc::CreateChannel(node_.address(), grpc::InsecureChannelCredentials()));
  }
  v1::UploadRequest Header(const std::string& id, uint64_t size) {
    v1::UploadRequest r;
    r.mutable_header()->set_upload_id(id);
    r.mutable_header()->set_size(size);
    return r;
  }
  v1::UploadRequest Data(const std::string& d) {
    v1::UploadRequest r;
    r.set_data(d);
    return r;
  }
  v1::UploadRequest Finish(const std::string& sha) {
    v1::UploadRequest r;
    r.mutable_finish()->set_sha256(sha);
    return r;
  }
  // Sends `msgs`, half-closes, returns the status.
  grpc::Status Send(const std::vector<v1::UploadRequest>& msgs, v1::UploadResponse* resp) {
    grpc::ClientContext ctx;
    auto w = stub_->Upload(&ctx, resp);
    for (const auto& m : msgs) {
      if (!w->Write(m)) break;
    }
    w->WritesDone();
    return w->Finish();
  }
  bool Held(const std::string& id) {
    return CustodyClient::Connect(node_.address())->Stat(id).ok();
  }

  TempDir dir_;
  NodeProcess node_{dir_ / "data", {"--chunk-size", "64KiB", "--idle-timeout", "1"}};
  std::unique_ptr<v1::Custody::Stub> stub_;
};

// Sends `raw` as the one message of an Upload stream, as bytes on the wire
// (what a client of another language with a bug might send).
grpc::Status RawUpload(const std::string& address, const std::string& raw) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&ctx, "/custody.v1.Custody/Upload", &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  grpc::Slice slice(raw);
  grpc::ByteBuffer req(&slice, 1);
  call->Write(req, reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  return status;
}

TEST_F(BadInputTest, AnUnparsableMessageIsNamedAsSuch) {
  v1::UploadRequest bad = Header("x", 3);
  std::string raw = bad.SerializeAsString();
  raw.replace(raw.find('x'), 1, "\xff");  // upload_id no longer UTF-8
  for (const std::string& wire : {raw, std::string("\xff\xff\xff garbage")}) {
    grpc::Status s = RawUpload(node_.address(), wire);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_NE(s.error_message().find("did not parse"), std::string::npos) << s.error_message();
  }
}

TEST_F(BadInputTest, HashMismatchIsDataLossAndStoresNothing) {
  std::string data = RandomBytes(200000, 1);
  v1::UploadResponse resp;
  grpc::Status s =
      Send({Header("m1", data.size()), Data(data), Finish(Digest::Of("no").ToString())}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << s.error_message();
  EXPECT_NE(s.error_message().find("mismatch"), std::string::npos);
  EXPECT_FALSE(Held(Digest::Of(data).ToString()));
  EXPECT_FALSE(Held(Digest::Of("no").ToString()));
}

TEST_F(BadInputTest, StreamEndingEarlyKeepsWholeChunksForResume) {
  std::string data = RandomBytes(300000, 2);
  v1::UploadResponse resp;
  grpc::Status s = Send({Header("early", data.size()), Data(data.substr(0, 150000))}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  auto q = CustodyClient::Connect(node_.address())->QueryUpload("early");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->committed_size(), 2u * 65536);
  v1::UploadRequest h = Header("early", data.size());
  h.mutable_header()->set_offset(2 * 65536);
  s = Send({h, Data(data.substr(2 * 65536)), Finish(Digest::Of(data).ToString())}, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.id(), Digest::Of(data).ToString());
  EXPECT_EQ(resp.bytes_received(), data.size() - 2 * 65536);
}

TEST_F(BadInputTest, MisorderedOrOversizedStreamsAreRefused) {
  v1::UploadResponse resp;
  EXPECT_EQ(Send({Data("x")}, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Send({}, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Send({Header("two", 5), Header("two", 5)}, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Send({Header("over", 5), Data("123456")}, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::UploadRequest big = Header("meta", 1);
  for (int i = 0; i < 100; ++i) {
    (*big.mutable_header()->mutable_metadata())["k" + std::to_string(i)] = "v";
  }
  EXPECT_EQ(Send({big}, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::UploadRequest huge = Header("huge", 1);
  huge.mutable_header()->set_file_name(std::string(3 << 20, 'n'));
  grpc::Status s = Send({huge}, &resp);
  EXPECT_TRUE(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
              s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
      << s.error_code() << " " << s.error_message();
  v1::UploadRequest bad_offset = Header("off", 10);
  bad_offset.mutable_header()->set_offset(5);
  EXPECT_EQ(Send({bad_offset}, &resp).error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(Send({Header("fin", 3), Data("abc"), Finish("sha256:nothex")}, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(BadInputTest, StalledClientHitsItsDeadlineAndTheNodeGoesOn) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  v1::UploadResponse resp;
  auto w = stub_->Upload(&ctx, &resp);
  w->Write(Header("stall", 1000));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(w->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  std::string data = RandomBytes(1000, 3);
  EXPECT_TRUE(
      Send({Header("after", 1000), Data(data), Finish(Digest::Of(data).ToString())}, &resp).ok());
}

TEST_F(BadInputTest, StalledClientWithoutDeadlineIsCutOffByTheNode) {
  std::string data = RandomBytes(200000, 4);
  grpc::ClientContext ctx;  // no deadline
  v1::UploadResponse resp;
  auto w = stub_->Upload(&ctx, &resp);
  ASSERT_TRUE(w->Write(Header("idle", data.size())));
  ASSERT_TRUE(w->Write(Data(data.substr(0, 140000))));
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  grpc::Status s = w->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  auto q = CustodyClient::Connect(node_.address())->QueryUpload("idle");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->committed_size(), 2u * 65536);  // whole chunks kept for a resume
}

TEST_F(BadInputTest, DownloadOfUnknownOrMalformedIds) {
  for (const auto& [id, code] : std::vector<std::pair<std::string, grpc::StatusCode>>{
           {"sha256:" + std::string(64, 'c'), grpc::StatusCode::NOT_FOUND},
           {"md5:abc", grpc::StatusCode::INVALID_ARGUMENT}}) {
    grpc::ClientContext ctx;
    v1::DownloadRequest req;
    req.set_id(id);
    auto r = stub_->Download(&ctx, req);
    v1::DownloadResponse msg;
    EXPECT_FALSE(r->Read(&msg));
    EXPECT_EQ(r->Finish().error_code(), code) << id;
  }
}

// Writes zeros to `path` until the disk is full.
void FillDisk(const std::string& path) {
  std::ofstream f(path, std::ios::binary);
  std::string block(1 << 20, '\0');
  while (f.write(block.data(), static_cast<std::streamsize>(block.size()))) {
  }
}

// A node on a small tmpfs (issue 26): uploads past its soft reserve are
// refused with RESOURCE_EXHAUSTED and audited; what was stored stays
// readable; an orderly stop on the full disk does not abort, the node starts
// again on it, and takes uploads again by itself once space returns. A
// reserve below the hard one is refused at start.
TEST(FullDiskTest, AFullNodeRefusesNewDataServesReadsStopsCleanlyAndRecovers) {
  TempDir dir;
  std::string mnt = dir / "small";
  std::filesystem::create_directories(mnt);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
  }
  absl::Cleanup unmount = [&] { umount2(mnt.c_str(), MNT_DETACH); };
  {
    NodeProcess reckless(mnt + "/data", {"--min-free", "0"});
    EXPECT_FALSE(reckless.Start());
    EXPECT_NE(reckless.Log().find("below the hard reserve"), std::string::npos) << reckless.Log();
  }
  std::string filler = mnt + "/filler";  // space an operator can free later
  WriteRandomFile(filler, 40 << 20, 1);
  NodeProcess node(mnt + "/data", {"--min-free", "32MiB", "--chunk-size", "1MiB"});
  ASSERT_TRUE(node.Start()) << node.Log();
  auto client = CustodyClient::Connect(node.address());
  std::vector<std::pair<std::string, std::string>> stored;
  absl::Status refused;
  PutOptions once;
  once.retry_budget = absl::ZeroDuration();
  for (int i = 0; i < 30 && refused.ok(); ++i) {
    std::string f = dir / ("f" + std::to_string(i));
    std::string id = WriteRandomFile(f, 6 << 20, 40 + i);
    auto r = client->Put(f, once);
    if (r.ok())
      stored.emplace_back(f, id);
    else
      refused = r.status();
  }
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  ASSERT_FALSE(stored.empty());
  for (const auto& [f, id] : stored) {
    auto g = client->Get(id, f + ".back");
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ(HashFile(f + ".back"), id);
  }
  EXPECT_TRUE(client->NodeStatus().ok());
  CliResult log =
      RunCli({"--server", node.address(), "audit", "log", "--action", "upload.refused"});
  EXPECT_EQ(log.exit_code, 0) << log.err;
  EXPECT_NE(log.out.find("disk full"), std::string::npos) << log.out;

  // Another program takes the rest of the disk: below the hard reserve the
  // node writes nothing and says why. A read, which is on record before its
  // first byte, is refused with the reason; status still answers.
  std::string rest = mnt + "/rest";
  FillDisk(rest);
  auto status = [&] {
    CliResult st = RunCli({"--server", node.address(), "status", "--json"});
    return st.exit_code == 0 ? json::parse(st.out) : json();
  };
  json full = status();
  EXPECT_NE(full["read_only"].get<std::string>().find("disk full"), std::string::npos) << full;
  auto g = client->Get(stored[0].second, stored[0].first + ".again");
  EXPECT_EQ(g.status().code(), absl::StatusCode::kResourceExhausted) << g.status();

  EXPECT_EQ(node.Kill(SIGTERM), 0) << node.Log();  // an orderly stop, no abort
  FillDisk(rest + "2");  // what the stop gave back (preallocated space) is taken too
  ASSERT_TRUE(node.Start()) << "starts again on the full disk: " << node.Log();
  json restarted = status();
  EXPECT_FALSE(restarted["read_only"].get<std::string>().empty()) << restarted;
  EXPECT_GT(restarted["audit_events_held"].get<int>(), 0) << "node.started waits for room";
  std::string late = dir / "late";
  std::string late_id = WriteRandomFile(late, 6 << 20, 99);
  EXPECT_EQ(client->Put(late, once).status().code(), absl::StatusCode::kResourceExhausted);

  std::filesystem::remove(filler);  // space returns: no restart, no flag
  std::filesystem::remove(rest);
  std::filesystem::remove(rest + "2");
  json back = status();
  for (absl::Time end = absl::Now() + absl::Seconds(20);
       absl::Now() < end && (back["audit_events_held"] != 0 || back["read_only"] != "");) {
    absl::SleepFor(absl::Milliseconds(200));
    back = status();
  }
  EXPECT_EQ(back["audit_events_held"], 0) << back;
  EXPECT_EQ(back["read_only"], "") << back;
  auto again = client->Put(late, once);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id, late_id);
  CliResult started =
      RunCli({"--server", node.address(), "audit", "log", "node", "--action", "node.started"});
  EXPECT_EQ(started.exit_code, 0) << started.err;
  int starts = 0;  // the first start and the one held in memory, written now
  for (size_t at = started.out.find("node.started"); at != std::string::npos;
       at = started.out.find("node.started", at + 1)) {
    ++starts;
  }
  EXPECT_GE(starts, 2) << started.out;
  EXPECT_EQ(node.Kill(SIGTERM), 0) << node.Log();
}

}  // namespace
}  // namespace custody::testing
