#include "common/checkpoint.h"

#include <gtest/gtest.h>

#include "absl/strings/str_replace.h"

namespace custody {
namespace {

Checkpoint Sample() {
  Checkpoint c;
  c.origin = "custody-node-0123456789abcdef";
  c.size = 42;
  c.root = Digest::Of("root");
  c.time_unix_nanos = 1764316800000000000;
  return c;
}

TEST(CheckpointTest, BodyFollowsTlogCheckpoint) {
  Checkpoint c = Sample();
  std::string body = c.Body();
  EXPECT_EQ(body.substr(0, body.find('\n')), c.origin);
  EXPECT_NE(body.find("\n42\n"), std::string::npos);
  EXPECT_NE(body.find("\ntime 1764316800000000000\n"), std::string::npos);
  auto back = Checkpoint::ParseBody(body);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->size, 42u);
  EXPECT_EQ(back->root, c.root);
  EXPECT_EQ(back->time_unix_nanos, c.time_unix_nanos);
}

TEST(CheckpointTest, SignedNoteVerifiesOnlyWithItsKey) {
  auto key = Ed25519Key::Generate();
  auto other = Ed25519Key::Generate();
  ASSERT_TRUE(key.ok() && other.ok());
  auto note = SignCheckpoint(Sample(), *key);
  ASSERT_TRUE(note.ok());
  EXPECT_NE(note->find("\n\n\xE2\x80\x94 custody-node-0123456789abcdef "), std::string::npos);
  auto ok = VerifyCheckpoint(*note, key->public_raw());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size, 42u);
  EXPECT_FALSE(VerifyCheckpoint(*note, other->public_raw()).ok());
  std::string forged = absl::StrReplaceAll(*note, {{"\n42\n", "\n43\n"}});
  EXPECT_EQ(VerifyCheckpoint(forged, key->public_raw()).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(CheckpointTest, EveryFlippedByteIsRefused) {
  auto key = Ed25519Key::Generate();
  auto note = SignCheckpoint(Sample(), *key);
  ASSERT_TRUE(note.ok());
  for (size_t i = 0; i < note->size(); ++i) {
    for (char mask : {'\x01', '\x80'}) {
      std::string bad = *note;
      bad[i] ^= mask;
      EXPECT_FALSE(VerifyCheckpoint(bad, key->public_raw()).ok()) << "byte " << i;
    }
  }
}

TEST(CheckpointTest, KeysRoundTripThroughPem) {
  auto key = Ed25519Key::Generate();
  auto raw = Ed25519PublicFromPem(key->PublicPem());
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, key->public_raw());
  EXPECT_FALSE(Ed25519PublicFromPem("not a key").ok());
}

}  // namespace
}  // namespace custody
