// Dock manifests (issue 31; doc/records.md, "Dock manifests"), with real
// processes on a TLS node: custody-ingestd lists a device's folder when it
// is docked and signs the list with the station's identity; a listed file
// that never arrives shows as missing in its record, in the report and in
// the record's flags until a note explains it; a gap in the camera's own
// file numbers across two docks is flagged the same way; a manifest whose
// signature does not hold is refused, on record.
#include "common/dock_manifest.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "common/cert_signature.h"
#include "common/tls.h"
#include "custody/v1/records.grpc.pb.h"
#include "tests/integration/cluster_util.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

size_t FilesUnder(const fs::path& dir) {
  size_t n = 0;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    n += e.is_regular_file() && !name.ends_with(".json") && !name.ends_with(".reason");
  }
  return n;
}

class DockManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nodes_ = StartTlsCluster(dir_,
                             {{"station", {"--role", "ingest", "--agency", "A"}},
                              {"olga", {"--role", "officer", "--agency", "A"}},
                              {"aud", {"--role", "auditor"}}},
                             "aud", 1);
    ASSERT_EQ(nodes_.size(), 1u);
    fs::create_directories(watch_);
  }
  void TearDown() override {
    daemon_.reset();  // stops it
    ASSERT_TRUE(CustodyClient::UseTls("").ok());
  }
  void StartDaemon() {
    daemon_ = std::make_unique<Subprocess>(
        std::vector<std::string>{INGESTD_PATH, "--watch", watch_, "--server", nodes_[0]->address(),
                                 "--tls", dir_ / "station", "--station", "dock-7", "--settle", "1",
                                 "--poll", "0.2", "--max-backoff", "1", "--report-interval", "0"},
        dir_ / "ingestd.out", dir_ / "ingestd.log");
  }
  CliResult As(const std::string& user, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", nodes_[0]->address(), "--tls", dir_ / user});
    return RunCli(args);
  }
  json Json(const std::string& user, const std::vector<std::string>& args) {
    CliResult r = As(user, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out, nullptr, false);
    return j.is_discarded() ? json() : j;
  }
  // A recording of `device` with its sidecar: 10 minutes from `start`.
  void Recording(const std::string& device, const std::string& name, uint64_t size,
                 const std::string& start, const std::string& end,
                 const std::string& sequence = "") {
    fs::path dir = fs::path(watch_) / device;
    fs::create_directories(dir);
    WriteRandomFile(dir / name, size, ++seed_);
    std::ofstream(dir / (name + ".json"))
        << R"({"officer": "A1023", "matter": 4, "target": "shop-17", "stage": "inspection",)"
        << R"( "start": ")" << start << R"(", "end": ")" << end << "\""
        << (sequence.empty() ? "" : R"(, "sequence": ")" + sequence + "\"") << "}";
  }
  // The one record of `device`.
  json RecordOf(const std::string& device) {
    json list = Json("aud", {"record", "list", "--device", device, "--json"});
    EXPECT_EQ(list.size(), 1u) << list.dump();
    if (!list.is_array() || list.size() != 1) return json();
    return Json("aud", {"record", "show", list[0]["id"].get<std::string>(), "--json"});
  }
  static bool Flagged(const json& r, const std::string& flag) {
    for (const json& f : r["flags"]) {
      if (f == flag) return true;
    }
    return false;
  }

  TempDir dir_;
  std::string watch_ = dir_ / "station-folder";
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  std::unique_ptr<Subprocess> daemon_;
  uint64_t seed_ = 0;
};

TEST_F(DockManifestTest, AListedFileThatNeverArrivesIsMissingUntilANoteExplainsIt) {
  // Five recordings docked; the third is quarantined (0 bytes: a failed
  // copy), and someone deletes it from the station before anyone retries.
  const char* starts[] = {"09:00", "09:10", "09:20", "09:30", "09:40", "09:50"};
  for (int i = 0; i < 5; ++i) {
    Recording("CAM-7", absl::StrCat("clip-", i + 1, ".mp4"), i == 2 ? 0 : (200 << 10) + i,
              absl::StrCat("2026-11-26T", starts[i], ":00Z"),
              absl::StrCat("2026-11-26T", starts[i + 1], ":00Z"));
  }
  StartDaemon();
  ASSERT_TRUE(WaitFor(
      [&] {
        return FilesUnder(fs::path(watch_) / "done") == 4 &&
               FilesUnder(fs::path(watch_) / "quarantine") == 1;
      },
      60))
      << ReadFile(dir_ / "ingestd.log");
  ASSERT_TRUE(fs::remove(fs::path(watch_) / "quarantine" / "CAM-7" / "clip-3.mp4"));

  json r = RecordOf("CAM-7");
  ASSERT_EQ(r["segments"].size(), 4u) << r.dump();
  ASSERT_EQ(r["missing"].size(), 1u) << r.dump();
  const json& m = r["missing"][0];
  EXPECT_EQ(m["name"], "clip-3.mp4");
  EXPECT_EQ(m["size"], 0);
  EXPECT_EQ(m["reason"], "not-received");
  EXPECT_EQ(m["station"], "dock-7");
  EXPECT_EQ(m["listed_by"], "user:station");
  EXPECT_EQ(m["time"], "2026-11-26T09:20:00.000Z");
  EXPECT_EQ(m["explained_by"], "");
  EXPECT_TRUE(Flagged(r, "missing-footage")) << r.dump();
  // The gap the missing file leaves shows too (its times are known).
  EXPECT_EQ(r["gaps"].size(), 1u) << r.dump();
  const std::string id = r["id"];
  CliResult text = As("aud", {"record", "show", id});
  EXPECT_NE(text.out.find("clip-3.mp4 (0 bytes) listed at dock-7"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("MISSING"), std::string::npos) << text.out;
  json flagged = Json("aud", {"record", "list", "--flag", "missing-footage", "--json"});
  ASSERT_EQ(flagged.size(), 1u) << flagged.dump();
  json report = Json(
      "aud", {"report", "--agency", "A", "--from", "2026-11-01", "--to", "2026-12-01", "--json"});
  EXPECT_EQ(report["missing_files"], 1);
  EXPECT_EQ(report["missing_records"], json::array({id}));

  // The manifest is on record, signed by the station.
  json trail = Json("aud", {"audit", "log", "--json", "--action", "device.docked"});
  ASSERT_EQ(trail["events"].size(), 1u) << trail.dump();
  EXPECT_EQ(trail["events"][0]["actor"], "user:station");

  // A note explains it; the record is complete again.
  CliResult note = As("olga", {"record", "note", id, "--missing", "1", "--reason",
                               "empty file from a failed copy, deleted by the station keeper"});
  ASSERT_EQ(note.exit_code, 0) << note.err;
  r = RecordOf("CAM-7");
  EXPECT_EQ(r["missing"][0]["explained_by"],
            "note: empty file from a failed copy, deleted by the station keeper");
  EXPECT_FALSE(Flagged(r, "missing-footage")) << r.dump();
  report = Json(
      "aud", {"report", "--agency", "A", "--from", "2026-11-01", "--to", "2026-12-01", "--json"});
  EXPECT_EQ(report["missing_files"], 0);
  EXPECT_EQ(report["explained_missing_files"], 1);
  // Explained once only.
  CliResult again = As("olga", {"record", "note", id, "--missing", "1", "--reason", "again"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("is explained"), std::string::npos) << again.err;
}

TEST_F(DockManifestTest, AGapInTheCamerasFileNumbersAcrossDocksIsFlagged) {
  // File 0041 docked and ingested; later 0043, recorded right after it: the
  // times leave no gap, the camera's numbering does.
  Recording("CAM-8", "MOV_0041.mp4", 100 << 10, "2026-11-26T10:00:00Z", "2026-11-26T10:10:00Z",
            "0041");
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return FilesUnder(fs::path(watch_) / "done") == 1; }, 60))
      << ReadFile(dir_ / "ingestd.log");
  json r = RecordOf("CAM-8");
  EXPECT_TRUE(r["missing"].empty()) << r.dump();
  Recording("CAM-8", "MOV_0043.mp4", 100 << 10, "2026-11-26T10:10:00Z", "2026-11-26T10:20:00Z",
            "0043");
  ASSERT_TRUE(WaitFor([&] { return FilesUnder(fs::path(watch_) / "done") == 2; }, 60))
      << ReadFile(dir_ / "ingestd.log");
  r = RecordOf("CAM-8");
  ASSERT_EQ(r["segments"].size(), 2u) << r.dump();
  EXPECT_TRUE(r["gaps"].empty()) << r.dump();
  ASSERT_EQ(r["missing"].size(), 1u) << r.dump();
  EXPECT_EQ(r["missing"][0]["reason"], "sequence-gap");
  EXPECT_EQ(r["missing"][0]["sequence"], 42);
  EXPECT_EQ(r["missing"][0]["sequence_last"], 42);
  EXPECT_TRUE(Flagged(r, "missing-footage"));
  // Two docks, two manifests on record.
  json trail = Json("aud", {"audit", "log", "--json", "--action", "device.docked"});
  EXPECT_EQ(trail["events"].size(), 2u) << trail.dump();
}

TEST_F(DockManifestTest, AManifestWhoseSignatureDoesNotHoldIsRefusedOnRecord) {
  absl::StatusOr<TlsFiles> station = TlsFiles::Load(dir_ / "station");
  absl::StatusOr<TlsFiles> olga = TlsFiles::Load(dir_ / "olga");
  ASSERT_TRUE(station.ok() && olga.ok());
  auto stub = v1::Records::NewStub(
      grpc::CreateChannel(nodes_[0]->address(), TlsChannelCredentials(*station)));
  v1::DockRequest dock;
  dock.set_dock_id(NewDockId());
  dock.set_device("CAM-9");
  dock.set_station("dock-7");
  dock.set_docked_unix_nanos(absl::ToUnixNanos(absl::Now()));
  for (int i = 0; i < 5; ++i) {
    v1::DockedFile* f = dock.add_files();
    f->set_name(absl::StrCat("clip-", i, ".mp4"));
    f->set_size(1000 + i);
  }
  // Signs `d`'s fields as `signer` with `key_pem`, showing `cert_pem`.
  auto sign = [&](const v1::DockRequest& d, const std::string& signer, const std::string& key_pem,
                  const std::string& cert_pem) {
    v1::Decision s;
    s.set_kind(kDockedKind);
    s.set_subject("dock:" + d.dock_id());
    for (const auto& [k, v] : DockFields(d)) (*s.mutable_fields())[k] = v;
    s.set_signer(signer);
    s.set_time_unix_nanos(absl::ToUnixNanos(absl::Now()));
    v1::SignedDecision out;
    out.set_decision(s.SerializeAsString());
    out.set_signature(*SignWithKey(key_pem, DecisionMessage(out.decision())));
    out.set_certificate_pem(cert_pem);
    return out;
  };
  auto send = [&](const v1::DockRequest& d) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::DockResponse out;
    return stub->Docked(&ctx, d, &out);
  };
  // Unsigned; signed by another key than the certificate's; signed, then
  // one file removed from the list.
  v1::DockRequest unsigned_dock = dock;
  EXPECT_EQ(send(unsigned_dock).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::DockRequest forged = dock;
  *forged.mutable_signed_() = sign(dock, "user:station", olga->key_pem, station->cert_pem);
  grpc::Status s = send(forged);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  v1::DockRequest trimmed = dock;
  *trimmed.mutable_signed_() = sign(dock, "user:station", station->key_pem, station->cert_pem);
  trimmed.mutable_files()->RemoveLast();
  s = send(trimmed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  // The station's own signature holds.
  v1::DockRequest good = dock;
  *good.mutable_signed_() = sign(dock, "user:station", station->key_pem, station->cert_pem);
  s = send(good);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(send(good).ok());  // the same manifest again: recorded once

  json refused = Json("aud", {"audit", "log", "dock:" + dock.dock_id(), "--json"});
  int refusals = 0, docked = 0;
  for (const json& e : refused["events"]) {
    refusals += e["action"] == "access.refused";
    docked += e["action"] == kDockedKind;
  }
  EXPECT_EQ(refusals, 3) << refused.dump();
  EXPECT_EQ(docked, 1) << refused.dump();
}

}  // namespace
}  // namespace custody::testing
