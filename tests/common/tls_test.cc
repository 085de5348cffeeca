#include "common/tls.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/files.h"
#include "tests/test_util.h"

namespace custody {
namespace {

TEST(IsLoopbackAddressTest, OnlyNumericLoopbackAddresses) {
  for (const char* a : {"127.0.0.1", "127.0.0.1:7000", "127.8.9.10:1", "[::1]:7000", "::1"}) {
    EXPECT_TRUE(IsLoopbackAddress(a)) << a;
  }
  for (const char* a :
       {"localhost:7000", "127.0.0.1.example.org:7000", "127.example.org", "0.0.0.0:7000",
        "10.0.0.1:7000", "[::]:7000", "[::1", "128.0.0.1", "1270.0.0.1:1", ""}) {
    EXPECT_FALSE(IsLoopbackAddress(a)) << a;
  }
}

TEST(TlsFilesTest, AKeyOthersMayReadIsRefused) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteNewFile(dir / "ca.pem", "ca").ok());
  ASSERT_TRUE(WriteNewFile(dir / "cert.pem", "cert").ok());
  ASSERT_TRUE(WriteNewFile(dir / "key.pem", "key", 0640).ok());
  absl::StatusOr<TlsFiles> f = TlsFiles::Load(dir.path());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(f.status().message().find("chmod 600"), std::string::npos) << f.status();
  ASSERT_EQ(chmod((dir / "key.pem").c_str(), 0600), 0);
  f = TlsFiles::Load(dir.path());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->key_pem, "key");
}

}  // namespace
}  // namespace custody
