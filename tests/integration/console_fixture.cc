#include "tests/integration/console_fixture.h"

#include <chrono>
#include <thread>

#include "absl/strings/escaping.h"
#include "common/cert_signature.h"
#include "tests/test_util.h"

namespace custody::testing {

void ConsoleTest::SetUp() {
  RecordsTest::SetUp();
  CliResult issued = RunCli({"ca", "issue", "--ca", dir_ / "ca", "--console", "front", "--host",
                             "127.0.0.1", "-o", dir_ / "console"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  StartConsole();
}

void ConsoleTest::TearDown() {
  console_.reset();
  RecordsTest::TearDown();
}

void ConsoleTest::StartConsole(const std::vector<std::string>& flags, const std::string& tls) {
  console_.reset();
  std::string servers;
  for (const auto& n : nodes_) servers += (servers.empty() ? "" : ",") + n->address();
  std::string port_file = dir_ / "console.port";
  std::remove(port_file.c_str());
  std::vector<std::string> argv = {CUSTODY_WEB_PATH, "--listen", "127.0.0.1:0", "--server", servers,
                                   "--tls",          dir_ / tls, "--port-file", port_file};
  argv.insert(argv.end(), flags.begin(), flags.end());
  console_ = std::make_unique<Subprocess>(argv, dir_ / "web.out", dir_ / "web.log");
  for (int i = 0; i < 100 && ReadFile(port_file).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  port_ = std::atoi(ReadFile(port_file).c_str());
  ASSERT_GT(port_, 0) << ReadFile(dir_ / "web.log");
}

std::unique_ptr<httplib::SSLClient> ConsoleTest::Client() const {
  auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
  c->set_ca_cert_path((dir_ / "ca/ca.pem").c_str());
  c->enable_server_certificate_verification(true);
  c->set_read_timeout(30, 0);
  return c;
}

WebSignIn ConsoleTest::SignIn(const std::string& user) {
  const std::string cert = ReadFile(dir_ / (user + "/cert.pem"));
  auto c = Client();
  auto challenge =
      c->Post("/api/signin/challenge", json{{"certificate_pem", cert}}.dump(), "application/json");
  EXPECT_TRUE(challenge && challenge->status == 200) << (challenge ? challenge->body : "no answer");
  if (!challenge || challenge->status != 200) return {};
  std::string statement = json::parse(challenge->body)["statement"];
  absl::StatusOr<std::string> sig = SignWithKey(ReadFile(dir_ / (user + "/key.pem")), statement);
  EXPECT_TRUE(sig.ok()) << sig.status();
  auto r = c->Post("/api/signin/certificate",
                   json{{"statement", statement},
                        {"signature", absl::Base64Escape(sig.ok() ? *sig : "")},
                        {"certificate_pem", cert}}
                       .dump(),
                   "application/json");
  EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  if (!r || r->status != 200) return {};
  std::string set = r->get_header_value("Set-Cookie");
  return {set.substr(0, set.find(';')), json::parse(r->body)["csrf"], set};
}

httplib::Result ConsoleTest::Call(const WebSignIn& who, const std::string& method, const json& body,
                                  bool csrf) {
  httplib::Headers h = {{"Cookie", who.cookie}};
  if (csrf) h.emplace("X-CSRF-Token", who.csrf);
  return Client()->Post(("/api/call/" + method).c_str(), h, body.dump(), "application/json");
}

httplib::Result ConsoleTest::Get(const WebSignIn& who, const std::string& path,
                                 const std::string& range) {
  httplib::Headers h = {{"Cookie", who.cookie}};
  if (!range.empty()) h.emplace("Range", range);
  return Client()->Get(path.c_str(), h);
}

}  // namespace custody::testing
