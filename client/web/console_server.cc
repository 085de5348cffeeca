#include "client/web/console_server.h"

#include <httplib.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/web/http_status.h"
#include "common/files.h"
#include "common/log.h"

namespace custody::web {
namespace {

// No inline script or style, nothing from elsewhere, no framing.
constexpr char kCsp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

}  // namespace

ConsoleServer::ConsoleServer(ConsoleOptions options, NodeRelay* relay)
    : options_(std::move(options)), relay_(relay) {}

ConsoleServer::~ConsoleServer() = default;

absl::Status ConsoleServer::Bind() {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options_.assets_dir + "/index.html", ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--assets ", options_.assets_dir, " holds no index.html"));
  }
  http_ =
      std::make_unique<httplib::SSLServer>(options_.cert_file.c_str(), options_.key_file.c_str());
  if (!http_->is_valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot serve HTTPS with ", options_.cert_file, " and ", options_.key_file));
  }
  http_->set_default_headers({{"Content-Security-Policy", kCsp},
                              {"X-Content-Type-Options", "nosniff"},
                              {"X-Frame-Options", "DENY"},
                              {"Referrer-Policy", "no-referrer"},
                              {"Strict-Transport-Security", "max-age=31536000"}});
  http_->set_payload_max_length(1 << 20);  // requests are small JSON; nothing is uploaded here
  Routes();
  port_ = options_.port == 0
              ? http_->bind_to_any_port(options_.host)
              : (http_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.host, ":", options_.port));
  }
  return absl::OkStatus();
}

void ConsoleServer::Serve() { http_->listen_after_bind(); }

void ConsoleServer::Stop() {
  if (http_) http_->stop();
}

void ConsoleServer::Routes() {
  http_->set_mount_point("/assets", options_.assets_dir);
  if (!options_.vendor_dir.empty()) http_->set_mount_point("/vendor", options_.vendor_dir);
  if (!options_.fonts_dir.empty()) http_->set_mount_point("/fonts", options_.fonts_dir);
  http_->Get("/", [this](const httplib::Request&, httplib::Response& res) {
    absl::StatusOr<std::string> page = ReadFileToString(options_.assets_dir + "/index.html");
    if (!page.ok()) {
      res.status = 500;
      return res.set_content(ErrorJson(page.status()), "application/json");
    }
    res.set_content(*page, "text/html; charset=utf-8");
  });
  http_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_content(ErrorJson(absl::Status(res.status == 404 ? absl::StatusCode::kNotFound
                                                             : absl::StatusCode::kUnknown,
                                           absl::StrCat("HTTP ", res.status))),
                    "application/json");
  });
  http_->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        LOG(ERROR) << "console: " << req.path << " failed";
        res.status = 500;
        res.set_content(ErrorJson(absl::InternalError("the console failed on this request")),
                        "application/json");
      });
  SignInRoutes();
  ApiRoutes();
}

std::optional<WebSession> ConsoleServer::SessionOf(const httplib::Request& req,
                                                   httplib::Response& res) {
  std::string id;
  for (absl::string_view c : absl::StrSplit(req.get_header_value("Cookie"), ';')) {
    c = absl::StripAsciiWhitespace(c);
    if (absl::ConsumePrefix(&c, "custody_session=")) id = std::string(c);
  }
  std::optional<WebSession> s = id.empty() ? std::nullopt : sessions_.Find(id, absl::Now());
  if (!s) {
    res.status = 401;
    res.set_content(ErrorJson(absl::UnauthenticatedError(
                        id.empty() ? "not signed in" : "the session has ended: sign in again")),
                    "application/json");
  }
  return s;
}

}  // namespace custody::web
