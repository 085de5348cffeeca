#include "common/digest.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

constexpr char kAbc[] = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(DigestTest, KnownVector) { EXPECT_EQ(Digest::Of("abc").ToString(), kAbc); }

TEST(DigestTest, ParseRoundTripsAndAcceptsUpperCase) {
  absl::StatusOr<Digest> d = Digest::Parse(kAbc);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->ToString(), kAbc);
  std::string upper = kAbc;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(toupper(upper[i]));
  ASSERT_TRUE(Digest::Parse(upper).ok());
  EXPECT_EQ(*Digest::Parse(upper), *d);
}

TEST(DigestTest, ParseRejectsMalformedIds) {
  for (const char* bad :
       {"", "sha256:", "sha1:ba7816bf",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
        "sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}) {
    absl::StatusOr<Digest> d = Digest::Parse(bad);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(DigestTest, FromRawChecksLength) {
  EXPECT_FALSE(Digest::FromRaw("short").ok());
  Digest d = Digest::Of("x");
  EXPECT_EQ(*Digest::FromRaw(d.Raw()), d);
}

TEST(Sha256Test, SavedStateContinuesTheSameHash) {
  std::string data(100000, 'q');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  Sha256 a;
  a.Update(absl::string_view(data).substr(0, 33333));
  absl::StatusOr<Sha256> b = Sha256::RestoreState(a.SaveState());
  ASSERT_TRUE(b.ok());
  b->Update(absl::string_view(data).substr(33333));
  EXPECT_EQ(b->Finish(), Digest::Of(data));
}

TEST(Sha256Test, RestoreRejectsGarbage) {
  EXPECT_EQ(Sha256::RestoreState("nope").status().code(), absl::StatusCode::kDataLoss);
  std::string s = Sha256().SaveState();
  s[0] ^= 1;
  EXPECT_EQ(Sha256::RestoreState(s).status().code(), absl::StatusCode::kDataLoss);
}

TEST(DigestTest, DigestsFromRawKeepsOrderAndRefusesANonDigest) {
  const Digest a = Digest::Of("a"), b = Digest::Of("b");
  std::vector<std::string> raws{std::string(a.Raw()), std::string(b.Raw())};
  absl::StatusOr<std::vector<Digest>> ds = DigestsFromRaw(raws);
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(*ds, (std::vector<Digest>{a, b}));
  raws.push_back("short");
  EXPECT_FALSE(DigestsFromRaw(raws).ok());
}

}  // namespace
}  // namespace custody
