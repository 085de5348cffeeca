#include "server/storage/recovery.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>

#include "tests/server/node_fixture.h"
#include "tests/test_util.h"

// Every fsync and fdatasync of this test binary passes through here, so a
// test can ask which files were made durable, and how large they were then.
namespace {
std::mutex g_sync_mu;
std::map<ino_t, off_t> g_synced;  // inode -> its size at its last sync

void NoteSync(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  std::lock_guard<std::mutex> l(g_sync_mu);
  g_synced[st.st_ino] = st.st_size;
}
}  // namespace

extern "C" int fdatasync(int fd) {
  static auto real = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fdatasync"));
  NoteSync(fd);
  return real(fd);
}

extern "C" int fsync(int fd) {
  static auto real = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fsync"));
  NoteSync(fd);
  return real(fd);
}

namespace custody {
namespace {

void ForgetSyncs() {
  std::lock_guard<std::mutex> l(g_sync_mu);
  g_synced.clear();
}

// The size `path` had when it was last synced since ForgetSyncs; -1 if never.
off_t SyncedSize(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  std::lock_guard<std::mutex> l(g_sync_mu);
  auto it = g_synced.find(st.st_ino);
  return it == g_synced.end() ? -1 : it->second;
}

using testing::PutBytes;
using testing::RandomBytes;
using testing::ReadObject;
using testing::SmallNodeOptions;
using testing::TempDir;

namespace fs = std::filesystem;

class RecoveryTest : public ::testing::Test {
 protected:
  // Stores `n` objects and closes the node; returns their ids and bytes.
  std::vector<std::pair<std::string, std::string>> Fill(int n, size_t size = 10000) {
    auto node = Node::Open(SmallNodeOptions(dir_.path()));
    EXPECT_TRUE(node.ok()) << node.status();
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 0; i < n; ++i) {
      std::string data = RandomBytes(size + i, 1000 + i);
      auto r = PutBytes(node->get(), data, "f" + std::to_string(i));
      EXPECT_TRUE(r.ok()) << r.status();
      out.emplace_back(r->id(), data);
    }
    return out;
  }
  std::string ActiveVolumePath() {
    std::string last;
    for (const auto& e : fs::directory_iterator(dir_ / "volumes")) {
      last = std::max(last, e.path().string());
    }
    return last;
  }
  void Append(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::app | std::ios::binary);
    f << bytes;
  }
  void ExpectAllReadable(Node* node, const std::vector<std::pair<std::string, std::string>>& objs) {
    for (const auto& [id, data] : objs) {
      auto got = ReadObject(node, id);
      ASSERT_TRUE(got.ok()) << id << ": " << got.status();
      EXPECT_EQ(*got, data);
    }
  }
  TempDir dir_;
};

TEST_F(RecoveryTest, TornTailIsQuarantinedAndCutOff) {
  auto objs = Fill(5);
  std::string vol = ActiveVolumePath();
  uint64_t size = fs::file_size(vol);
  // A torn entry: a valid header promising more payload than was written.
  EntryHeader h;
  h.length = 4096;
  h.hash = Digest::Of(std::string(4096, 'z'));
  char hb[EntryHeader::kSize];
  h.EncodeTo(hb);
  Append(vol, std::string(hb, sizeof(hb)) + std::string(1000, 'z'));
  ForgetSyncs();
  auto node = Node::Open(SmallNodeOptions(dir_.path()));
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(fs::file_size(vol), size);
  int quarantined = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "quarantine")) {
    ++quarantined;
    EXPECT_EQ(fs::file_size(e.path()), EntryHeader::kSize + 1000);
    // Made durable before the volume was cut.
    EXPECT_EQ(SyncedSize(e.path()), EntryHeader::kSize + 1000);
  }
  EXPECT_EQ(quarantined, 1);
  ExpectAllReadable(node->get(), objs);
  auto more = PutBytes(node->get(), RandomBytes(7777, 5), "after");
  ASSERT_TRUE(more.ok()) << more.status();
}

TEST_F(RecoveryTest, GarbageTailIsQuarantined) {
  auto objs = Fill(3);
  Append(ActiveVolumePath(), RandomBytes(5000, 42));
  auto node = Node::Open(SmallNodeOptions(dir_.path()));
  ASSERT_TRUE(node.ok()) << node.status();
  ExpectAllReadable(node->get(), objs);
  EXPECT_FALSE(fs::is_empty(dir_ / "quarantine"));
}

TEST_F(RecoveryTest, CompleteEntryPastTheDurableEndIsIndexed) {
  Fill(1);
  // As if the node died after syncing a chunk but before its index commit.
  std::string chunk = RandomBytes(3000, 8);
  std::string vol = ActiveVolumePath();
  Append(vol, EncodeEntry(EntryType::kChunk, chunk));
  ForgetSyncs();
  auto node = Node::Open(SmallNodeOptions(dir_.path()));
  ASSERT_TRUE(node.ok()) << node.status();
  // The entry was only in the page cache: synced before it was indexed.
  EXPECT_EQ(SyncedSize(vol), static_cast<off_t>(fs::file_size(vol)));
  auto got = (*node)->chunks()->Get(Digest::Of(chunk));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, chunk);
  EXPECT_TRUE(fs::is_empty(dir_ / "quarantine"));
}

TEST_F(RecoveryTest, LostIndexIsRefusedThenRebuiltFromVolumes) {
  auto objs = Fill(40, 30000);  // several volumes of 1 MiB
  fs::remove_all(dir_ / "index");
  auto refused = Node::Open(SmallNodeOptions(dir_.path()));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  NodeOptions o = SmallNodeOptions(dir_.path());
  o.rebuild_index = true;
  auto node = Node::Open(o);
  ASSERT_TRUE(node.ok()) << node.status();
  ExpectAllReadable(node->get(), objs);
  auto list = (*node)->objects()->List("", 1000);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->objects_size(), 40);
  EXPECT_GE((*node)->volumes()->All().size(), 2u);
}

TEST_F(RecoveryTest, RebuildSyncsTheActiveVolumeBeforeIndexingIt) {
  Fill(1);
  // Written after the last sync, as a chunk the node died before syncing.
  std::string chunk = RandomBytes(3000, 9);
  std::string vol = ActiveVolumePath();
  Append(vol, EncodeEntry(EntryType::kChunk, chunk));
  fs::remove_all(dir_ / "index");
  ForgetSyncs();
  NodeOptions o = SmallNodeOptions(dir_.path());
  o.rebuild_index = true;
  auto node = Node::Open(o);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(SyncedSize(vol), static_cast<off_t>(fs::file_size(vol)));
  auto got = (*node)->chunks()->Get(Digest::Of(chunk));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, chunk);
}

TEST_F(RecoveryTest, RebuildKeepsTheOldIndexAside) {
  auto objs = Fill(2);
  NodeOptions o = SmallNodeOptions(dir_.path());
  o.rebuild_index = true;
  auto node = Node::Open(o);
  ASSERT_TRUE(node.ok()) << node.status();
  ExpectAllReadable(node->get(), objs);
  int aside = 0;
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    if (e.path().filename().string().rfind("index.replaced-", 0) == 0) ++aside;
  }
  EXPECT_EQ(aside, 1);
}

TEST_F(RecoveryTest, UploadProgressSurvivesARestart) {
  std::string data = RandomBytes(4096 * 3 + 1, 9);
  v1::UploadHeader h;
  h.set_upload_id("survivor");
  h.set_size(data.size());
  {
    auto node = Node::Open(SmallNodeOptions(dir_.path()));
    ASSERT_TRUE(node.ok());
    auto up = (*node)->uploads()->Begin(h);
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->Append(absl::string_view(data).substr(0, 4096 * 2 + 7)).ok());
  }
  auto node = Node::Open(SmallNodeOptions(dir_.path()));
  ASSERT_TRUE(node.ok());
  EXPECT_EQ((*node)->uploads()->Query("survivor")->committed_size(), 4096u * 2);
  h.set_offset(4096 * 2);
  auto up = (*node)->uploads()->Begin(h);
  ASSERT_TRUE(up.ok()) << up.status();
  ASSERT_TRUE((*up)->Append(absl::string_view(data).substr(4096 * 2)).ok());
  auto r = (*up)->Finish(Digest::Of(data).ToString());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*ReadObject(node->get(), r->id()), data);
}

TEST_F(RecoveryTest, SecondNodeOnTheSameFolderIsRefused) {
  auto first = Node::Open(SmallNodeOptions(dir_.path()));
  ASSERT_TRUE(first.ok());
  auto second = Node::Open(SmallNodeOptions(dir_.path()));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RecoveryTest, ChunkSizeOfAFolderCannotChange) {
  Fill(1);
  NodeOptions o = SmallNodeOptions(dir_.path());
  o.chunk_size = 8192;
  o.chunk_size_set = true;
  EXPECT_EQ(Node::Open(o).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace custody
