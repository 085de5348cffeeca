// A web console's relayed session (server/security/session_check.h): only a
// statement the person signed, for that console, within its time, counts.
#include "server/security/session_check.h"

#include <gtest/gtest.h>

#include "common/cert_signature.h"
#include "common/certificates.h"
#include "common/files.h"
#include "common/session_statement.h"
#include "tests/test_util.h"

namespace custody {
namespace {

using custody::testing::TempDir;

std::string ReadFile(const std::string& path) {
  absl::StatusOr<std::string> s = ReadFileToString(path);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : "";
}

class SessionCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CreateCa(dir_ / "ca", "test").ok());
    ASSERT_TRUE(CreateCa(dir_ / "other-ca", "other").ok());
    CertificateRequest alice;
    alice.name = "alice";
    alice.roles = {"officer"};
    alice.agency = "A";
    ASSERT_TRUE(IssueCertificate(dir_ / "ca", alice, dir_ / "alice").ok());
    alice.name = "bob";
    ASSERT_TRUE(IssueCertificate(dir_ / "ca", alice, dir_ / "bob").ok());
    alice.name = "alice";
    ASSERT_TRUE(IssueCertificate(dir_ / "other-ca", alice, dir_ / "alice-elsewhere").ok());
    ca_ = ReadFile(dir_ / "ca/ca.pem");
    st_.user = "user:alice";
    st_.relay = "console:front";
    st_.issued = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
    st_.expires = st_.issued + absl::Hours(8);
    st_.nonce = "00112233445566778899aabbccddeeff";
  }
  // The assertion a browser sends: `text` signed with `signer`'s key, with
  // `holder`'s certificate.
  std::string Assertion(const std::string& text, const std::string& signer,
                        const std::string& holder) {
    v1::SessionAssertion a;
    a.set_statement(text);
    absl::StatusOr<std::string> sig = SignWithKey(ReadFile(dir_ / (signer + "/key.pem")), text);
    EXPECT_TRUE(sig.ok()) << sig.status();
    a.set_signature(sig.ok() ? *sig : "");
    a.set_certificate_pem(ReadFile(dir_ / (holder + "/cert.pem")));
    return a.SerializeAsString();
  }
  absl::StatusCode Check(const std::string& assertion, absl::Time now,
                         const std::string& relay = "console:front") {
    return SessionPrincipal(relay, assertion, ca_, now).status().code();
  }

  TempDir dir_;
  std::string ca_;
  SessionStatement st_;
};

TEST_F(SessionCheckTest, TheSignedStatementMakesTheConsoleThePerson) {
  absl::StatusOr<v1::Principal> p =
      SessionPrincipal("console:front", Assertion(st_.ToText(), "alice", "alice"), ca_, st_.issued);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name(), "user:alice");
  EXPECT_EQ(p->agency(), "A");
  ASSERT_EQ(p->roles_size(), 1);
  EXPECT_EQ(p->roles(0), "officer");
  EXPECT_EQ(p->relay(), "console:front");
}

TEST_F(SessionCheckTest, AnythingElseIsRefused) {
  const std::string good = Assertion(st_.ToText(), "alice", "alice");
  const auto denied = absl::StatusCode::kPermissionDenied;
  EXPECT_EQ(Check(good, st_.issued, "console:other"), denied) << "another console";
  EXPECT_EQ(Check(good, st_.expires), denied) << "ended";
  EXPECT_EQ(Check(good, st_.issued - absl::Minutes(10)), denied) << "not yet issued";
  EXPECT_EQ(Check(Assertion(st_.ToText(), "bob", "alice"), st_.issued), denied)
      << "signed by someone else";
  EXPECT_EQ(Check(Assertion(st_.ToText(), "alice-elsewhere", "alice-elsewhere"), st_.issued),
            denied)
      << "a certificate of another CA";
  SessionStatement as_bob = st_;
  as_bob.user = "user:bob";
  EXPECT_EQ(Check(Assertion(as_bob.ToText(), "alice", "alice"), st_.issued), denied)
      << "names someone other than its signer";
  v1::SessionAssertion altered;
  ASSERT_TRUE(altered.ParseFromString(good));
  SessionStatement longer = st_;
  longer.expires += absl::Hours(1);
  altered.set_statement(longer.ToText());
  EXPECT_EQ(Check(altered.SerializeAsString(), st_.issued), denied) << "altered after signing";
  SessionStatement too_long = st_;
  too_long.expires = st_.issued + absl::Hours(13);
  EXPECT_EQ(Check(Assertion(too_long.ToText(), "alice", "alice"), st_.issued), denied);
  EXPECT_EQ(Check("not a message", st_.issued), denied);
}

TEST(SessionStatementTest, OnlyTheCanonicalTextParses) {
  SessionStatement s;
  s.user = "user:alice";
  s.relay = "console:front";
  s.issued = absl::FromUnixSeconds(1796000000);
  s.expires = s.issued + absl::Hours(1);
  s.nonce = "0123456789abcdef";
  absl::StatusOr<SessionStatement> back = SessionStatement::Parse(s.ToText());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToText(), s.ToText());
  std::string text = s.ToText();
  EXPECT_FALSE(SessionStatement::Parse(text.substr(0, text.size() - 1)).ok());
  EXPECT_FALSE(SessionStatement::Parse("custody decision v1\n" + text.substr(19)).ok());
  std::string spaced = text;
  spaced.replace(spaced.find("user: "), 6, "user:  ");
  EXPECT_FALSE(SessionStatement::Parse(spaced).ok());
  s.nonce = "short";
  EXPECT_FALSE(SessionStatement::Parse(s.ToText()).ok());
}

}  // namespace
}  // namespace custody
