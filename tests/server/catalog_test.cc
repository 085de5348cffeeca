#include "server/records/catalog.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

constexpr const char* kHeader =
    "no,category,matter,record_scope,place,recorder,start_trigger,process,end_trigger,"
    "record_class\n";

TEST(CatalogTest, BuiltInHoldsTheRegulationsThirteenMatters) {
  Catalog c = Catalog::BuiltIn();
  ASSERT_EQ(c.matters().size(), 13u);
  ASSERT_NE(c.Find(1), nullptr);
  EXPECT_EQ(c.Find(1)->matter(), "行政许可听证会");
  EXPECT_EQ(c.Find(3)->record_class(), "场景类");
  EXPECT_EQ(c.Find(1)->matter_en(), "Licensing hearing") << "English names beside the Chinese";
  for (const auto& [n, m] : c.matters()) EXPECT_FALSE(m.category_en().empty()) << n;
  EXPECT_EQ(c.Find(14), nullptr);
  EXPECT_EQ(c.source(), "built-in");
}

TEST(CatalogTest, AnAgencysOwnFileParses) {
  auto c = Catalog::Parse(std::string(kHeader) + "21,a,b,c,d,e,f,g,h,i\r\n\n22,a,b,c,d,e,f,g,h,i\n",
                          "own.csv");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->matters().size(), 2u);
  EXPECT_EQ(c->Find(22)->record_class(), "i");
}

TEST(CatalogTest, EnglishNamesAreOptionalColumns) {
  std::string header = std::string(kHeader);
  header.insert(header.size() - 1, ",category_en,matter_en");
  auto c = Catalog::Parse(header + "21,a,b,c,d,e,f,g,h,i,Cat,Mat\n", "own.csv");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->Find(21)->matter_en(), "Mat");
  // With the English header, every row has the two columns.
  EXPECT_FALSE(Catalog::Parse(header + "21,a,b,c,d,e,f,g,h,i\n", "own.csv").ok());
}

TEST(CatalogTest, BadFilesAreRefusedWithTheLine) {
  EXPECT_NE(Catalog::Parse("no,matter\n1,x\n", "f").status().message().find("header"),
            std::string::npos);
  EXPECT_NE(Catalog::Parse(std::string(kHeader) + "1,a,b\n", "f").status().message().find("line 2"),
            std::string::npos);
  EXPECT_NE(Catalog::Parse(std::string(kHeader) + "x,a,b,c,d,e,f,g,h,i\n", "f")
                .status()
                .message()
                .find("not a matter number"),
            std::string::npos);
  EXPECT_NE(Catalog::Parse(std::string(kHeader) + "1,a,b,c,d,e,f,g,h,i\n1,a,b,c,d,e,f,g,h,i\n", "f")
                .status()
                .message()
                .find("twice"),
            std::string::npos);
  EXPECT_FALSE(Catalog::Parse(kHeader, "f").ok()) << "no matters";
}

}  // namespace
}  // namespace custody
