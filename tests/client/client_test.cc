#include "client/client.h"

#include <gtest/gtest.h>
#include <utime.h>

#include <fstream>

#include "tests/test_util.h"

namespace custody {
namespace {

using testing::TempDir;

TEST(ClientTest, UploadIdIsStableForAnUnchangedFileAndChangesWithIt) {
  TempDir dir;
  std::string f = dir / "clip.mp4";
  std::ofstream(f) << "first";
  auto a = CustodyClient::DeriveUploadId(f);
  auto b = CustodyClient::DeriveUploadId(f);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->rfind("f-", 0), 0u);
  std::ofstream(f) << "second, longer";
  auto c = CustodyClient::DeriveUploadId(f);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*a, *c);
  EXPECT_FALSE(CustodyClient::DeriveUploadId(dir / "missing").ok());
}

TEST(ClientTest, OnlyTransientFailuresAreRetried) {
  EXPECT_TRUE(IsRetryable(absl::UnavailableError("")));
  EXPECT_TRUE(IsRetryable(absl::AbortedError("")));
  EXPECT_FALSE(IsRetryable(absl::DataLossError("")));
  EXPECT_FALSE(IsRetryable(absl::InvalidArgumentError("")));
  EXPECT_FALSE(IsRetryable(absl::ResourceExhaustedError("")));
}

TEST(ClientTest, PutOfAMissingFileOrAFolderFailsBeforeConnecting) {
  TempDir dir;
  auto client = CustodyClient::Connect("127.0.0.1:1");
  EXPECT_FALSE(client->Put(dir / "missing", PutOptions()).ok());
  EXPECT_EQ(client->Put(dir.path(), PutOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custody
