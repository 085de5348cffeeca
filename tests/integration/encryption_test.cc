// Encryption at rest (issue 5): with --data-key, no plaintext reaches the
// volume files; reads, restarts and an index rebuild still work; a changed
// ciphertext byte is corrupt; a node without the key cannot read.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;

std::string VolumeBytes(const std::string& data_dir) {
  std::string all;
  for (const auto& e : fs::directory_iterator(data_dir + "/volumes")) all += ReadFile(e.path());
  return all;
}

TEST(EncryptionTest, TheDataFolderIsTheOwnersAlone) {
  TempDir dir;
  // A folder someone left open, with a file in it.
  fs::create_directories(dir / "data");
  fs::permissions(dir / "data", fs::perms(0755));
  std::ofstream(dir / "data/notes.txt") << "left here\n";
  fs::permissions(dir / "data/notes.txt", fs::perms(0644));
  NodeProcess node(dir / "data");
  ASSERT_TRUE(node.Start()) << node.Log();
  std::string file = dir / "clip.mp4";
  WriteRandomFile(file, 100 << 10, 3);
  ASSERT_EQ(RunCli({"--server", node.address(), "put", file}).exit_code, 0);
  node.Kill(SIGTERM);
  int seen = 0;
  auto open_to_others = [](const fs::path& p) {
    return (fs::symlink_status(p).permissions() & (fs::perms::group_all | fs::perms::others_all)) !=
           fs::perms::none;
  };
  EXPECT_FALSE(open_to_others(dir / "data"));
  for (const auto& e : fs::recursive_directory_iterator(dir / "data")) {
    EXPECT_FALSE(open_to_others(e.path())) << e.path();
    ++seen;
  }
  EXPECT_GT(seen, 10) << "volumes, index and notes.txt";
  EXPECT_EQ(ReadFile(dir / "data/notes.txt"), "left here\n") << "restricted, not changed";
}

// Every file under `dir`, whole.
std::vector<std::pair<std::string, std::string>> AllFiles(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.emplace_back(e.path(), ReadFile(e.path()));
  }
  return out;
}

TEST(EncryptionTest, MarkersInAFileAndItsMetadataAreInNoFileUnderTheDataFolder) {
  TempDir dir;
  Subprocess gen({CUSTODYD_PATH, "--generate-data-key", dir / "data.key"}, dir / "o", dir / "e");
  ASSERT_EQ(gen.Wait(), 0) << ReadFile(dir / "e");
  const std::vector<std::string> markers = {"MARKER-START-7731", "MARKER-MIDDLE-7731",
                                            "MARKER-END-7731", "MARKER-SUSPECT-7731",
                                            "MARKER-FILENAME-7731"};
  std::string text = markers[0] + "\n";
  while (text.size() < (100 << 10))
    text += "interview transcript line " + std::to_string(text.size()) + "\n";
  text += markers[1] + "\n";
  while (text.size() < (200 << 10))
    text += "interview transcript line " + std::to_string(text.size()) + "\n";
  text += markers[2];
  std::string file = dir / (markers[4] + ".txt");
  std::ofstream(file) << text;
  const std::string id = HashFile(file);
  NodeProcess node(dir / "data", {"--data-key", dir / "data.key", "--chunk-size", "64KiB"});
  ASSERT_TRUE(node.Start()) << node.Log();
  CliResult put = RunCli({"--server", node.address(), "put", file, "--meta", "target=" + markers[3],
                          "--meta", "agency=A"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  CliResult log = RunCli({"--server", node.address(), "audit", "log", id, "--json"});
  EXPECT_NE(log.out.find(markers[3]), std::string::npos) << "the node itself still shows it";
  node.Kill(SIGTERM);
  int files = 0;
  for (const auto& [path, bytes] : AllFiles(dir / "data")) {
    ++files;
    for (const std::string& m : markers)
      EXPECT_EQ(bytes.find(m), std::string::npos) << m << " in " << path;
  }
  EXPECT_GT(files, 8) << "volumes and the index's tables, log and MANIFEST";
  // The encrypted index opens again with the key, and not without it.
  NodeProcess again(dir / "data", {"--data-key", dir / "data.key"});
  ASSERT_TRUE(again.Start()) << again.Log();
  CliResult back = RunCli({"--server", again.address(), "get", id, "-o", dir / "back"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(HashFile(dir / "back"), id);
  again.Kill(SIGTERM);
  NodeProcess keyless(dir / "data");
  EXPECT_FALSE(keyless.Start());
  EXPECT_NE(keyless.Log().find("the index in"), std::string::npos) << keyless.Log();
}

TEST(EncryptionTest, APlaintextIndexIsEncryptedWhenAKeyIsGivenAndKeptAside) {
  TempDir dir;
  Subprocess gen({CUSTODYD_PATH, "--generate-data-key", dir / "data.key"}, dir / "o", dir / "e");
  ASSERT_EQ(gen.Wait(), 0) << ReadFile(dir / "e");
  std::string file = dir / "clip.mp4";
  const std::string id = WriteRandomFile(file, 200 << 10, 8);
  NodeProcess plain(dir / "data");
  ASSERT_TRUE(plain.Start()) << plain.Log();
  ASSERT_EQ(
      RunCli({"--server", plain.address(), "put", file, "--meta", "target=MARKER-9"}).exit_code, 0);
  plain.Kill(SIGTERM);
  NodeProcess keyed(dir / "data", {"--data-key", dir / "data.key"});
  ASSERT_TRUE(keyed.Start()) << keyed.Log();
  CliResult back = RunCli({"--server", keyed.address(), "get", id, "-o", dir / "back"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  CliResult log = RunCli({"--server", keyed.address(), "audit", "log", id, "--json"});
  EXPECT_NE(log.out.find("MARKER-9"), std::string::npos) << "the history came along";
  keyed.Kill(SIGTERM);
  EXPECT_NE(keyed.Log().find("index.plaintext-"), std::string::npos) << keyed.Log();
  int aside = 0;
  for (const auto& e : fs::directory_iterator(dir / "data")) {
    aside += e.path().filename().string().rfind("index.plaintext-", 0) == 0;
  }
  EXPECT_EQ(aside, 1) << "kept, not deleted";
  for (const auto& [path, bytes] : AllFiles(dir / "data/index")) {
    EXPECT_EQ(bytes.find("MARKER-9"), std::string::npos) << path;
  }
}

TEST(EncryptionTest, VolumesHoldNoPlaintextAndReadsStillWork) {
  TempDir dir;
  Subprocess gen({CUSTODYD_PATH, "--generate-data-key", dir / "data.key"}, dir / "o", dir / "e");
  ASSERT_EQ(gen.Wait(), 0) << ReadFile(dir / "e");
  // A recognisable pattern, repeated through a 3-chunk file (64 KiB chunks).
  std::string pattern = "SUSPECT-STATEMENT-2026-11-28-";
  std::string text;
  while (text.size() < (150 << 10)) text += pattern + std::to_string(text.size()) + "\n";
  std::string file = dir / "statement.txt";
  std::ofstream(file) << text;
  std::string id = HashFile(file);
  NodeProcess node(dir / "data", {"--data-key", dir / "data.key", "--chunk-size", "64KiB"});
  ASSERT_TRUE(node.Start()) << node.Log();
  CliResult put = RunCli({"--server", node.address(), "put", file});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(VolumeBytes(dir / "data").find(pattern), std::string::npos);
  auto get = [&](NodeProcess& n) {
    fs::remove(dir / "back");
    CliResult r = RunCli({"--server", n.address(), "get", id, "-o", dir / "back"});
    return r.exit_code == 0 ? HashFile(dir / "back") : r.err;
  };
  EXPECT_EQ(get(node), id);
  // The index rebuilt from the volumes alone finds the sealed chunks.
  node.Kill(SIGTERM);
  NodeProcess rebuilt(dir / "data", {"--data-key", dir / "data.key", "--rebuild-index"});
  ASSERT_TRUE(rebuilt.Start()) << rebuilt.Log();
  EXPECT_EQ(get(rebuilt), id);
  rebuilt.Kill(SIGTERM);
  // Without the key the node does not start: its index is encrypted too.
  NodeProcess keyless(dir / "data");
  EXPECT_FALSE(keyless.Start());
  EXPECT_NE(keyless.Log().find("--data-key"), std::string::npos) << keyless.Log();
  // One changed ciphertext byte: the chunk fails authentication, nothing is served.
  std::string volume;
  for (const auto& e : fs::directory_iterator(dir / "data/volumes")) volume = e.path();
  {
    std::fstream f(volume, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 48 + 200);  // inside the first entry's ciphertext
    char c;
    f.read(&c, 1);
    f.seekp(4096 + 48 + 200);
    c ^= 0x20;
    f.write(&c, 1);
  }
  NodeProcess again(dir / "data", {"--data-key", dir / "data.key"});
  ASSERT_TRUE(again.Start()) << again.Log();
  CliResult bad = RunCli({"--server", again.address(), "get", id, "-o", dir / "bad"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("DATA_LOSS"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir / "bad"));
  again.Kill(SIGTERM);
  // Rebuilding the index checks every sealed chunk: it needs the key.
  NodeProcess keyless_rebuild(dir / "data", {"--rebuild-index"});
  EXPECT_FALSE(keyless_rebuild.Start());
  EXPECT_NE(keyless_rebuild.Log().find("--data-key"), std::string::npos) << keyless_rebuild.Log();
}

TEST(EncryptionTest, AKeyInsideTheDataFolderIsRefused) {
  TempDir dir;
  fs::create_directories(dir / "data");
  Subprocess gen({CUSTODYD_PATH, "--generate-data-key", dir / "data/data.key"}, dir / "o",
                 dir / "e");
  ASSERT_EQ(gen.Wait(), 0);
  NodeProcess node(dir / "data", {"--data-key", dir / "data/data.key"});
  EXPECT_FALSE(node.Start());
  EXPECT_NE(node.Log().find("inside the data folder"), std::string::npos) << node.Log();
}

}  // namespace
}  // namespace custody::testing
