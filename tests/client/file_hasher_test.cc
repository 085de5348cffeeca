// FileHasher: the hash a put sends is the file's, computed beside the send.
#include "client/file_hasher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/test_util.h"

namespace custody {
namespace {

using testing::TempDir;

std::string Bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 2654435761u) >> 13);
  return s;
}

TEST(FileHasherTest, HashesTheDeclaredBytesOfTheFile) {
  TempDir dir;
  const std::string path = dir / "clip.mp4", bytes = Bytes((3 << 20) + 11);
  std::ofstream(path, std::ios::binary) << bytes;
  int fd = open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  {
    FileHasher whole(fd, bytes.size());
    absl::StatusOr<Digest> d = whole.Wait();
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(*d, Digest::Of(bytes));
    ASSERT_TRUE(whole.TryGet().has_value());
    EXPECT_EQ(**whole.TryGet(), Digest::Of(bytes));
  }
  {
    FileHasher part(fd, 1000);  // only what was declared
    EXPECT_EQ(*part.Wait(), Digest::Of(bytes.substr(0, 1000)));
  }
  {
    FileHasher empty(fd, 0);
    EXPECT_EQ(*empty.Wait(), Digest::Of(""));
  }
  {
    FileHasher longer(fd, bytes.size() + 1);  // the file shrank under us
    absl::StatusOr<Digest> d = longer.Wait();
    EXPECT_EQ(d.status().code(), absl::StatusCode::kDataLoss) << d.status();
  }
  close(fd);
}

TEST(FileHasherTest, StopsEarlyWhenDestroyedWhileHashing) {
  TempDir dir;
  const std::string path = dir / "big.bin";
  std::ofstream(path, std::ios::binary) << Bytes(8 << 20);
  int fd = open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 20; ++i) {
    FileHasher h(fd, 8 << 20);  // destroyed at once: must not hang or crash
  }
  close(fd);
}

}  // namespace
}  // namespace custody
