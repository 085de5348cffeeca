// custody-web: the web console (doc/console.md). An HTTPS server that serves
// the console's pages and scripts from its own files (no CDN: evidence
// networks are often closed), signs people in, and relays their calls to the
// cluster (client/web/node_relay.h). It never holds a person's private key:
// sign-in statements and decisions are signed in the browser.
#ifndef CUSTODY_CLIENT_WEB_CONSOLE_SERVER_H_
#define CUSTODY_CLIENT_WEB_CONSOLE_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/web/node_relay.h"
#include "client/web/sessions.h"

namespace httplib {
class SSLServer;
struct Request;
struct Response;
}  // namespace httplib

namespace custody::web {

struct ConsoleOptions {
  std::string host = "127.0.0.1";
  int port = 8443;                  // 0: any free port (see ConsoleServer::port)
  std::string cert_file, key_file;  // the console's certificate (HTTPS and its calls)
  std::string identity;             // its certificate's name, "console:NAME"
  std::string assets_dir;           // the console's pages, scripts and styles
  std::string vendor_dir;           // Chart.js (Debian's libjs-chart.js)
  std::string fonts_dir;            // a CJK font (Debian's fonts-droid-fallback)
  absl::Duration session_ttl = absl::Hours(8);
};

// Thread-safe; requests are served on the HTTP library's thread pool.
class ConsoleServer {
 public:
  ConsoleServer(ConsoleOptions options, NodeRelay* relay);
  ~ConsoleServer();

  // Binds the address; INVALID_ARGUMENT for a bad certificate or folder,
  // UNAVAILABLE when the address is taken.
  absl::Status Bind();
  int port() const { return port_; }
  // Serves until Stop().
  void Serve();
  void Stop();

 private:
  void Routes();
  void SignInRoutes();
  void ApiRoutes();
  // The request's live session, or nullopt after answering 401.
  std::optional<WebSession> SessionOf(const httplib::Request& req, httplib::Response& res);
  void Playback(const httplib::Request& req, httplib::Response& res);
  void StartSession(const std::string& user, CallerCredentials creds, absl::Time expires,
                    const httplib::Request& req, httplib::Response& res);

  ConsoleOptions options_;
  NodeRelay* relay_;
  SessionStore sessions_;
  SignInThrottle throttle_;
  std::unique_ptr<httplib::SSLServer> http_;
  int port_ = 0;
};

}  // namespace custody::web

#endif  // CUSTODY_CLIENT_WEB_CONSOLE_SERVER_H_
