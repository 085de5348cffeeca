// The CLI against a real custodyd: put, get, stat, ls, and refusals.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

using json = nlohmann::json;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(node_.Start()) << node_.Log(); }
  CliResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", node_.address()});
    return RunCli(args);
  }
  TempDir dir_;
  NodeProcess node_{dir_ / "data"};
};

TEST_F(CliTest, LargeFileRoundTripsBitExact) {
  std::string file = dir_ / "big.mp4";
  std::string want = WriteRandomFile(file, (256ull << 20) + 4097, 1);
  CliResult put = Cli({"put", file, "--meta", "officer=A123", "--meta", "matter=3", "--json"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  json p = json::parse(put.out);
  EXPECT_EQ(p["id"], want);
  EXPECT_EQ(p["already_stored"], false);
  EXPECT_EQ(p["size"], (256ull << 20) + 4097);

  CliResult get = Cli({"get", want, "-o", dir_ / "back.mp4"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(HashFile(dir_ / "back.mp4"), want);

  CliResult stat = Cli({"stat", want, "--json"});
  ASSERT_EQ(stat.exit_code, 0) << stat.err;
  json s = json::parse(stat.out);
  EXPECT_EQ(s["size"], (256ull << 20) + 4097);
  EXPECT_EQ(s["file_name"], "big.mp4");
  EXPECT_EQ(s["media_type"], "video/mp4");
  EXPECT_EQ(s["metadata"]["officer"], "A123");
  EXPECT_EQ(s["chunks"], 65);
}

TEST_F(CliTest, SameBytesAgainAreAlreadyStoredAndListedOnce) {
  std::string a = dir_ / "a.wav", b = dir_ / "b.wav";
  std::string id = WriteRandomFile(a, 5 << 20, 2);
  WriteRandomFile(b, 5 << 20, 2);  // same bytes, another name
  CliResult first = Cli({"put", a});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, id + "\n");
  CliResult second = Cli({"put", b, "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(json::parse(second.out)["already_stored"], true);
  EXPECT_EQ(json::parse(second.out)["id"], id);
  CliResult ls = Cli({"ls", "--json"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  json l = json::parse(ls.out);
  ASSERT_EQ(l["count"], 1);
  EXPECT_EQ(l["objects"][0]["file_name"], "a.wav");  // the first put's facts stay
}

TEST_F(CliTest, ServerFromTheEnvironment) {
  std::string f = dir_ / "doc.pdf";
  std::string id = WriteRandomFile(f, 1000, 3);
  CliResult r = RunCli({"put", f}, {"CUSTODY_SERVER=" + node_.address()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, id + "\n");
  // A time that is not one is a usage error: exit 2, one line, naming it.
  CliResult bad_time =
      RunCli({"report", "--agency", "A", "--from", "yesterday", "--to", "2026-12-01"},
             {"CUSTODY_SERVER=" + node_.address()});
  EXPECT_EQ(bad_time.exit_code, 2) << bad_time.err;
  EXPECT_NE(bad_time.err.find("--from \"yesterday\" is not a time"), std::string::npos)
      << bad_time.err;
  // Plain text without --json, one JSON document with it.
  CliResult status = RunCli({"status"}, {"CUSTODY_SERVER=" + node_.address()});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out.find('{'), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("objects:    "), std::string::npos) << status.out;
  CliResult status_json = RunCli({"status", "--json"}, {"CUSTODY_SERVER=" + node_.address()});
  ASSERT_EQ(status_json.exit_code, 0) << status_json.err;
  EXPECT_TRUE(json::parse(status_json.out).contains("objects")) << status_json.out;
  CliResult me = RunCli({"whoami"}, {"CUSTODY_SERVER=" + node_.address()});
  ASSERT_EQ(me.exit_code, 0) << me.err;
  EXPECT_EQ(me.out.find('{'), std::string::npos) << me.out;
  EXPECT_NE(me.out.find("name:       local-operator"), std::string::npos) << me.out;
  CliResult none = RunCli({"ls"}, {"CUSTODY_SERVER="});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("--server"), std::string::npos) << none.err;
}

TEST_F(CliTest, UnknownAndMalformedIdsFailWithOneLine) {
  CliResult unknown = Cli({"stat", "sha256:" + std::string(64, 'a')});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("NOT_FOUND"), std::string::npos) << unknown.err;
  EXPECT_EQ(std::count(unknown.err.begin(), unknown.err.end(), '\n'), 1);
  CliResult bad = Cli({"get", "sha256:xyz", "-o", dir_ / "x"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("INVALID_ARGUMENT"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x"));
  CliResult missing = Cli({"get", "sha256:" + std::string(64, 'b'), "-o", dir_ / "y"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("NOT_FOUND"), std::string::npos) << missing.err;
  // Nothing came, and it says so (no "partial output" that never was).
  EXPECT_NE(missing.err.find("nothing was written to"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.err.find("partial"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "y"));
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().string().find(".partial"), std::string::npos) << e.path();
  }
}

TEST_F(CliTest, GetNeverOverwritesAFile) {
  std::string f = dir_ / "clip.mov";
  std::string id = WriteRandomFile(f, 3000, 4);
  ASSERT_EQ(Cli({"put", f}).exit_code, 0);
  std::string keep = dir_ / "precious.txt";
  std::ofstream(keep) << "do not touch";
  CliResult r = Cli({"get", id, "-o", keep});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ALREADY_EXISTS"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(keep), "do not touch");
}

TEST_F(CliTest, UsageErrorsAreOneLineWithExitCodeTwo) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"frob"},
           {"put"},
           {"put", dir_ / "missing.mp4"},
           {"get", "sha256:x"},
           {"ls", "--nope"},
           {"--server", "", "ls"},
           {"access", "request", "sha256:" + std::string(64, 'a'), "--reason", "r", "--for",
            "forever"},
           {"record", "list", "--flag", "nonsense"},
           {"report", "--agency", "A", "--from", "2026-12-02", "--to", "2026-12-01"},
           {"record", "correct", "rec-000000000001", "--field", "end", "--value", "tomorrow",
            "--reason", "r"},
           {"ca", "issue", "--ca", dir_ / "ca", "-o", dir_ / "x"},
           {"--time-zone", "Nowhere/Town", "ls"}}) {
    CliResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("custody: INVALID_ARGUMENT: ", 0), 0u) << r.err;
  }
  EXPECT_EQ(RunCli({"--help"}).exit_code, 0);
}

TEST_F(CliTest, DuplicateOrNonUtf8MetadataIsRefused) {
  std::string f = dir_ / "n.bin";
  WriteRandomFile(f, 100, 9);
  CliResult dup = Cli({"put", f, "--meta", "k=1", "--meta", "k=2"});
  EXPECT_EQ(dup.exit_code, 2);
  EXPECT_NE(dup.err.find("given twice"), std::string::npos) << dup.err;
  CliResult bin = Cli({"put", f, "--meta", "k=\xff\xfe"});
  EXPECT_EQ(bin.exit_code, 2);
  EXPECT_NE(bin.err.find("UTF-8"), std::string::npos) << bin.err;
}

TEST_F(CliTest, ASecondNodeCannotTakeABusyPort) {
  std::string port = node_.address().substr(node_.address().rfind(':') + 1);
  Subprocess second({CUSTODYD_PATH, "--data", dir_ / "other", "--listen", "127.0.0.1:" + port,
                     "--insecure-loopback"},
                    dir_ / "second.out", dir_ / "second.err");
  EXPECT_EQ(second.Wait(), 1);
  EXPECT_NE(ReadFile(dir_ / "second.err").find("cannot listen"), std::string::npos);
}

TEST_F(CliTest, OversizedMetadataIsRefused) {
  std::string f = dir_ / "m.bin";
  WriteRandomFile(f, 100, 5);
  CliResult r = Cli({"put", f, "--meta", "note=" + std::string(5000, 'n')});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("INVALID_ARGUMENT"), std::string::npos) << r.err;
  CliResult bad = Cli({"put", f, "--meta", "novalue"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_EQ(json::parse(Cli({"ls", "--json"}).out)["count"], 0);
}

// get -o - writes the object to stdout (each chunk checked before it is
// written, the whole hash at the end); --range asks the node for the chunks
// that hold the range only, as the read's audit event shows.
TEST_F(CliTest, GetToStdoutStreamsTheObjectOrARangeOfIt) {
  const std::string file = dir_ / "clip.mp4";
  const uint64_t size = (10u << 20) + 123;  // three chunks of 4 MiB
  const std::string id = WriteRandomFile(file, size, 9);
  const std::string bytes = ReadFile(file);
  ASSERT_EQ(Cli({"put", file}).exit_code, 0);

  CliResult all = Cli({"get", id, "-o", "-"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_TRUE(all.out == bytes) << "stdout is the object, bit for bit (" << all.out.size() << ")";
  EXPECT_NE(all.err.find("verified"), std::string::npos) << all.err;

  CliResult part = Cli({"get", id, "-o", "-", "--range", "5000000-5000099"});
  ASSERT_EQ(part.exit_code, 0) << part.err;
  EXPECT_TRUE(part.out == bytes.substr(5000000, 100));
  CliResult tail = Cli({"get", id, "-o", "-", "--range", "9000000-"});
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_TRUE(tail.out == bytes.substr(9000000));
  // The range's read asked for its one chunk, not the object.
  CliResult log = Cli({"audit", "log", id, "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_NE(log.out.find("\"4194304\""), std::string::npos) << "offset of the second chunk";

  CliResult past = Cli({"get", id, "-o", "-", "--range", "20000000-20000001"});
  EXPECT_EQ(past.exit_code, 1);
  EXPECT_NE(past.err.find("not within"), std::string::npos) << past.err;
  EXPECT_TRUE(past.out.empty());
  EXPECT_EQ(Cli({"get", id, "-o", "-", "--range", "9-3"}).exit_code, 2);
  EXPECT_EQ(Cli({"get", id, "-o", dir_ / "x", "--range", "0-9"}).exit_code, 2);
  EXPECT_EQ(Cli({"get", id, "-o", "-", "--json"}).exit_code, 2);
}

}  // namespace
}  // namespace custody::testing
