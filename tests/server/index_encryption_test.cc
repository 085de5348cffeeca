#include "server/storage/index_encryption.h"

#include <gtest/gtest.h>

#include "rocksdb/env.h"
#include "tests/test_util.h"

namespace custody {
namespace {

DataKey KeyOf(uint8_t fill) {
  DataKey k;
  k.bytes.fill(fill);
  k.id = std::string(8, static_cast<char>(fill));
  return k;
}

// Writes `data` in uneven appends through `env`, as RocksDB's logs do.
void WriteInPieces(rocksdb::Env* env, const std::string& path, const std::string& data) {
  std::unique_ptr<rocksdb::WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile(path, &f, rocksdb::EnvOptions()).ok());
  for (size_t at = 0, step = 1; at < data.size(); at += step, step = step * 3 % 97 + 1) {
    ASSERT_TRUE(f->Append(rocksdb::Slice(data.data() + at, std::min(step, data.size() - at))).ok());
  }
  ASSERT_TRUE(f->Close().ok());
}

std::string ReadAt(rocksdb::Env* env, const std::string& path, uint64_t offset, size_t n) {
  std::unique_ptr<rocksdb::RandomAccessFile> f;
  EXPECT_TRUE(env->NewRandomAccessFile(path, &f, rocksdb::EnvOptions()).ok());
  std::string buf(n, '\0');
  rocksdb::Slice got;
  EXPECT_TRUE(f->Read(offset, n, &got, buf.data()).ok());
  return got.ToString();
}

TEST(IndexEncryptionTest, BytesReadBackAtAnyOffsetAndAreNotOnDisk) {
  testing::TempDir dir;
  std::unique_ptr<rocksdb::Env> env = NewIndexEnv(rocksdb::Env::Default(), KeyOf(1), {});
  std::string data;
  for (int i = 0; data.size() < 10000; ++i)
    data += "suspect statement line " + std::to_string(i) + "\n";
  const std::string path = dir / "000001.log";
  WriteInPieces(env.get(), path, data);
  EXPECT_EQ(ReadAt(env.get(), path, 0, data.size()), data);
  EXPECT_EQ(ReadAt(env.get(), path, 4093, 333), data.substr(4093, 333));  // unaligned
  std::string raw;
  ASSERT_TRUE(rocksdb::ReadFileToString(rocksdb::Env::Default(), path, &raw).ok());
  EXPECT_EQ(raw.size(), data.size() + 4096) << "a 4 KiB prefix";
  EXPECT_EQ(raw.find("suspect"), std::string::npos);
  // Another file of the same bytes gets another nonce: other ciphertext.
  WriteInPieces(env.get(), dir / "000002.log", data);
  std::string raw2;
  ASSERT_TRUE(rocksdb::ReadFileToString(rocksdb::Env::Default(), dir / "000002.log", &raw2).ok());
  EXPECT_NE(raw.substr(4096), raw2.substr(4096));
}

TEST(IndexEncryptionTest, OldKeysStillOpenTheirFilesAndUnknownOnesAreNamed) {
  testing::TempDir dir;
  std::unique_ptr<rocksdb::Env> first = NewIndexEnv(rocksdb::Env::Default(), KeyOf(1), {});
  WriteInPieces(first.get(), dir / "a", "written under the first key");
  std::unique_ptr<rocksdb::Env> rotated =
      NewIndexEnv(rocksdb::Env::Default(), KeyOf(2), {KeyOf(1)});
  EXPECT_EQ(ReadAt(rotated.get(), dir / "a", 0, 27), "written under the first key");
  std::unique_ptr<rocksdb::Env> other = NewIndexEnv(rocksdb::Env::Default(), KeyOf(3), {});
  std::unique_ptr<rocksdb::RandomAccessFile> f;
  rocksdb::Status s = other->NewRandomAccessFile(dir / "a", &f, rocksdb::EnvOptions());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("--old-data-key"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace custody
