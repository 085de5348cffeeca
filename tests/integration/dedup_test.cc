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
  int64_t Counter(const std::string& name) {
    std::string m = "\n" + HttpGet(port_, "/metrics");
    size_t at = m.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stoll(m.substr(at + name.size() + 2));
  }
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
    w_->WaitForInitialMetadata();
  }
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

}  // namespace
}  // namespace custody::testing
