// OutputFile: what a get writes is exactly what came, whatever the sizes of
// the pieces and of the file, around the page cache or through it.
#include "client/output_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/test_util.h"

namespace custody {
namespace {

using testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAndCheck(const std::string& path, size_t size, bool expect_direct) {
  const std::string bytes = testing::RandomBytes(size, size + 1);
  absl::StatusOr<std::unique_ptr<OutputFile>> out = OutputFile::Create(path);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(!expect_direct || (*out)->direct()) << path;
  for (size_t at = 0; at < size;) {  // uneven pieces, as messages come
    size_t n = std::min<size_t>(size - at, (1 << 20) + 7);
    ASSERT_TRUE((*out)->Append(absl::string_view(bytes).substr(at, n)).ok());
    at += n;
  }
  ASSERT_TRUE((*out)->Finish().ok());
  out->reset();
  EXPECT_EQ(ReadAll(path), bytes) << path << " of " << size << " bytes";
}

// Whether files in `dir` open with O_DIRECT (ext4 and xfs do; tmpfs does not).
bool TakesODirect(const std::string& dir) {
  const std::string probe = dir + "/probe";
  int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT, 0644);
  if (fd >= 0) close(fd);
  unlink(probe.c_str());
  return fd >= 0;
}

TEST(OutputFileTest, WritesExactlyTheBytesAppendedAtEverySize) {
  TempDir dir;
  const bool direct = TakesODirect(dir.path());
  int i = 0;
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{(8 << 20) - 1},
        size_t{8 << 20}, size_t{(8 << 20) + 4097}, size_t{(20 << 20) + 3}}) {
    WriteAndCheck(dir / ("out" + std::to_string(i++)), size, /*expect_direct=*/direct);
  }
}

TEST(OutputFileTest, AFileSystemWithoutODirectGetsTheSameBytesThroughTheCache) {
  if (access("/dev/shm", W_OK) != 0) GTEST_SKIP() << "no /dev/shm";
  const std::string path = "/dev/shm/custody-output-test-" + std::to_string(getpid());
  WriteAndCheck(path, (9 << 20) + 5, /*expect_direct=*/false);
  unlink(path.c_str());
}

TEST(OutputFileTest, NeverOverwrites) {
  TempDir dir;
  std::ofstream(dir / "there") << "kept";
  absl::StatusOr<std::unique_ptr<OutputFile>> out = OutputFile::Create(dir / "there");
  EXPECT_EQ(out.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadAll(dir / "there"), "kept");
}

}  // namespace
}  // namespace custody
