// custody export (issue 24): a package a court reads and checks offline,
// whose manifest.json names the object's record and archive number, the
// requester, the approvers and the reason, as the node signed them, and
// whose VERIFY.txt names only files in the package.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "absl/time/clock.h"
#include "common/sm3.h"
#include "custody/v1/audit.pb.h"
#include "custody/v1/manifest.pb.h"
#include "tests/integration/access_fixture.h"

namespace custody::testing {

// Footage of an archived record of agency A: its id, the record's id and
// its archive number.
std::vector<std::string> AccessTest::ArchivedFootage() {
  WaitUntilPeersAreUp(nodes_, dir_ / "aud");  // archiving asks the sequence's owner
  auto at = [](absl::Duration ago) {
    return absl::FormatTime(absl::RFC3339_sec, absl::Now() - ago, absl::UTCTimeZone());
  };
  const std::string start = at(absl::Hours(2)), end = at(absl::Hours(1)), file = dir_ / "clip.mp4";
  std::string id = WriteRandomFile(file, 200 << 10, 77);
  CliResult put = As("arch", 0,
                     {"put", file, "--meta", "agency=A", "--meta", "device=D1", "--meta",
                      "start=" + start, "--meta", "end=" + end});
  EXPECT_EQ(put.exit_code, 0) << put.err;
  CliResult rec = As("olga", 0,
                     {"record", "create", "--agency", "A", "--matter", "3", "--target", "shop-17",
                      "--stage", "inspection", "--officer", "o1", "--device", "D1", "--start",
                      start, "--end", end, "--json"});
  EXPECT_EQ(rec.exit_code, 0) << rec.err;
  std::string rec_id =
      rec.exit_code == 0 ? nlohmann::json::parse(rec.out)["id"].get<std::string>() : "";
  CliResult attach = As("olga", 1, {"record", "attach", rec_id, id, "--kind", "video"});
  EXPECT_EQ(attach.exit_code, 0) << attach.err;
  CliResult archived = As("arch", 0, {"record", "archive", rec_id, "--json"});
  EXPECT_EQ(archived.exit_code, 0) << archived.err;
  return {id, rec_id,
          archived.exit_code == 0
              ? nlohmann::json::parse(archived.out)["archive_number"].get<std::string>()
              : ""};
}

namespace {

using json = nlohmann::json;

// The files VERIFY.txt names (words like NAME.EXT), and the files in `dir`.
std::pair<std::set<std::string>, std::set<std::string>> NamedAndPresent(const std::string& dir) {
  std::set<std::string> named, present;
  const std::string text = ReadFile(dir + "/VERIFY.txt");
  const std::regex file_name(R"([A-Za-z0-9_-][A-Za-z0-9_.-]*\.[A-Za-z][A-Za-z0-9]*)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), file_name);
       it != std::sregex_iterator(); ++it) {
    named.insert(it->str());
  }
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    present.insert(e.path().filename().string());
  }
  return {named, present};
}

// DIGESTS.txt lists every other file of the package with its SHA-256 and SM3
// (GB/T 32905), verify checks both, and a file swapped afterwards fails on
// both (issue 30).
void ExpectDigestsCoverThePackage(const std::string& pkg) {
  std::map<std::string, std::pair<std::string, std::string>> listed;
  std::istringstream lines(ReadFile(pkg + "/DIGESTS.txt"));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string sha, sm3, name;
    f >> sha >> sm3 >> name;
    listed[name] = {sha, sm3};
  }
  std::set<std::string> others;
  for (const auto& e : std::filesystem::directory_iterator(pkg)) {
    if (e.path().filename() != "DIGESTS.txt") others.insert(e.path().filename().string());
  }
  ASSERT_EQ(listed.size(), others.size()) << ReadFile(pkg + "/DIGESTS.txt");
  for (const std::string& name : others) {
    ASSERT_TRUE(listed.count(name)) << name;
    EXPECT_EQ(listed[name].first, HashFile(pkg + "/" + name)) << name;
    absl::StatusOr<Sm3::Value> sm3 = Sm3::OfFile(pkg + "/" + name);
    ASSERT_TRUE(sm3.ok()) << sm3.status();
    EXPECT_EQ(listed[name].second, Sm3::ToString(*sm3)) << name;
  }
  // A copy of the package whose VERIFY.txt (which no signature covers) was
  // swapped: the bundle still verifies, the digests do not.
  const std::string copy = pkg + "-swapped";
  std::filesystem::copy(pkg, copy);
  { std::ofstream(copy + "/VERIFY.txt") << "Trust us.\n"; }
  CliResult r =
      RunCli({"audit", "verify", copy + "/audit.bundle", "--pubkey", copy + "/node-key.pem"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("VERIFY.txt: its SHA-256 is"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("VERIFY.txt: its SM3 is"), std::string::npos) << r.err;
  std::filesystem::remove_all(copy);
}

// VERIFY.txt names exactly the files of the package (none elsewhere), says
// whose record it is and why it was handed out, and its command passes as
// written there, on the package's files.
void ExpectVerifyTxtNamesThePackage(const std::string& pkg, const std::string& archive_number) {
  auto [named, present] = NamedAndPresent(pkg);
  const std::string text = ReadFile(pkg + "/VERIFY.txt");
  EXPECT_EQ(named, present) << text;
  EXPECT_TRUE(present.count("node-key.pem"));
  EXPECT_NE(text.find(archive_number), std::string::npos) << text;
  EXPECT_NE(text.find("court, case 17"), std::string::npos) << text;
  EXPECT_NE(text.find("custody audit verify audit.bundle --file clip.mp4 --pubkey node-key.pem"),
            std::string::npos)
      << text;
  // And in Chinese, with the same commands (issue 30).
  const size_t zh = text.find("—— 中文说明 ——");
  ASSERT_NE(zh, std::string::npos) << text;
  for (const std::string& said :
       {std::string("无需联网即可离线核验"),
        std::string("custody audit verify audit.bundle --file clip.mp4 --pubkey node-key.pem"),
        std::string("openssl dgst -sm3 clip.mp4"), std::string("SHA-256 和 SM3 摘要")}) {
    EXPECT_NE(text.find(said, zh), std::string::npos) << said;
  }
  CliResult pinned = RunCli({"audit", "verify", pkg + "/audit.bundle", "--file", pkg + "/clip.mp4",
                             "--pubkey", pkg + "/node-key.pem"});
  EXPECT_EQ(pinned.exit_code, 0) << pinned.out << pinned.err;
  EXPECT_NE(pinned.out.find("and the records and grant it signed"), std::string::npos)
      << pinned.out;
  EXPECT_NE(pinned.out.find("the 6 files DIGESTS.txt lists match on SHA-256 and SM3"),
            std::string::npos)
      << pinned.out;
  ExpectDigestsCoverThePackage(pkg);
}

// The package's manifest.json names the record, the requester, the
// approvers and the reason, as the node signed them.
void ExpectCourtFacts(const json& manifest, const std::string& request,
                      const std::vector<std::string>& footage) {
  ASSERT_EQ(manifest["records"].size(), 1u) << manifest.dump();
  EXPECT_EQ(manifest["records"][0]["id"], footage[1]);
  EXPECT_EQ(manifest["records"][0]["archive_number"], footage[2]);
  EXPECT_NE(footage[2], "");
  EXPECT_EQ(manifest["records"][0]["agency"], "A");
  EXPECT_EQ(manifest["exported_by"], "user:olga");
  const json& grant = manifest["grant"];
  EXPECT_EQ(grant["request"], request);
  EXPECT_EQ(grant["requester"], "user:olga");
  EXPECT_EQ(grant["reason"], "court, case 17");
  EXPECT_EQ(grant["purpose"], "export");
  EXPECT_EQ(grant["record"], "");  // a grant for the object, not for a whole record
  ASSERT_EQ(grant["approvers"].size(), 2u) << grant.dump();
  std::map<std::string, std::string> roles;
  for (const json& a : grant["approvers"]) {
    roles[a["name"]] = a["role"];
    EXPECT_EQ(a["time"].get<std::string>().size(), 24u) << a.dump();  // 2026-12-03T10:00:00.000Z
  }
  EXPECT_EQ(roles, (std::map<std::string, std::string>{{"user:hank", "archive-head"},
                                                       {"user:lena", "leader"}}));
}

// Another reason in manifest.json, in the bundle's signed context, or a
// bundle without its context: none passes.
void ExpectTheGrantIsSigned(const std::string& pkg, const std::string& file) {
  json m = json::parse(ReadFile(pkg + "/manifest.json"));
  m["grant"]["reason"] = "curiosity";
  { std::ofstream(pkg + "/../reason.json") << m.dump(2); }
  CliResult altered = RunCli({"audit", "verify", pkg + "/audit.bundle", "--file", file,
                              "--manifest", pkg + "/../reason.json"});
  EXPECT_NE(altered.exit_code, 0);
  EXPECT_NE(altered.err.find("manifest.json says grant"), std::string::npos) << altered.err;
  v1::AuditBundle bundle;
  ASSERT_TRUE(bundle.ParseFromString(ReadFile(pkg + "/audit.bundle")));
  v1::ExportContext c;
  ASSERT_TRUE(c.ParseFromString(bundle.export_context()));
  c.mutable_grant()->set_reason("curiosity");
  v1::AuditBundle forged = bundle;
  forged.set_export_context(c.SerializeAsString());
  v1::AuditBundle stripped = bundle;
  stripped.clear_export_context();
  stripped.clear_export_context_signature();
  for (const auto& [name, b] : {std::pair{"forged", forged}, std::pair{"stripped", stripped}}) {
    std::string path = pkg + "/../" + name + ".bundle";
    { std::ofstream(path, std::ios::binary) << b.SerializeAsString(); }
    CliResult r =
        RunCli({"audit", "verify", path, "--file", file, "--manifest", pkg + "/manifest.json"});
    EXPECT_NE(r.exit_code, 0) << name;
    EXPECT_NE(r.err.find(std::string(name) == "forged" ? "context's signature does not verify"
                                                       : "no signed export context"),
              std::string::npos)
        << name << ": " << r.err;
  }
}

TEST_F(AccessTest, ExportNeedsAnExportGrantAndVerifiesOffline) {
  const std::vector<std::string> footage = ArchivedFootage();
  const std::string id = footage[0];
  std::string view = Request("olga", 0, id);
  ASSERT_EQ(As("hank", 0, {"access", "approve", view}).exit_code, 0);
  ASSERT_EQ(As("lena", 0, {"access", "approve", view}).exit_code, 0);
  CliResult no = As("olga", 0, {"export", id, "-o", dir_ / "pkg"});
  EXPECT_NE(no.exit_code, 0);
  EXPECT_NE(no.err.find("PERMISSION_DENIED"), std::string::npos) << no.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "pkg")) << "a failed export leaves nothing";
  CliResult req =
      As("olga", 0,
         {"access", "request", id, "--reason", "court, case 17", "--purpose", "export", "--json"});
  ASSERT_EQ(req.exit_code, 0) << req.err;
  std::string r = json::parse(req.out)["request"];
  ASSERT_EQ(As("hank", 0, {"access", "approve", r}).exit_code, 0);
  ASSERT_EQ(As("lena", 0, {"access", "approve", r}).exit_code, 0);
  CliResult ok = As("olga", 0, {"export", id, "-o", dir_ / "pkg", "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  json manifest = json::parse(ok.out)["manifest"];
  std::string file = dir_ / ("pkg/" + manifest["file"].get<std::string>());
  EXPECT_EQ(HashFile(file), id);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "pkg/manifest.json"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "pkg/VERIFY.txt"));
  // Offline, as a court would: no server, no credentials.
  CliResult verify =
      RunCli({"audit", "verify", dir_ / "pkg/audit.bundle", "--file", file, "--json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("\"purpose\":\"export\""), std::string::npos) << verify.out;
  EXPECT_EQ(json::parse(verify.out)["manifest_checked"], true) << verify.out;
  EXPECT_EQ(json::parse(verify.out)["context_checked"], true) << verify.out;
  EXPECT_EQ(manifest["metadata"]["agency"], "A");
  ExpectCourtFacts(manifest, r, footage);
  EXPECT_EQ(json::parse(ReadFile(dir_ / "pkg/manifest.json")), manifest);
  ExpectVerifyTxtNamesThePackage(dir_ / "pkg", footage[2]);
  // The folder's manifest.json altered (the object's agency) no longer
  // passes: the node signed the manifest in the bundle.
  std::string text = ReadFile(dir_ / "pkg/manifest.json");
  size_t at = text.find("\"agency\": \"A\"");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, 13, "\"agency\": \"B\"");
  { std::ofstream(dir_ / "altered.json") << text; }
  CliResult altered = RunCli({"audit", "verify", dir_ / "pkg/audit.bundle", "--file", file,
                              "--manifest", dir_ / "altered.json"});
  EXPECT_NE(altered.exit_code, 0);
  EXPECT_NE(altered.err.find("manifest.json says metadata"), std::string::npos) << altered.err;
  // A bundle whose signed manifest was swapped does not verify either.
  v1::AuditBundle bundle;
  ASSERT_TRUE(bundle.ParseFromString(ReadFile(dir_ / "pkg/audit.bundle")));
  v1::ObjectManifest m;
  ASSERT_TRUE(m.ParseFromString(bundle.manifest()));
  (*m.mutable_metadata())["agency"] = "B";
  bundle.set_manifest(m.SerializeAsString());
  { std::ofstream(dir_ / "swapped.bundle", std::ios::binary) << bundle.SerializeAsString(); }
  CliResult swapped = RunCli({"audit", "verify", dir_ / "swapped.bundle", "--file", file});
  EXPECT_NE(swapped.exit_code, 0);
  EXPECT_NE(swapped.err.find("signature does not verify"), std::string::npos) << swapped.err;
  ExpectTheGrantIsSigned(dir_ / "pkg", file);
  CliResult again = As("olga", 0, {"export", id, "-o", dir_ / "pkg"});
  EXPECT_NE(again.err.find("ALREADY_EXISTS"), std::string::npos) << again.err;
}

// One export grant for a whole record (access request --record) exports
// its footage, and the package names that record as the grant's.
TEST_F(AccessTest, AnExportUnderARecordGrantNamesTheRecord) {
  const std::vector<std::string> footage = ArchivedFootage();
  CliResult req = As("olga", 0,
                     {"access", "request", "--record", footage[1], "--reason", "court, case 17",
                      "--purpose", "export", "--json"});
  ASSERT_EQ(req.exit_code, 0) << req.err;
  const std::string r = json::parse(req.out)["request"];
  ASSERT_EQ(As("hank", 1, {"access", "approve", r}).exit_code, 0);
  ASSERT_EQ(As("lena", 2, {"access", "approve", r}).exit_code, 0);
  CliResult ok = As("olga", 0, {"export", footage[0], "-o", dir_ / "pkg", "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const json manifest = json::parse(ok.out)["manifest"];
  EXPECT_EQ(manifest["grant"]["request"], r);
  EXPECT_EQ(manifest["grant"]["record"], footage[1]);
  EXPECT_EQ(manifest["records"][0]["archive_number"], footage[2]);
  EXPECT_NE(ReadFile(dir_ / "pkg/VERIFY.txt").find("for all of record " + footage[1]),
            std::string::npos)
      << ReadFile(dir_ / "pkg/VERIFY.txt");
  CliResult verify = RunCli({"audit", "verify", dir_ / "pkg/audit.bundle", "--file",
                             dir_ / "pkg/clip.mp4", "--pubkey", dir_ / "pkg/node-key.pem"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace custody::testing
