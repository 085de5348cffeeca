#include "common/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "tests/test_util.h"

namespace custody {
namespace {

TEST(FilesTest, ExistsListsAndRenamesWithoutThrowing) {
  testing::TempDir dir;
  const std::string a = dir / "a", b = dir / "b";
  EXPECT_FALSE(*PathExists(a));
  ASSERT_TRUE(WriteNewFile(a, "x").ok());
  EXPECT_TRUE(*PathExists(a));
  absl::StatusOr<std::vector<std::string>> names = ListDir(dir.path());
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, std::vector<std::string>{"a"});
  ASSERT_TRUE(RenamePath(a, b).ok());
  EXPECT_FALSE(*PathExists(a));
  EXPECT_EQ(*ReadFileToString(b), "x");
  // Errors are statuses, not exceptions.
  EXPECT_EQ(ListDir(dir / "missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(RenamePath(dir / "missing", dir / "c").ok());
  EXPECT_FALSE(*PathExists(b + "/under-a-file"));  // ENOTDIR is "absent"
}

TEST(FilesTest, ReplaceFileWritesTheWholeNewContent) {
  testing::TempDir dir;
  const std::string port = dir / "port";
  ASSERT_TRUE(ReplaceFile(port, "7400\n").ok());
  ASSERT_TRUE(ReplaceFile(port, "7401\n").ok());
  EXPECT_EQ(*ReadFileToString(port), "7401\n");
  absl::StatusOr<std::vector<std::string>> names = ListDir(dir.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u) << "no temporary file is left";
}

}  // namespace
}  // namespace custody
