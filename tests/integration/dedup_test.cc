// Dedup before sending (issue 24): a put names the file's hash in its
// header, and a node that holds the object answers before any byte is sent;
// a hash presented without the object is never taken on trust.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "client/client.h"
#include "common/digest.h"
#include "common/upload_protocol.h"
#include "custody/v1/custody.grpc.pb.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

class DedupTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(node_.Start()) << node_.Log(); }
  CliResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", node_.address()});
    return RunCli(args);
  }
  // A counter of the node's /metrics; -1 if it is not there.
  int64_t Counter(const std::string& name) { return MetricValue(port_, name); }
  // The actions of the object's history, and the first event of `action`.
  std::vector<std::string> History(const std::string& id, const std::string& action, json* event) {
    CliResult r = Cli({"audit", "log", id, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> actions;
    const json history = json::parse(r.out);
    for (const json& e : history["events"]) {
      actions.push_back(e["action"]);
      if (e["action"] == action && event->is_null()) *event = e;
    }
    return actions;
  }

  TempDir dir_;
  int port_ = FreePort();
  NodeProcess node_{dir_ / "data", {"--metrics-listen", "127.0.0.1:" + std::to_string(port_)}};
};

TEST_F(DedupTest, APutOfBytesTheNodeHoldsSendsNoneAndSaysItWasOnlyTheHash) {
  const int64_t size = (12 << 20) + 5;  // a little over three 4 MiB chunks
  const std::string a = dir_ / "first.mp4", b = dir_ / "again.mp4";
  const std::string id = WriteRandomFile(a, size, 24);
  WriteRandomFile(b, size, 24);  // the same bytes under another name
  CliResult first = Cli({"put", a, "--meta", "officer=A1", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(json::parse(first.out)["already_stored"], false);
  EXPECT_EQ(json::parse(first.out)["bytes_sent"], size);
  ASSERT_EQ(Counter("custody_ingest_bytes_total"), size);

  CliResult second = Cli({"put", b, "--meta", "officer=B2", "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  json p = json::parse(second.out);
  EXPECT_EQ(p["id"], id);
  EXPECT_EQ(p["already_stored"], true);
  EXPECT_EQ(p["bytes_sent"], 0);
  // The node's own counts: the second put carried less than one chunk
  // (nothing at all), and it was answered from the hash.
  EXPECT_LT(Counter("custody_ingest_bytes_total") - size, 4 << 20);
  EXPECT_EQ(Counter("custody_ingest_bytes_total"), size);
  EXPECT_EQ(Counter("custody_uploads_answered_from_digest_total"), 1);
  EXPECT_EQ(Counter("custody_upload_bytes_not_sent_total"), size);
  CliResult plain = Cli({"put", b});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, id + "\n");
  EXPECT_NE(plain.err.find("already stored: " + b), std::string::npos) << plain.err;
  EXPECT_NE(plain.err.find("no bytes sent"), std::string::npos) << plain.err;

  // The first put's facts stay; the history says the second only named the hash.
  CliResult stat = Cli({"stat", id, "--json"});
  ASSERT_EQ(stat.exit_code, 0) << stat.err;
  EXPECT_EQ(json::parse(stat.out)["file_name"], "first.mp4");
  EXPECT_EQ(json::parse(stat.out)["metadata"]["officer"], "A1");
  json presented;
  std::vector<std::string> actions = History(id, "object.digest-presented", &presented);
  EXPECT_EQ(actions, (std::vector<std::string>{"object.stored", "object.digest-presented",
                                               "object.digest-presented", "object.stat"}));
  ASSERT_FALSE(presented.is_null());
  EXPECT_EQ(presented["details"]["bytes_received"], "0");
  EXPECT_EQ(presented["details"]["file_name"], "again.mp4");
  EXPECT_EQ(presented["details"]["meta.officer"], "B2");  // carried, recorded, not applied
  EXPECT_NE(presented["details"]["checked"].get<std::string>().find("sent no bytes"),
            std::string::npos);
}

class RawUpload {
 public:
  RawUpload(const std::string& address, const std::string& upload_id, uint64_t size,
            const std::string& sha256)
      : stub_(v1::Custody::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    w_ = stub_->Upload(&ctx_, &resp_);
    v1::UploadRequest h;
    h.mutable_header()->set_upload_id(upload_id);
    h.mutable_header()->set_size(size);
    h.mutable_header()->set_sha256(sha256);
    (*h.mutable_header()->mutable_metadata())["officer"] = "Z9";
    EXPECT_TRUE(w_->Write(h));
    if (!sha256.empty()) w_->WaitForInitialMetadata();  // none is sent without a hash
  }
  // Writes one message; false once the node has ended the stream.
  bool Write(const v1::UploadRequest& r) { return w_->Write(r); }
  // Whether the node asked for the bytes instead of answering.
  bool AskedForBytes() {
    auto md = ctx_.GetServerInitialMetadata();
    auto it = md.find(kUploadMetadataKey);
    return it != md.end() && it->second == kSendBytes;
  }
  grpc::Status Send(const std::string& data, const std::string& finish_sha256) {
    v1::UploadRequest r;
    r.set_data(data);
    if (!data.empty()) w_->Write(r);
    r.mutable_finish()->set_sha256(finish_sha256);
    if (!finish_sha256.empty()) w_->Write(r);
    w_->WritesDone();
    return w_->Finish();
  }
  const v1::UploadResponse& response() const { return resp_; }

 private:
  std::unique_ptr<v1::Custody::Stub> stub_;
  grpc::ClientContext ctx_;
  v1::UploadResponse resp_;
  std::unique_ptr<grpc::ClientWriter<v1::UploadRequest>> w_;
};

TEST_F(DedupTest, AHashPresentedWithoutTheObjectIsNotTakenOnTrust) {
  const std::string held = RandomBytes(300000, 5), other = RandomBytes(300000, 6);
  const std::string held_id = Digest::Of(held).ToString(), other_id = Digest::Of(other).ToString();
  { std::ofstream(dir_ / "held.bin", std::ios::binary) << held; }
  ASSERT_EQ(Cli({"put", dir_ / "held.bin"}).exit_code, 0);
  // Bytes the node never saw: it asks for them, and a stream that stops
  // there stores nothing.
  RawUpload unknown(node_.address(), "u1", other.size(), other_id);
  EXPECT_TRUE(unknown.AskedForBytes());
  EXPECT_EQ(unknown.Send("", "").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(CustodyClient::Connect(node_.address())->Stat(other_id).ok());
  // A held object's hash with another size is not that object.
  RawUpload wrong_size(node_.address(), "u2", held.size() + 1, held_id);
  EXPECT_TRUE(wrong_size.AskedForBytes());
  EXPECT_FALSE(wrong_size.Send("", "").ok());
  // A hash, then other bytes: the node hashes what it got, and the finish
  // must name the header's hash too.
  const std::string third = RandomBytes(300000, 7);
  const std::string third_id = Digest::Of(third).ToString();
  for (const std::string& finish : {other_id, third_id}) {
    RawUpload lie(node_.address(), "u3", third.size(), other_id);
    ASSERT_TRUE(lie.AskedForBytes());
    grpc::Status s = lie.Send(third, finish);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << s.error_message();
    EXPECT_NE(s.error_message().find("mismatch"), std::string::npos) << s.error_message();
  }
  EXPECT_FALSE(CustodyClient::Connect(node_.address())->Stat(other_id).ok());
  EXPECT_FALSE(CustodyClient::Connect(node_.address())->Stat(third_id).ok());
  EXPECT_EQ(Counter("custody_uploads_answered_from_digest_total"), 0);
  // The held object's hash and size: answered at once, nothing received,
  // and the upload's metadata not applied.
  RawUpload known(node_.address(), "u4", held.size(), held_id);
  EXPECT_FALSE(known.AskedForBytes());
  ASSERT_TRUE(known.Send("", "").ok());
  EXPECT_TRUE(known.response().already_stored());
  EXPECT_EQ(known.response().bytes_received(), 0u);
  EXPECT_EQ(known.response().durable_replicas(), 1u);
  absl::StatusOr<v1::ObjectInfo> info = CustodyClient::Connect(node_.address())->Stat(held_id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->metadata().count("officer"), 0u);
  // Received: the first put and the two streams of the third bytes.
  EXPECT_EQ(Counter("custody_ingest_bytes_total"), static_cast<int64_t>(3 * held.size()));
}

// A put of a large file hashes it while sending (issue 29) and names the
// hash mid-stream: a node that holds the object answers then, and the rest
// of the bytes are not sent.
TEST_F(DedupTest, AHashNamedMidStreamEndsTheUploadOfHeldBytes) {
  const int64_t size = (40 << 20) + 3;  // above the client's 16 MiB hash-first size
  const std::string a = dir_ / "big.mp4", b = dir_ / "big-again.mp4";
  const std::string id = WriteRandomFile(a, size, 29);
  WriteRandomFile(b, size, 29);
  CliResult first = Cli({"put", a, "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(json::parse(first.out)["id"], id);
  EXPECT_EQ(json::parse(first.out)["bytes_sent"], size);
  ASSERT_EQ(Cli({"get", id, "-o", dir_ / "back.mp4"}).exit_code, 0);
  EXPECT_EQ(Digest::OfFile(dir_ / "back.mp4")->ToString(), id);
  CliResult again = Cli({"put", b, "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["already_stored"], true);
  // How much went before the hash did is a race between the client's hash
  // thread and the socket (on a busy machine all of it can): the part by
  // hand below shows, without a race, that the node stops the stream.
  EXPECT_LE(json::parse(again.out)["bytes_sent"].get<int64_t>(), size);

  // The same by hand: part of the bytes, then the hash.
  const int64_t part = (5 << 20) + 7;
  std::string bytes(part, '\0');
  std::ifstream(b, std::ios::binary).read(bytes.data(), part);
  RawUpload mid(node_.address(), "mid-1", size, "");
  v1::UploadRequest r;
  for (int64_t at = 0; at < part; at += 1 << 20) {
    r.set_data(bytes.substr(at, 1 << 20));
    ASSERT_TRUE(mid.Write(r));
  }
  r.mutable_hash()->set_sha256(id);
  mid.Write(r);
  ASSERT_TRUE(mid.Send("", "").ok());
  EXPECT_TRUE(mid.response().already_stored());
  EXPECT_EQ(mid.response().bytes_received(), static_cast<uint64_t>(part));
  absl::StatusOr<v1::QueryUploadResponse> q =
      CustodyClient::Connect(node_.address())->QueryUpload("mid-1");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(q->completed());
  EXPECT_EQ(q->object_id(), id);
  json presented;
  History(id, "object.digest-presented", &presented);
  ASSERT_FALSE(presented.is_null());
  json last;
  const json log = json::parse(Cli({"audit", "log", id, "--json"}).out);
  for (const json& e : log["events"]) {
    if (e["details"].value("upload_id", "") == "mid-1") last = e;
  }
  ASSERT_FALSE(last.is_null()) << log.dump();
  EXPECT_EQ(last["action"], "object.digest-presented");
  EXPECT_EQ(last["details"]["bytes_received"], std::to_string(part));
  EXPECT_NE(last["details"]["checked"].get<std::string>().find("after part of the bytes"),
            std::string::npos);
}

TEST_F(DedupTest, AHashMessageIsCheckedLikeTheHeaders) {
  const std::string bytes = RandomBytes(300000, 8), other = RandomBytes(300000, 9);
  const std::string id = Digest::Of(bytes).ToString(), other_id = Digest::Of(other).ToString();
  v1::UploadRequest hash;
  int n = 0;
  // A hash after a header that named one, a second one, a malformed one.
  for (const std::vector<std::string>& sent :
       {std::vector<std::string>{id, id}, {"", id, id}, {"", "sha256:12"}}) {
    RawUpload u(node_.address(), "h-" + std::to_string(++n), bytes.size(), sent[0]);
    for (size_t i = 1; i < sent.size(); ++i) {
      hash.mutable_hash()->set_sha256(sent[i]);
      u.Write(hash);
    }
    grpc::Status s = u.Send(bytes, id);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  }
  // A hash the bytes do not have: nothing stored, whichever the finish names.
  for (const std::string& finish : {other_id, id}) {
    RawUpload lie(node_.address(), "lie-" + finish.substr(7, 4), bytes.size(), "");
    hash.mutable_hash()->set_sha256(other_id);
    ASSERT_TRUE(lie.Write(hash));
    grpc::Status s = lie.Send(bytes, finish);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << s.error_message();
  }
  EXPECT_FALSE(CustodyClient::Connect(node_.address())->Stat(id).ok());
  EXPECT_FALSE(CustodyClient::Connect(node_.address())->Stat(other_id).ok());
  // And a true one, before the bytes of an object the node lacks: stored.
  RawUpload fine(node_.address(), "fine", bytes.size(), "");
  hash.mutable_hash()->set_sha256(id);
  ASSERT_TRUE(fine.Write(hash));
  ASSERT_TRUE(fine.Send(bytes, id).ok());
  EXPECT_FALSE(fine.response().already_stored());
  EXPECT_TRUE(CustodyClient::Connect(node_.address())->Stat(id).ok());
}

}  // namespace
}  // namespace custody::testing
