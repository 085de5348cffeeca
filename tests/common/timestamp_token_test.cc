#include "common/timestamp_token.h"

#include <gtest/gtest.h>

#include "tests/local_tsa.h"

namespace custody {
namespace {

using testing::LocalTsa;

std::string TokenFor(LocalTsa* tsa, const Digest& imprint) {
  auto query = MakeTimestampQuery(imprint);
  EXPECT_TRUE(query.ok()) << query.status();
  auto token = TokenFromReply(tsa->Reply(*query), *query);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.ok() ? *token : "";
}

TEST(TimestampTokenTest, ATokenVerifiesAgainstItsTsaAndImprint) {
  LocalTsa tsa;
  Digest imprint = Digest::Of("checkpoint body\n");
  absl::Time before = absl::Now() - absl::Seconds(2);
  std::string token = TokenFor(&tsa, imprint);
  auto facts = VerifyTimestampToken(token, imprint, tsa.cert_pem());
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_GE(facts->time, before);
  EXPECT_LE(facts->time, absl::Now() + absl::Seconds(2));
  EXPECT_NE(facts->tsa.find("custody test TSA"), std::string::npos) << facts->tsa;
  auto read = ReadTimestampToken(token);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->time, facts->time);
}

TEST(TimestampTokenTest, AnotherCheckpointAnotherTsaOrAFlippedByteFails) {
  LocalTsa tsa, other("another TSA");
  Digest imprint = Digest::Of("checkpoint body\n");
  std::string token = TokenFor(&tsa, imprint);
  EXPECT_TRUE(absl::IsDataLoss(
      VerifyTimestampToken(token, Digest::Of("another checkpoint\n"), tsa.cert_pem()).status()));
  EXPECT_TRUE(absl::IsDataLoss(VerifyTimestampToken(token, imprint, other.cert_pem()).status()));
  std::string by_other = TokenFor(&other, imprint);
  EXPECT_TRUE(absl::IsDataLoss(VerifyTimestampToken(by_other, imprint, tsa.cert_pem()).status()));
  // Every byte flipped in turn: none verifies.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string bad = token;
    bad[i] ^= 0x01;
    EXPECT_FALSE(VerifyTimestampToken(bad, imprint, tsa.cert_pem()).ok()) << "byte " << i;
  }
}

TEST(TimestampTokenTest, AReplyToAnotherQueryIsRefused) {
  LocalTsa tsa;
  Digest imprint = Digest::Of("checkpoint body\n");
  auto first = MakeTimestampQuery(imprint), second = MakeTimestampQuery(imprint);
  ASSERT_TRUE(first.ok() && second.ok());
  // Same imprint, another nonce: a replayed reply.
  auto replayed = TokenFromReply(tsa.Reply(*first), *second);
  EXPECT_TRUE(absl::IsDataLoss(replayed.status())) << replayed.status();
  EXPECT_FALSE(TokenFromReply("not DER", *first).ok());
}

}  // namespace
}  // namespace custody
