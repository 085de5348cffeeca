#include "replication/cluster/chunk_read_policy.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

// The node asking to read is never the one asked for the object's manifest,
// and a chunk outside the manifest is refused.
TEST(ChunkReadPolicyTest, TheReaderNeverVouchesForItsOwnRead) {
  const Digest object = Digest::Of("object"), part = Digest::Of("part"), other = Digest::Of("x");
  std::vector<std::string> asked_without;
  ChunkReadPolicy policy(
      nullptr,
      [](const std::string&, const std::string&, const std::string&) -> absl::StatusOr<bool> {
        return false;
      },
      [&](const Digest& id, const std::string& not_from) -> absl::StatusOr<v1::ObjectManifest> {
        asked_without.push_back(not_from);
        v1::ObjectManifest m;
        m.set_sha256(std::string(id.Raw()));
        m.add_chunks(std::string(part.Raw()));
        return m;
      });
  internal::v1::GetBlobRequest req;
  req.set_purpose(internal::v1::READ_OFFSITE);
  req.set_object_id(object.ToString());
  EXPECT_TRUE(policy.Check("n1", part, req).ok());
  absl::Status s = policy.Check("n1", other, req);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_EQ(asked_without, std::vector<std::string>{"n1"}) << "looked up once, then cached";
  // A repair read on a cluster of one, and a read without a purpose's object.
  req.set_purpose(internal::v1::READ_REPAIR);
  EXPECT_TRUE(absl::IsPermissionDenied(policy.Check("n1", part, req)));
  req.set_purpose(internal::v1::READ_OFFSITE);
  req.set_object_id("not an id");
  EXPECT_TRUE(absl::IsPermissionDenied(policy.Check("n1", part, req)));
}

}  // namespace
}  // namespace custody
