#include "server/security/principals.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace custody {
namespace {

v1::Principal WithRole(const std::string& role) {
  v1::Principal p;
  p.set_name("user:" + role);
  p.add_roles(role);
  return p;
}

TEST(PrincipalsTest, EachRoleMayDoExactlyWhatTheTableSays) {
  std::vector<std::string> roles(std::begin(kRoles), std::end(kRoles));
  roles.push_back("node");
  for (Action a : AllActions()) {
    const std::vector<std::string>& may = RolesFor(a);
    for (const std::string& r : roles) {
      absl::Status s = Authorize(WithRole(r), a);
      bool allowed = std::find(may.begin(), may.end(), r) != may.end();
      EXPECT_EQ(s.ok(), allowed) << r << " / " << ActionName(a);
      if (!allowed) {
        EXPECT_TRUE(absl::IsPermissionDenied(s));
        EXPECT_NE(s.message().find(absl::StrCat("may not ", ActionName(a))), std::string::npos)
            << s;
      }
    }
  }
  EXPECT_FALSE(Authorize(v1::Principal(), Action::kStatus).ok()) << "no role: nothing";
}

TEST(PrincipalsTest, SecurityDocCarriesTheRoleTableOfTheCode) {
  std::ifstream in(std::string(CUSTODY_SOURCE_DIR) + "/doc/security.md");
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  const std::string begin = "<!-- role-table: generated from server/security/principals.cc -->\n";
  const std::string end = "<!-- /role-table -->";
  size_t from = text.find(begin), to = text.find(end);
  ASSERT_NE(from, std::string::npos) << "doc/security.md lost its role-table markers";
  ASSERT_NE(to, std::string::npos);
  from += begin.size();
  EXPECT_EQ(text.substr(from, to - from), RoleTableMarkdown())
      << "doc/security.md's role table differs from the code's; paste this between the "
         "markers:\n"
      << RoleTableMarkdown();
}

TEST(PrincipalsTest, AgenciesAndClearances) {
  v1::Principal lena = WithRole("leader");
  lena.set_agency("A");
  EXPECT_TRUE(SeesAgency(lena, "A"));
  EXPECT_FALSE(SeesAgency(lena, "B"));
  EXPECT_FALSE(SeesAgency(WithRole("officer"), "A")) << "no agency: none";
  EXPECT_FALSE(SeesAgency(WithRole("officer"), "")) << "no agency: none";
  for (const char* all : {"archive-head", "auditor", "node"}) {
    EXPECT_TRUE(SeesAgency(WithRole(all), "B")) << all;
  }
  EXPECT_TRUE(Cleared(lena, "internal"));
  EXPECT_TRUE(Cleared(lena, ""));
  EXPECT_FALSE(Cleared(lena, "privacy"));
  EXPECT_FALSE(Cleared(lena, "no-such-level")) << "unknown levels count as the highest";
  lena.set_clearance("state-secret");
  EXPECT_TRUE(Cleared(lena, "no-such-level"));
}

}  // namespace
}  // namespace custody
