// custody-web: the web console (doc/console.md).
#include <signal.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "client/client.h"
#include "client/web/console_server.h"
#include "common/cert_signature.h"
#include "common/files.h"
#include "common/log.h"

namespace {

custody::web::ConsoleServer* g_server = nullptr;
void OnSignal(int) {
  if (g_server) g_server->Stop();
}

struct Flags {
  std::string listen = "127.0.0.1:8443", tls_dir, session_ttl = "8h", port_file;
  std::vector<std::string> servers;
  custody::web::ConsoleOptions o;
};

int Fail(const std::string& why, int code = 2) {
  std::cerr << "custody-web: " << why << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  umask(077);
  CLI::App app{"custody-web: the web console of a custody cluster (doc/console.md)"};
  Flags f;
  f.o.assets_dir = CUSTODY_WEB_ASSETS;
  f.o.vendor_dir = "/usr/share/javascript/chart.js";
  f.o.fonts_dir = "/usr/share/fonts/truetype/droid";
  app.add_option("--listen", f.listen,
                 "HTTPS address, HOST:PORT (default 127.0.0.1:8443; port 0: any)");
  app.add_option("--server", f.servers, "custody nodes, host:port (repeat or comma-separate)")
      ->required()
      ->delimiter(',');
  app.add_option("--tls", f.tls_dir,
                 "the console's credentials (custody ca issue --console NAME --host H): its "
                 "HTTPS certificate and its certificate to the nodes")
      ->required();
  app.add_option("--assets", f.o.assets_dir, "the console's pages and scripts");
  app.add_option("--vendor", f.o.vendor_dir, "Chart.js (Debian's libjs-chart.js)");
  app.add_option("--fonts", f.o.fonts_dir,
                 "a font with Chinese characters (Debian's fonts-droid-fallback)");
  app.add_option("--session-ttl", f.session_ttl,
                 "how long a sign-in lasts (default 8h, at most 12h)");
  app.add_option("--port-file", f.port_file, "write the port served to this file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return Fail(std::string(e.what()) + " (see --help)");
  }
  std::vector<std::string> hp = absl::StrSplit(f.listen, absl::MaxSplits(':', 1));
  if (hp.size() != 2 || !absl::SimpleAtoi(hp[1], &f.o.port)) {
    return Fail("--listen wants HOST:PORT, got " + f.listen);
  }
  f.o.host = hp[0];
  if (!absl::ParseDuration(f.session_ttl, &f.o.session_ttl) ||
      f.o.session_ttl <= absl::ZeroDuration() || f.o.session_ttl > absl::Hours(12)) {
    return Fail("--session-ttl wants a duration up to 12h, such as 8h or 30m");
  }
  f.o.cert_file = f.tls_dir + "/cert.pem";
  f.o.key_file = f.tls_dir + "/key.pem";
  absl::StatusOr<std::string> cert = custody::ReadFileToString(f.o.cert_file);
  absl::StatusOr<custody::CertifiedIdentity> id =
      cert.ok() ? custody::ReadIdentity(*cert)
                : absl::StatusOr<custody::CertifiedIdentity>(cert.status());
  if (!id.ok() || id->name.rfind("console:", 0) != 0) {
    return Fail("--tls " + f.tls_dir +
                " holds no console certificate (custody ca issue --console NAME --host H)");
  }
  f.o.identity = id->name;
  if (absl::Status s = custody::CustodyClient::UseTls(f.tls_dir); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  custody::web::NodeRelay relay(f.servers);
  custody::web::ConsoleServer server(f.o, &relay);
  if (absl::Status s = server.Bind(); !s.ok()) return Fail(std::string(s.message()), 1);
  if (!f.port_file.empty()) {
    absl::Status s = custody::ReplaceFile(f.port_file, std::to_string(server.port()));
    if (!s.ok()) return Fail(std::string(s.message()), 1);
  }
  g_server = &server;
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  signal(SIGPIPE, SIG_IGN);
  LOG(INFO) << "custody-web " << f.o.identity << ": https://" << f.o.host << ":" << server.port()
            << "/ for " << f.servers.size() << " node(s)";
  server.Serve();
  LOG(INFO) << "stopped";
  return 0;
}
