// custody-web against a real three-node TLS cluster (issue 25): people sign
// in with their own keys and act as themselves, the console alone may do
// nothing, and playback needs a grant, reads ranges and is one viewing.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "common/cert_signature.h"
#include "common/random.h"
#include "common/sm3.h"
#include "custody/v1/access.pb.h"
#include "tests/integration/console_fixture.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

// What the console's page sends for a decision: a Decision signed with the
// person's key, as proto3 JSON (bytes in base64).
json SignedJson(const std::string& dir, const std::string& kind, const std::string& subject,
                const std::map<std::string, std::string>& fields) {
  v1::Decision d;
  d.set_kind(kind);
  d.set_subject(subject);
  for (const auto& [k, v] : fields) (*d.mutable_fields())[k] = v;
  d.set_signer("user:" + std::filesystem::path(dir).filename().string());
  d.set_time_unix_nanos(absl::ToUnixNanos(absl::Now()));
  d.set_nonce(*custody::RandomBytes(16, "a nonce"));
  std::string bytes = d.SerializeAsString();
  absl::StatusOr<std::string> sig = SignWithKey(ReadFile(dir + "/key.pem"), DecisionMessage(bytes));
  EXPECT_TRUE(sig.ok()) << sig.status();
  return {{"decision", absl::Base64Escape(bytes)},
          {"signature", absl::Base64Escape(sig.ok() ? *sig : "")},
          {"certificate_pem", ReadFile(dir + "/cert.pem")}};
}

json Body(const httplib::Result& r) { return r ? json::parse(r->body, nullptr, false) : json(); }

TEST_F(ConsoleTest, APersonSignedInActsAsThemselvesThroughTheConsole) {
  WebSignIn olga = SignIn("olga");
  ASSERT_FALSE(olga.cookie.empty());
  auto who = Call(olga, "custody.v1.Access/WhoAmI", json::object());
  ASSERT_TRUE(who && who->status == 200) << (who ? who->body : "");
  EXPECT_EQ(Body(who)["name"], "user:olga");
  EXPECT_EQ(Body(who)["relay"], "console:front");
  EXPECT_EQ(Body(who)["agency"], "A");
  // What she does is hers in the audit trail, relayed or not.
  std::string rec = Archivable(At(-absl::Hours(3)), At(-absl::Hours(2)));
  auto asked = Call(olga, "custody.v1.Access/RequestAccess",
                    {{"record_id", rec}, {"reason", "hearing 2026-12-10"}});
  ASSERT_TRUE(asked && asked->status == 200) << (asked ? asked->body : "");
  EXPECT_EQ(Body(asked)["requester"], "user:olga");
  json log = Ok("aud", 1, {"audit", "log", "--actor", "user:olga", "--action", "access.requested"});
  EXPECT_FALSE(log["events"].empty()) << log;
  // A statement signed for this console is refused from any other.
  ASSERT_EQ(RunCli({"ca", "issue", "--ca", dir_ / "ca", "--console", "other", "--host", "127.0.0.1",
                    "-o", dir_ / "other"})
                .exit_code,
            0);
  const std::string cert = ReadFile(dir_ / "olga/cert.pem");
  auto challenge = Client()->Post("/api/signin/challenge", json{{"certificate_pem", cert}}.dump(),
                                  "application/json");
  ASSERT_TRUE(challenge && challenge->status == 200);
  std::string statement = Body(challenge)["statement"];
  EXPECT_TRUE(absl::StrContains(statement, "relay: console:front")) << statement;
  absl::StatusOr<std::string> sig = SignWithKey(ReadFile(dir_ / "olga/key.pem"), statement);
  ASSERT_TRUE(sig.ok());
  StartConsole({}, "other");
  auto other = Client()->Post("/api/signin/certificate",
                              json{{"statement", statement},
                                   {"signature", absl::Base64Escape(*sig)},
                                   {"certificate_pem", cert}}
                                  .dump(),
                              "application/json");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403) << other->body;
}

TEST_F(ConsoleTest, PagesCarryTheCspAndStateChangesNeedTheCsrfTokenAndALiveSession) {
  for (const char* path :
       {"/", "/assets/app.js", "/api/session", "/vendor/chart.min.js", "/no-such-page",
        "/api/objects/sha256:0000000000000000000000000000000000000000000000000000000000000000/"
        "content?playback=x"}) {
    auto r = Client()->Get(path);
    ASSERT_TRUE(r) << path;
    std::string csp = r->get_header_value("Content-Security-Policy");
    EXPECT_TRUE(absl::StrContains(csp, "script-src 'self'")) << path << ": " << csp;
    EXPECT_FALSE(absl::StrContains(csp, "unsafe")) << path << ": " << csp;
  }
  EXPECT_EQ(Client()->Get("/api/session")->status, 401);
  WebSignIn arch = SignIn("arch");
  for (const char* attribute : {"; HttpOnly", "; Secure", "; SameSite=Strict", "; Path=/"}) {
    EXPECT_TRUE(absl::StrContains(arch.set_cookie, attribute)) << arch.set_cookie;
  }
  // A state change without the token, or with another session's, changes nothing.
  const std::string rec = NewRecord(At(-absl::Hours(3)), At(-absl::Hours(2)));
  WebSignIn olga = SignIn("olga"), other = SignIn("olga");
  const json ask = {{"record_id", rec}, {"reason", "hearing"}};
  for (const std::string& token : {std::string(), other.csrf}) {
    auto r = Client()->Post("/api/call/custody.v1.Access/RequestAccess",
                            {{"Cookie", olga.cookie}, {"X-CSRF-Token", token}}, ask.dump(),
                            "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << r->body;
    EXPECT_TRUE(absl::StrContains(r->body, "CSRF")) << r->body;
  }
  auto asked = Call(olga, "custody.v1.Access/RequestAccess", ask);
  ASSERT_TRUE(asked && asked->status == 200) << (asked ? asked->body : "");
  auto grants = Call(olga, "custody.v1.Access/ListAccess", {{"record_id", rec}});
  EXPECT_EQ(Body(grants)["grants"].size(), 1u) << "only the request with its token was made";
  auto without = Call(arch, "custody.v1.Records/List", json::object(), /*csrf=*/false);
  ASSERT_TRUE(without);
  EXPECT_EQ(without->status, 403);
  EXPECT_EQ(
      Client()->Post("/api/register", {{"Cookie", arch.cookie}}, "{}", "application/json")->status,
      403);
  EXPECT_EQ(Call(arch, "custody.v1.Records/List", json::object())->status, 200);
  // Signing out is a state change too.
  EXPECT_EQ(Client()->Post("/api/signout", {{"Cookie", other.cookie}}, "", "text/plain")->status,
            403);
  EXPECT_EQ(Client()
                ->Post("/api/signout", {{"Cookie", other.cookie}, {"X-CSRF-Token", other.csrf}}, "",
                       "text/plain")
                ->status,
            200);
  EXPECT_EQ(Client()->Get("/api/session", {{"Cookie", other.cookie}})->status, 401);
  EXPECT_EQ(Call(arch, "custody.v1.Custody/Repair", json::object())->status, 404)
      << "maintenance is not relayed";
  // Every service the pages call is known to the relay (the snapshots' was not).
  for (const char* method :
       {"custody.v1.Snapshots/ListSnapshots", "custody.v1.Audit/LatestCheckpoint",
        "custody.v1.Custody/ClusterStatus", "custody.v1.Records/Stations",
        "custody.v1.Access/WhoAmI"}) {
    auto r = Call(arch, method, json::object());
    ASSERT_TRUE(r) << method;
    EXPECT_FALSE(absl::StrContains(r->body, "no method")) << method << ": " << r->body;
    EXPECT_NE(r->status, 404) << method << ": " << r->body;
  }
  // Sessions end: a cookie is refused after its session's time.
  StartConsole({"--session-ttl", "2s"});
  auto c = Client();
  WebSignIn brief = SignIn("arch");
  auto r = c->Post("/api/signin/token", json{{"token", "cust_wrong"}}.dump(), "application/json");
  EXPECT_EQ(r->status, 401) << r->body;
  auto set = Client()->Get("/api/session", {{"Cookie", brief.cookie}});
  EXPECT_EQ(set->status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(Call(brief, "custody.v1.Records/List", json::object())->status, 401);
}

// A reader with a token signs in with it; the console relays the token and
// the node names the reader; a token decides nothing.
TEST_F(ConsoleTest, ATokenReaderSignsInAndReadsButCannotDecide) {
  ASSERT_EQ(RunCli({"ca", "issue", "--ca", dir_ / "ca", "--user", "admin", "--role", "admin", "-o",
                    dir_ / "admin"})
                .exit_code,
            0);
  CliResult add = As("admin", 0, {"user", "add", "tina", "--role", "auditor", "--json"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string token = json::parse(add.out)["token"];
  auto r = Client()->Post("/api/signin/token", json{{"token", token}}.dump(), "application/json");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
  std::string set = r->get_header_value("Set-Cookie");
  WebSignIn tina{set.substr(0, set.find(';')), Body(r)["csrf"], set};
  EXPECT_EQ(Body(r)["user"], "user:tina");
  auto who = Call(tina, "custody.v1.Access/WhoAmI", json::object());
  EXPECT_EQ(Body(who)["name"], "user:tina");
  EXPECT_EQ(Body(who)["relay"], "console:front");
  EXPECT_EQ(Call(tina, "custody.v1.Records/List", json::object())->status, 200);
  auto decide = Call(tina, "custody.v1.Access/Decide",
                     {{"request_id", std::string(64, 'a')}, {"approve", true}});
  ASSERT_TRUE(decide);
  EXPECT_TRUE(decide->status == 403 || decide->status == 400 || decide->status == 404)
      << decide->status << " " << decide->body;
}

TEST_F(ConsoleTest, AnotherAgencysRecordIsNotOpened) {
  std::string rec = NewRecord(At(-absl::Hours(3)), At(-absl::Hours(2)));
  WebSignIn leo = SignIn("leo");  // a leader of agency B
  auto r = Call(leo, "custody.v1.Records/Show", {{"record_id", rec}});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->status == 403 || r->status == 404) << r->status << " " << r->body;
  EXPECT_FALSE(Body(r).value("message", "").empty()) << "the node's own message";
  WebSignIn lena = SignIn("lena");
  EXPECT_EQ(Call(lena, "custody.v1.Records/Show", {{"record_id", rec}})->status, 200);
  // Nor its chain-of-custody sheet, nor its footage.
  std::string id = Stored({"device=D1", "start=" + At(-absl::Hours(3))}, ".mp4");
  Ok("olga", 1, {"record", "attach", rec, id, "--kind", "video"});
  auto sheet = Get(leo, "/api/records/" + rec + "/sheet");
  ASSERT_TRUE(sheet);
  EXPECT_TRUE(sheet->status == 403 || sheet->status == 404) << sheet->status << " " << sheet->body;
  EXPECT_FALSE(absl::StrContains(sheet->body, id)) << sheet->body;
  auto play = Get(leo, "/api/objects/" + id + "/content?playback=leo1", "bytes=0-99");
  ASSERT_TRUE(play);
  EXPECT_EQ(play->status, 403) << play->body;
  EXPECT_EQ(Body(play)["code"], "PERMISSION_DENIED") << "the whole message, not its first bytes";
  EXPECT_TRUE(play->get_header_value("Content-Range").empty())
      << play->get_header_value("Content-Range") << " " << play->body;
  json denials = Ok("aud", 0, {"audit", "log", id, "--action", "access.refused"});
  bool leos = false;
  for (const auto& e : denials["events"]) leos |= e["actor"] == "user:leo";
  EXPECT_TRUE(leos) << "leo's refused read is audited: " << denials << "\n"
                    << Ok("aud", 0, {"audit", "log", "--actor", "user:leo"});
}

// A seek reads only what it asks for, across the object's chunks (64 KiB
// here), and every range is the file's own bytes.
TEST_F(ConsoleTest, RangesAcrossChunksAreTheFilesBytes) {
  std::string rec = NewRecord(At(-absl::Hours(3)), At(-absl::Hours(2)));
  const std::string path_on_disk = dir_ / "big.mp4";
  const std::string id = WriteRandomFile(path_on_disk, 300 << 10, 77);
  ASSERT_EQ(
      As("olga", 0,
         {"put", path_on_disk, "--meta", "device=D1", "--meta", "start=" + At(-absl::Hours(3))})
          .exit_code,
      0);
  Ok("olga", 1, {"record", "attach", rec, id, "--kind", "video"});
  const std::string file = ReadFile(path_on_disk);
  WebSignIn olga = SignIn("olga");
  auto asked =
      Call(olga, "custody.v1.Access/RequestAccess", {{"record_id", rec}, {"reason", "review"}});
  ASSERT_TRUE(asked && asked->status == 200) << (asked ? asked->body : "");
  const std::string request = Body(asked)["request_id"];
  for (const char* approver : {"hank", "lena"}) {
    json signed_decision = SignedJson(dir_ / approver, "access.approved", "request:" + request,
                                      {{"request", request}});
    auto d = Call(SignIn(approver), "custody.v1.Access/Decide",
                  {{"request_id", request}, {"approve", true}, {"signed", signed_decision}});
    ASSERT_TRUE(d && d->status == 200) << approver << ": " << (d ? d->body : "");
  }
  const std::string url = "/api/objects/" + id + "/content?playback=ranges";
  auto first = Get(olga, url, "bytes=0-0");
  for (int i = 0; i < 100 && !(first && first->status == 206); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    first = Get(olga, url, "bytes=0-0");
  }
  ASSERT_TRUE(first && first->status == 206) << (first ? first->body : "");
  const size_t size = file.size();
  const std::vector<std::pair<size_t, size_t>> ranges = {
      {65000, 70000}, {65535, 65536}, {131072, 131072}, {100000, 299999}, {size - 1000, size - 1}};
  for (const auto& [from, to] : ranges) {
    const std::string range = "bytes=" + std::to_string(from) + "-" + std::to_string(to);
    auto r = Get(olga, url, range);
    ASSERT_TRUE(r) << range;
    ASSERT_EQ(r->status, 206) << range << ": " << r->body;
    EXPECT_EQ(r->body, file.substr(from, to - from + 1)) << range;
    EXPECT_EQ(r->get_header_value("Content-Range"),
              "bytes " + range.substr(6) + "/" + std::to_string(size));
  }
  auto suffix = Get(olga, url, "bytes=-1000");
  ASSERT_EQ(suffix->status, 206);
  EXPECT_EQ(suffix->body, file.substr(size - 1000));
  auto past = Get(olga, url, "bytes=" + std::to_string(size + 10) + "-");
  ASSERT_TRUE(past) << httplib::to_string(past.error());
  EXPECT_EQ(past->status, 416) << past->body;
}

// A node that is down is named, and the console goes on through the others;
// with every node down, a call answers with a status and a message.
TEST_F(ConsoleTest, ANodeDownIsNamedAndTheRestKeepsWorking) {
  NewRecord(At(-absl::Hours(3)), At(-absl::Hours(2)));
  WebSignIn aud = SignIn("aud");
  nodes_[2]->Kill(SIGKILL);
  auto list = Call(aud, "custody.v1.Records/List", json::object());
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200) << list->body;
  EXPECT_FALSE(Body(list)["records"].empty()) << list->body;
  auto reg = Client()->Post("/api/register", {{"Cookie", aud.cookie}, {"X-CSRF-Token", aud.csrf}},
                            json{{"action", "record.created"}}.dump(), "application/json");
  ASSERT_TRUE(reg && reg->status == 200) << (reg ? reg->body : "");
  EXPECT_FALSE(Body(reg)["unreachable"].empty()) << reg->body;
  EXPECT_FALSE(Body(reg)["events"].empty()) << reg->body;
  nodes_[0]->Kill(SIGKILL);
  nodes_[1]->Kill(SIGKILL);
  auto down = Call(aud, "custody.v1.Records/List", json::object());
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503) << down->body;
  EXPECT_FALSE(Body(down).value("message", "").empty()) << down->body;
}

TEST_F(ConsoleTest, PlaybackNeedsAGrantReadsRangesAndIsOneViewing) {
  std::string rec = NewRecord(At(-absl::Hours(3)), At(-absl::Hours(2)));
  std::string id = Stored({"device=D1", "start=" + At(-absl::Hours(3))}, ".mp4");
  Ok("olga", 1, {"record", "attach", rec, id, "--kind", "video"});
  const std::string file = ReadFile(dir_ / ("f" + std::to_string(files_ - 1) + ".mp4"));
  const std::string path = "/api/objects/" + id + "/content?playback=p1";
  WebSignIn olga = SignIn("olga");
  auto refused = Get(olga, path, "bytes=0-1023");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403) << refused->body;
  EXPECT_EQ(Body(refused)["code"], "PERMISSION_DENIED");
  json denials = Ok("aud", 0, {"audit", "log", id, "--action", "access.refused"});
  EXPECT_FALSE(denials["events"].empty()) << "the refused read is audited";

  auto asked =
      Call(olga, "custody.v1.Access/RequestAccess", {{"record_id", rec}, {"reason", "review"}});
  ASSERT_TRUE(asked && asked->status == 200) << (asked ? asked->body : "");
  std::string request = Body(asked)["request_id"];
  for (const char* approver : {"hank", "lena"}) {
    WebSignIn a = SignIn(approver);
    auto inbox = Call(a, "custody.v1.Access/ListAccess", {{"waiting_for_me", true}});
    ASSERT_EQ(Body(inbox)["grants"].size(), 1u) << approver << ": " << inbox->body;
    json signed_decision = SignedJson(dir_ / approver, "access.approved", "request:" + request,
                                      {{"request", request}});
    auto d = Call(a, "custody.v1.Access/Decide",
                  {{"request_id", request}, {"approve", true}, {"signed", signed_decision}});
    ASSERT_TRUE(d && d->status == 200) << approver << ": " << (d ? d->body : "");
  }
  // The grant reaches every node; then the seeks of one playback.
  auto first = Get(olga, path, "bytes=0-1023");
  for (int i = 0; i < 100 && !(first && first->status == 206); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    first = Get(olga, path, "bytes=0-1023");
  }
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 206) << first->body;
  EXPECT_EQ(first->body, file.substr(0, 1024));
  EXPECT_EQ(first->get_header_value("Content-Range"),
            "bytes 0-1023/" + std::to_string(file.size()));
  const size_t at = file.size() * 8 / 10;
  auto seek = Get(olga, path, "bytes=" + std::to_string(at) + "-");
  ASSERT_EQ(seek->status, 206);
  EXPECT_EQ(seek->body, file.substr(at)) << "a seek to 80%";
  auto whole = Get(olga, path);
  ASSERT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, file);
  json reads = Ok("aud", 0, {"audit", "log", "--action", "object.read", "--actor", "user:olga"});
  int viewings = 0;
  for (const auto& e : reads["events"]) {
    if (e["details"].value("playback", "") == "p1") {
      ++viewings;
      EXPECT_EQ(e["details"].value("agency", ""), "A") << e;
      EXPECT_EQ(e["details"].value("grant", ""), request) << e;
    }
    EXPECT_EQ(e["details"].value("relay", ""), "console:front");
  }
  EXPECT_EQ(viewings, 1) << "one playback, one viewing in the register: " << reads;
  // The register marks the viewing proven under the node's signed checkpoint.
  WebSignIn aud = SignIn("aud");
  auto reg = Client()->Post("/api/register", {{"Cookie", aud.cookie}, {"X-CSRF-Token", aud.csrf}},
                            json{{"action", "object.read"}}.dump(), "application/json");
  ASSERT_TRUE(reg && reg->status == 200) << (reg ? reg->body : "");
  std::string proof;
  json registered = Body(reg);
  for (const auto& e : registered["events"]) {
    if (e["details"].value("playback", "") == "p1") proof = e["proof"];
  }
  EXPECT_EQ(proof, "proven") << reg->body;
  // The chain-of-custody sheet (an archive-head's: an officer may not read
  // audit trails): the object's hash, its history proven against the node's
  // checkpoint, and the approvals.
  auto sheet = Get(SignIn("hank"), "/api/records/" + rec + "/sheet");
  ASSERT_TRUE(sheet && sheet->status == 200) << (sheet ? sheet->body : "");
  json sh = Body(sheet);
  ASSERT_EQ(sh["objects"].size(), 1u) << sh;
  EXPECT_EQ(sh["objects"][0]["id"], id) << sh;
  EXPECT_EQ(sh["objects"][0]["proof"], "verified") << sh["objects"][0];
  bool read_listed = false;
  for (const auto& e : sh["objects"][0]["events"]) read_listed |= e["action"] == "object.read";
  EXPECT_TRUE(read_listed);
  // The record's own events, each with its proof.
  int proven = 0;
  ASSERT_FALSE(sh["record_history"]["events"].empty()) << sh["record_history"];
  for (const auto& e : sh["record_history"]["events"]) {
    EXPECT_NE(e["proof"], "failed") << e;
    proven += e["proof"] == "proven";
  }
  EXPECT_GT(proven, 0) << sh["record_history"];
  ASSERT_EQ(sh["grants"]["grants"].size(), 1u);
  EXPECT_EQ(sh["grants"]["grants"][0]["approvals"].size(), 2u);
  // The sheet is hashed with SHA-256 and SM3: its text without the digests
  // (issue 30).
  const size_t cut = sheet->body.rfind(",\"digests\":");
  ASSERT_NE(cut, std::string::npos) << sheet->body;
  const std::string text = sheet->body.substr(0, cut) + "}";
  EXPECT_EQ(sh["digests"]["sha256"], Digest::Of(text).Hex());
  EXPECT_EQ(sh["digests"]["sm3"], Sm3::ToString(Sm3::Of(text)));
  EXPECT_EQ(sh["objects"][0]["cosignatures"], 0);  // this cluster has no witness
}

// A docking station reports to the node it uses; the console lists it from
// any node; a person's retry (audited) reaches the station at its next
// report, which puts the file back, and it is ingested.
TEST_F(ConsoleTest, AStationReportsItsQuarantineAndAPersonPutsAFileBack) {
  namespace fs = std::filesystem;
  Ok("arch", 0, {"device", "add", "CAM-S", "--agency", "A"});
  fs::path watch = dir_ / "station-folder";
  fs::create_directories(watch / "CAM-S");
  std::ofstream(watch / "CAM-S" / "a.mp4.json")
      << R"({"officer": "o1", "matter": 99, "start": "2026-11-27T08:00:00Z"})";
  WriteRandomFile(watch / "CAM-S" / "a.mp4", 100000, 5);
  Subprocess daemon(
      {INGESTD_PATH, "--watch", watch, "--server", nodes_[1]->address(), "--tls", dir_ / "station",
       "--station", "desk-1", "--settle", "0.3", "--poll", "0.2", "--report-interval", "0.3"},
      dir_ / "d.out", dir_ / "d.log");
  WebSignIn arch = SignIn("arch");
  json desk;
  std::string last;
  for (int i = 0; i < 100 && desk.is_null(); ++i) {
    auto r = Call(arch, "custody.v1.Records/Stations", json::object());
    last = r ? r->body : "no answer";
    json body = Body(r);
    for (const auto& s : body["stations"]) {
      if (s["station"] == "desk-1" && !s["quarantine"].empty()) desk = s;
    }
    if (desk.is_null()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_FALSE(desk.is_null()) << last << "\n" << ReadFile(dir_ / "d.log");
  EXPECT_EQ(desk["reported_by"], "user:station");
  EXPECT_EQ(desk["quarantine"][0]["file"], "CAM-S/a.mp4");
  EXPECT_TRUE(absl::StrContains(desk["quarantine"][0]["reason"].get<std::string>(), "99"))
      << desk["quarantine"][0];
  // An auditor may look, not act.
  EXPECT_EQ(Call(SignIn("aud"), "custody.v1.Records/StationRetry",
                 {{"station", "desk-1"}, {"files", {"CAM-S/a.mp4"}}})
                ->status,
            403);
  // The sidecar is mended in quarantine/; the archivist asks for the retry.
  std::ofstream(watch / "quarantine" / "CAM-S" / "a.mp4.json")
      << R"({"officer": "o1", "matter": 4, "start": "2026-11-27T08:00:00Z"})";
  auto asked = Call(arch, "custody.v1.Records/StationRetry",
                    {{"station", "desk-1"}, {"files", {"CAM-S/a.mp4"}}});
  ASSERT_TRUE(asked && asked->status == 200) << (asked ? asked->body : "");
  EXPECT_EQ(Body(asked)["nodes"], 3) << "held by every node, wherever the station reports";
  for (int i = 0; i < 150 && !fs::exists(watch / "done" / "CAM-S" / "a.mp4"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(fs::exists(watch / "done" / "CAM-S" / "a.mp4")) << ReadFile(dir_ / "d.log");
  EXPECT_TRUE(absl::StrContains(ReadFile(dir_ / "d.log"), "asked by user:arch"));
  json log = Ok("aud", 2, {"audit", "log", "--action", "station.retry-requested"});
  ASSERT_FALSE(log["events"].empty()) << log;
  EXPECT_EQ(log["events"][0]["actor"], "user:arch");
}

}  // namespace
}  // namespace custody::testing
