// kill -9 of clients and nodes: resumable uploads and acknowledged objects.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "client/client.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

TEST(CrashTest, KilledUploadResumesAcrossANodeRestart) {
  TempDir dir;
  NodeProcess node(dir / "data");
  ASSERT_TRUE(node.Start()) << node.Log();
  std::string file = dir / "interview.mp4";
  const uint64_t size = 256ull << 20;
  std::string want = WriteRandomFile(file, size, 11);
  std::string upload_id = *CustodyClient::DeriveUploadId(file);

  Subprocess put({CUSTODY_CLI_PATH, "--server", node.address(), "put", file}, dir / "put.out",
                 dir / "put.err");
  auto client = CustodyClient::Connect(node.address());
  uint64_t committed = 0;
  while (put.running() && committed < (16u << 20)) {
    auto q = client->QueryUpload(upload_id);
    if (q.ok()) committed = q->committed_size();
  }
  put.Kill(SIGKILL);
  ASSERT_EQ(put.Wait(), 128 + SIGKILL) << "the upload finished before it could be killed";
  node.Kill(SIGKILL);  // and the node too, to show the progress is durable
  ASSERT_TRUE(node.Start()) << node.Log();
  uint64_t held = CustodyClient::Connect(node.address())->QueryUpload(upload_id)->committed_size();
  EXPECT_GE(held, committed);
  EXPECT_LT(held, size);

  CliResult again = RunCli({"--server", node.address(), "put", file, "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  json r = json::parse(again.out);
  EXPECT_EQ(r["id"], want);
  EXPECT_EQ(r["resumed_from"], held);
  EXPECT_EQ(r["bytes_sent"], size - held);  // nothing the node held was sent again
  CliResult get = RunCli({"--server", node.address(), "get", want, "-o", dir / "back"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(HashFile(dir / "back"), want);
}

// Uploads files in a loop from several threads until the node dies,
// remembering which ones the node acknowledged.
class Uploaders {
 public:
  Uploaders(const std::string& address, std::vector<std::string> files, int threads)
      : files_(std::move(files)) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, address, t, threads] {
        auto client = CustodyClient::Connect(address);
        PutOptions opts;
        opts.retry_budget = absl::ZeroDuration();
        for (size_t i = t; i < files_.size(); i += threads) {
          auto r = client->Put(files_[i], opts);
          if (!r.ok()) return;
          absl::MutexLock l(&mu_);
          acked_.emplace_back(files_[i], r->id);
        }
      });
    }
  }
  void Join() {
    for (auto& t : threads_) t.join();
  }
  std::vector<std::pair<std::string, std::string>> acked() {
    absl::MutexLock l(&mu_);
    return acked_;
  }

 private:
  std::vector<std::string> files_;
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  std::vector<std::pair<std::string, std::string>> acked_;
};

TEST(CrashTest, KillNineDuringConcurrentUploadsLosesNoAcknowledgedObject) {
  TempDir dir;
  NodeProcess node(dir / "data", {"--volume-size", "32MiB"});
  ASSERT_TRUE(node.Start()) << node.Log();
  std::vector<std::string> files;
  for (int i = 0; i < 60; ++i) {
    files.push_back(dir / ("seg" + std::to_string(i) + ".mp4"));
    WriteRandomFile(files.back(), (1u << 20) + static_cast<uint64_t>(i) * 300007, 100 + i);
  }
  Uploaders up(node.address(), files, 6);
  while (up.acked().size() < 12) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  node.Kill(SIGKILL);
  up.Join();
  auto acked = up.acked();
  ASSERT_LT(acked.size(), files.size()) << "every upload finished before the kill";

  ASSERT_TRUE(node.Start()) << node.Log();
  auto client = CustodyClient::Connect(node.address());
  for (const auto& [file, id] : acked) {
    std::string out = dir / ("back-" + id.substr(7, 16));
    auto g = client->Get(id, out);
    ASSERT_TRUE(g.ok()) << id << ": " << g.status();
    EXPECT_EQ(HashFile(out), HashFile(file));
  }
  // The node keeps working after the crash.
  auto more = client->Put(files.back(), PutOptions());
  ASSERT_TRUE(more.ok()) << more.status();
}

}  // namespace
}  // namespace custody::testing
