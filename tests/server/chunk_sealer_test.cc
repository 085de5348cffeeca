#include "server/storage/chunk_sealer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "server/storage/chunk_io.h"
#include "tests/test_util.h"

namespace custody {
namespace {

using testing::RandomBytes;
using testing::TempDir;

DataKey NewKey(const TempDir& dir, const std::string& name) {
  EXPECT_TRUE(DataKey::Generate(dir / name).ok());
  absl::StatusOr<DataKey> k = DataKey::Load(dir / name);
  EXPECT_TRUE(k.ok()) << k.status();
  return *k;
}

TEST(ChunkSealerTest, SealsAndOpensAndHidesThePlaintext) {
  TempDir dir;
  ChunkSealer sealer(NewKey(dir, "k"));
  std::string plain = "interview of 2026-11-26, room 3; " + RandomBytes(5000, 1);
  Digest id = Digest::Of(plain);
  std::string sealed = sealer.Seal(id, plain).Joined();
  EXPECT_EQ(sealed.size(), plain.size() + ChunkSealer::kOverhead);
  EXPECT_EQ(sealed.find("interview of"), std::string::npos);
  EXPECT_EQ(*ChunkSealer::IdOf(sealed), id);
  absl::StatusOr<std::string> back = sealer.Open(id, sealed);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, plain);
  EXPECT_NE(sealer.Seal(id, plain).Joined(), sealed) << "a fresh nonce every time";
}

TEST(ChunkSealerTest, BytesSharedWithAnotherHolderAreSealedFromACopy) {
  TempDir dir;
  ChunkSealer sealer(NewKey(dir, "k"));
  auto shared = std::make_shared<std::string>(RandomBytes(5000, 4));
  const std::string before = *shared;
  WriteRequest r = ChunkWrite(Digest::Of(before), shared, &sealer);
  EXPECT_EQ(r.type, EntryType::kSealedChunk);
  EXPECT_FALSE(r.shared_payload);
  EXPECT_EQ(*shared, before);  // the other holder's bytes are not encrypted under it
  std::string sealed = r.head + r.payload + r.tail;
  absl::StatusOr<std::string> back = sealer.Open(Digest::Of(before), sealed);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, before);

  // Held by no one else: sealed where the bytes are.
  auto only = std::make_shared<std::string>(before);
  const char* where = only->data();
  WriteRequest own = ChunkWrite(Digest::Of(before), std::move(only), &sealer);
  EXPECT_EQ(own.payload.data(), where);
  back = sealer.Open(Digest::Of(before), own.head + own.payload + own.tail);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, before);
}

TEST(ChunkSealerTest, SealsAndOpensInTheChunksOwnBuffer) {
  TempDir dir;
  ChunkSealer sealer(NewKey(dir, "k"));
  std::string plain = RandomBytes(1 << 20, 4);
  const Digest id = Digest::Of(plain);
  std::string buffer = plain;
  const char* where = buffer.data();
  SealedParts parts = sealer.Seal(id, std::move(buffer));
  EXPECT_EQ(parts.head.size() + parts.tail.size(), ChunkSealer::kOverhead);
  EXPECT_EQ(parts.body.data(), where) << "encrypted where it was, not copied";
  EXPECT_NE(parts.body, plain);
  std::string sealed = parts.Joined();
  EXPECT_EQ(sealed.size(), parts.size());
  absl::StatusOr<std::string> back = sealer.Open(id, std::move(sealed));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, plain);
}

TEST(ChunkSealerTest, AnyChangedByteFailsAuthentication) {
  TempDir dir;
  ChunkSealer sealer(NewKey(dir, "k"));
  std::string plain = RandomBytes(1000, 2);
  Digest id = Digest::Of(plain);
  std::string sealed = sealer.Seal(id, plain).Joined();
  for (size_t at : {size_t{50}, size_t{60}, sealed.size() / 2, sealed.size() - 1}) {
    std::string bad = sealed;
    bad[at] ^= 1;
    EXPECT_EQ(sealer.Open(id, bad).status().code(), absl::StatusCode::kDataLoss) << at;
  }
  EXPECT_EQ(sealer.Open(Digest::Of("other"), sealed).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ChunkSealerTest, RotationKeepsOldChunksReadableAndUnknownKeysAreNamed) {
  TempDir dir;
  DataKey old_key = NewKey(dir, "old"), new_key = NewKey(dir, "new");
  std::string plain = RandomBytes(300, 3);
  Digest id = Digest::Of(plain);
  std::string sealed_old = ChunkSealer(old_key).Seal(id, plain).Joined();
  EXPECT_EQ(*ChunkSealer(new_key, {old_key}).Open(id, sealed_old), plain);
  EXPECT_EQ(ChunkSealer(new_key).Open(id, sealed_old).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(DataKeyTest, KeyFilesAreNeverOverwrittenOrLeftReadable) {
  TempDir dir;
  ASSERT_TRUE(DataKey::Generate(dir / "k").ok());
  EXPECT_EQ(DataKey::Generate(dir / "k").code(), absl::StatusCode::kAlreadyExists);
  chmod((dir / "k").c_str(), 0644);
  EXPECT_EQ(DataKey::Load(dir / "k").status().code(), absl::StatusCode::kFailedPrecondition);
  std::ofstream(dir / "bad") << "not hex\n";
  chmod((dir / "bad").c_str(), 0600);
  EXPECT_EQ(DataKey::Load(dir / "bad").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custody
