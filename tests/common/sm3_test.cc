// SM3 against the known answers of GB/T 32905-2016 (its appendix A).
#include "common/sm3.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/test_util.h"

namespace custody {
namespace {

TEST(Sm3Test, MatchesTheStandardsExamples) {
  EXPECT_EQ(Sm3::ToString(Sm3::Of("abc")),
            "sm3:66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  std::string block;
  for (int i = 0; i < 16; ++i) block += "abcd";  // the 64-byte example
  EXPECT_EQ(Sm3::ToString(Sm3::Of(block)),
            "sm3:debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

TEST(Sm3Test, PiecesAndFilesGiveTheSameDigest) {
  const std::string bytes = testing::RandomBytes((3 << 20) + 17, 32905);
  Sm3 h;
  for (size_t at = 0; at < bytes.size(); at += 777777) {
    h.Update(absl::string_view(bytes).substr(at, 777777));
  }
  const Sm3::Value pieces = h.Finish();
  EXPECT_EQ(pieces, Sm3::Of(bytes));
  testing::TempDir dir;
  std::ofstream(dir / "f", std::ios::binary) << bytes;
  absl::StatusOr<Sm3::Value> file = Sm3::OfFile(dir / "f");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(*file, pieces);
  EXPECT_NE(Sm3::Of(bytes.substr(1)), pieces);
  EXPECT_EQ(Sm3::OfFile(dir / "missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace custody
