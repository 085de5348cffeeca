// Dock manifests' ledger fields (common/dock_manifest.h): what the station
// signs is what the node reads back, whatever order the files came in, and
// every malformed manifest is refused with the problem named.
#include "common/dock_manifest.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

v1::DockRequest Sample() {
  v1::DockRequest d;
  d.set_dock_id("dock-0123456789abcdef");
  d.set_device("CAM-0042");
  d.set_station("dock-7");
  d.set_docked_unix_nanos(1764150000000000000);
  for (const char* name : {"b.mp4", "a.mp4", "文件.mp4"}) {
    v1::DockedFile* f = d.add_files();
    f->set_name(name);
    f->set_size(1000 + d.files_size());
    f->set_mtime_unix_nanos(1764140000000000000 + d.files_size());
    f->set_start_unix_nanos(d.files_size() == 2 ? 0 : 1764130000000000000);
    f->set_sequence(d.files_size() == 3 ? 43 : 0);
  }
  return d;
}

TEST(DockManifestTest, FieldsReadBackAsTheManifestInNameOrder) {
  v1::DockRequest d = Sample();
  std::map<std::string, std::string> fields = DockFields(d);
  absl::StatusOr<v1::DockRequest> back = DockFromFields("dock:" + d.dock_id(), fields);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->files(0).name(), "a.mp4");
  EXPECT_EQ(back->files(1).name(), "b.mp4");
  EXPECT_EQ(back->files(2).sequence(), 43u);
  EXPECT_EQ(back->docked_unix_nanos(), d.docked_unix_nanos());
  EXPECT_EQ(DockFields(*back), fields);  // the order the files came in does not matter
  v1::DockRequest reordered = d;
  reordered.mutable_files()->SwapElements(0, 2);
  EXPECT_EQ(DockFields(reordered), fields);
  // Another size is another manifest.
  reordered.mutable_files(0)->set_size(1);
  EXPECT_NE(DockFields(reordered), fields);
}

TEST(DockManifestTest, MalformedManifestsAreRefusedWithTheProblemNamed) {
  auto refused = [](const std::function<void(v1::DockRequest*)>& change) {
    v1::DockRequest d = Sample();
    change(&d);
    absl::Status s = CheckDock(d);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_NE(refused([](v1::DockRequest* d) { d->set_dock_id("dock-1"); }).find("dock id"),
            std::string::npos);
  EXPECT_NE(refused([](v1::DockRequest* d) { d->set_device("../x"); }).find("device"),
            std::string::npos);
  EXPECT_NE(refused([](v1::DockRequest* d) { d->clear_files(); }).find("1 to"), std::string::npos);
  EXPECT_NE(refused([](v1::DockRequest* d) { d->mutable_files(1)->set_name("a/b"); }).find("'/'"),
            std::string::npos);
  EXPECT_NE(
      refused([](v1::DockRequest* d) { d->mutable_files(1)->set_name("b.mp4"); }).find("twice"),
      std::string::npos);
  EXPECT_NE(
      refused([](v1::DockRequest* d) { d->mutable_files(0)->set_name("\xff"); }).find("UTF-8"),
      std::string::npos);
  // Fields that do not parse.
  std::map<std::string, std::string> fields = DockFields(Sample());
  fields["files"] = "[{\"name\": \"a\"}]";
  EXPECT_FALSE(DockFromFields("dock:dock-0123456789abcdef", fields).ok());
  fields["files"] = "not json";
  EXPECT_FALSE(DockFromFields("dock:dock-0123456789abcdef", fields).ok());
  EXPECT_FALSE(DockFromFields("record:x", DockFields(Sample())).ok());
  EXPECT_TRUE(ValidDockId(NewDockId()));
  EXPECT_NE(NewDockId(), NewDockId());
}

}  // namespace
}  // namespace custody
