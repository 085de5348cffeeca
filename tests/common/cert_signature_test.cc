#include "common/cert_signature.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "common/certificates.h"
#include "common/files.h"
#include "tests/test_util.h"

namespace custody {
namespace {

class CertSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CreateCa(dir_ / "ca", "test").ok());
    CertificateRequest r;
    r.name = "lena";
    r.roles = {"leader"};
    r.agency = "A";
    r.clearance = "privacy";
    ASSERT_TRUE(IssueCertificate(dir_ / "ca", r, dir_ / "lena").ok());
    ca_ = *ReadFileToString(dir_ / "ca/ca.pem");
    cert_ = *ReadFileToString(dir_ / "lena/cert.pem");
    key_ = *ReadFileToString(dir_ / "lena/key.pem");
  }

  testing::TempDir dir_;
  std::string ca_, cert_, key_;
};

TEST_F(CertSignatureTest, ASignatureVerifiesWithItsCertificateOnly) {
  absl::StatusOr<std::string> sig = SignWithKey(key_, DecisionMessage("approve 17"));
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_TRUE(VerifyWithCertificate(cert_, DecisionMessage("approve 17"), *sig).ok());
  EXPECT_EQ(VerifyWithCertificate(cert_, DecisionMessage("approve 18"), *sig).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(VerifyWithCertificate(cert_, "approve 17", *sig).code(),
            absl::StatusCode::kPermissionDenied)
      << "the domain tag is part of what is signed";
  std::string bad = *sig;
  bad[bad.size() / 2] ^= 1;
  EXPECT_FALSE(VerifyWithCertificate(cert_, DecisionMessage("approve 17"), bad).ok());
}

TEST_F(CertSignatureTest, TheCertificateMustChainToTheClusterCaAndBeValidThen) {
  absl::StatusOr<CertifiedIdentity> id = CheckCertificate(cert_, ca_, absl::Now());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->name, "user:lena");
  EXPECT_EQ(id->roles, std::vector<std::string>{"leader"});
  EXPECT_EQ(id->agency, "A");
  EXPECT_EQ(id->clearance, "privacy");
  EXPECT_FALSE(id->serial.empty());
  EXPECT_EQ(CheckCertificate(cert_, ca_, absl::Now() + absl::Hours(24 * 900)).status().code(),
            absl::StatusCode::kPermissionDenied)
      << "expired at the time of signing";
  ASSERT_TRUE(CreateCa(dir_ / "other", "other").ok());
  std::string other = *ReadFileToString(dir_ / "other/ca.pem");
  absl::StatusOr<CertifiedIdentity> foreign = CheckCertificate(cert_, other, absl::Now());
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(foreign.status().message().find("cluster CA"), std::string::npos);
  EXPECT_FALSE(CheckCertificate("not a certificate", ca_, absl::Now()).ok());
}

}  // namespace
}  // namespace custody
