#include "server/objects/manifest_guard.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

v1::ObjectManifest Original() {
  v1::ObjectManifest m;
  m.set_sha256(std::string(32, 'a'));
  m.set_size(10);
  m.set_file_name("cam1.mp4");
  (*m.mutable_metadata())["agency"] = "A";
  (*m.mutable_metadata())["classification"] = "privacy";
  m.add_chunks(std::string(32, 'b'));
  m.set_uploaded_by("user:olga");
  m.set_coordinator("n1");
  return m;
}

TEST(ManifestGuardTest, DifferencesNameEachChangedField) {
  v1::ObjectManifest a = Original();
  EXPECT_EQ(ManifestGuard::Differences(a, a), "");
  v1::ObjectManifest b = a;
  (*b.mutable_metadata())["agency"] = "B";
  b.mutable_metadata()->erase("classification");
  b.set_uploaded_by("user:mallory");
  EXPECT_EQ(ManifestGuard::Differences(a, b),
            "metadata.agency,metadata.classification,uploaded_by");
  v1::ObjectManifest c = a;
  c.set_chunks(0, std::string(32, 'c'));
  c.set_stored_at_unix_nanos(5);
  EXPECT_EQ(ManifestGuard::Differences(a, c), "stored_at,chunks");
}

TEST(ManifestGuardTest, AHeldManifestIsKeptAndADifferentOneRefusedAndRecordedOnce) {
  std::vector<v1::AuditEvent> recorded;
  ManifestGuard guard(nullptr, [&](v1::AuditEvent e) {
    recorded.push_back(std::move(e));
    return absl::OkStatus();
  });
  const Digest id = Digest::Of("x");
  v1::ObjectManifest held = Original(), planted = Original();
  EXPECT_TRUE(guard.CheckHeld(id, held, held, "n2").ok());
  (*planted.mutable_metadata())["classification"] = "internal";
  for (int i = 0; i < 3; ++i) {
    absl::Status s = guard.CheckHeld(id, planted, held, "n2");
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
    EXPECT_NE(s.message().find("metadata.classification"), std::string::npos) << s;
  }
  ASSERT_EQ(recorded.size(), 1u);
  // The same file uploaded at the same time through another node, by
  // someone else, under another name: the same object, not a conflict.
  v1::ObjectManifest twin = held;
  twin.set_stored_at_unix_nanos(held.stored_at_unix_nanos() + 1);
  twin.set_coordinator("n3");
  twin.set_uploaded_by("user:pia");
  twin.set_file_name("copy.mp4");
  EXPECT_TRUE(guard.CheckHeld(id, twin, held, "n3").ok());
  EXPECT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].action(), "manifest.refused");
  EXPECT_EQ(recorded[0].subject(), id.ToString());
  // A cluster of one has no other homes to ask.
  EXPECT_TRUE(guard.CheckNew(id, planted, "n2").ok());
}

}  // namespace
}  // namespace custody
