#include "common/utf8.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

TEST(Utf8Test, AcceptsText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("officer=A123"));
  EXPECT_TRUE(IsValidUtf8("执法记录仪"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x93\xB9"));  // U+1F4F9
}

TEST(Utf8Test, RefusesMalformedBytes) {
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xE6\x89"));      // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("a\x80z"));        // stray continuation
}

TEST(Utf8Test, EscapesOnlyTheInvalidBytes) {
  EXPECT_EQ(EscapeInvalidUtf8("执法 clip.mp4"), "执法 clip.mp4");
  EXPECT_EQ(EscapeInvalidUtf8("latin\xE9.mp4"), "latin\\xE9.mp4");
  EXPECT_EQ(EscapeInvalidUtf8("\xC0\xAF/"), "\\xC0\\xAF/");
  EXPECT_TRUE(IsValidUtf8(EscapeInvalidUtf8("\xFF\xFE\xC3")));
}

}  // namespace
}  // namespace custody
