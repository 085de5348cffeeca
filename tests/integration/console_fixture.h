// The web console's tests (issue 25): the records fixture's three-node TLS
// cluster and its users, and a real custody-web process in front of it,
// spoken to over HTTPS as a browser would (sign-in statements are signed
// here with the person's key, as the browser does with WebCrypto).
#ifndef CUSTODY_TESTS_INTEGRATION_CONSOLE_FIXTURE_H_
#define CUSTODY_TESTS_INTEGRATION_CONSOLE_FIXTURE_H_

#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/process.h"
#include "tests/integration/records_fixture.h"

namespace custody::testing {

// A browser's sign-in: its cookie and the CSRF token the page keeps.
struct WebSignIn {
  std::string cookie, csrf;
  std::string set_cookie;  // the whole Set-Cookie header of the sign-in
};

class ConsoleTest : public RecordsTest {
 protected:
  // Chunks of 64 KiB, so that a test's ranged reads cross chunks.
  std::vector<std::string> NodeFlags() const override {
    return {"--repair-interval", "1s", "--chunk-size", "64KiB"};
  }
  void SetUp() override;
  void TearDown() override;
  // Starts custody-web (again) with the credentials folder `tls` (under
  // the test's folder) and `flags` added.
  void StartConsole(const std::vector<std::string>& flags = {}, const std::string& tls = "console");
  std::unique_ptr<httplib::SSLClient> Client() const;
  // Signs `user` in with their certificate, as the console's page does.
  WebSignIn SignIn(const std::string& user);
  // POST /api/call/METHOD with `body`; with the session's CSRF token
  // unless `csrf` is false.
  httplib::Result Call(const WebSignIn& who, const std::string& method, const json& body,
                       bool csrf = true);
  httplib::Result Get(const WebSignIn& who, const std::string& path, const std::string& range = "");

  std::unique_ptr<Subprocess> console_;
  int port_ = 0;
};

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_INTEGRATION_CONSOLE_FIXTURE_H_
