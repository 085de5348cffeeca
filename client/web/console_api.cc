// The console's sign-in, relay and playback routes (doc/console.md).
#include <httplib.h>
#include <openssl/crypto.h>

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/web/console_server.h"
#include "client/web/custody_sheet.h"
#include "client/web/http_status.h"
#include "client/web/register_proofs.h"
#include "common/cert_signature.h"
#include "common/log.h"
#include "common/random.h"
#include "common/session_statement.h"
#include "custody/v1/access.pb.h"

namespace custody::web {
namespace {

using json = nlohmann::json;

void Fail(httplib::Response& res, const absl::Status& s) {
  res.status = HttpStatusOf(s);
  res.set_content(ErrorJson(s), "application/json");
}

// The request's JSON body, or nullopt after answering 400.
std::optional<json> Body(const httplib::Request& req, httplib::Response& res) {
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    Fail(res, absl::InvalidArgumentError("the request body is not a JSON object"));
    return std::nullopt;
  }
  return j;
}

// Compares in time that does not depend on where the strings differ.
bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ValidPlayback(const std::string& p) {
  if (p.empty() || p.size() > 64) return false;
  for (char c : p) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

// Whether every range of a Range header starts inside an object of `size`
// bytes (RFC 9110 14.1.1; a suffix range asks for its last bytes).
bool Satisfiable(const httplib::Ranges& ranges, uint64_t size) {
  for (const auto& [first, last] : ranges) {
    if (first < 0 ? last <= 0
                  : static_cast<uint64_t>(first) >= size || (last >= 0 && last < first)) {
      return false;
    }
  }
  return true;
}

}  // namespace

void ConsoleServer::StartSession(const std::string& user, CallerCredentials creds,
                                 absl::Time expires, const httplib::Request& req,
                                 httplib::Response& res) {
  absl::StatusOr<std::string> who = relay_->CallJson("custody.v1.Access/WhoAmI", "{}", creds);
  if (!who.ok()) {
    throttle_.Failed(req.remote_addr, absl::Now());
    LOG(WARNING) << "console: sign-in of " << (user.empty() ? "a token" : user) << " from "
                 << req.remote_addr << " refused: " << who.status();
    return Fail(res, who.status());
  }
  json principal = json::parse(*who, nullptr, false);
  absl::StatusOr<WebSession> s =
      sessions_.Create(principal.value("name", user), *who, std::move(creds), expires);
  if (!s.ok()) return Fail(res, s.status());
  int64_t max_age = std::max<int64_t>(1, absl::ToInt64Seconds(expires - absl::Now()));
  res.set_header("Set-Cookie", absl::StrCat("custody_session=", s->id, "; Path=/; Max-Age=",
                                            max_age, "; HttpOnly; Secure; SameSite=Strict"));
  res.set_content(
      json{{"user", s->user},
           {"principal", principal},
           {"csrf", s->csrf},
           {"expires", absl::FormatTime(absl::RFC3339_sec, s->expires, absl::UTCTimeZone())}}
          .dump(),
      "application/json");
}

void ConsoleServer::SignInRoutes() {
  // The statement the browser will sign: the console proposes it, the
  // person sees it, their browser signs it with their key.
  http_->Post("/api/signin/challenge", [this](const httplib::Request& req, httplib::Response& res) {
    std::optional<json> b = Body(req, res);
    if (!b) return;
    absl::StatusOr<CertifiedIdentity> id = ReadIdentity(b->value("certificate_pem", ""));
    if (!id.ok()) return Fail(res, absl::InvalidArgumentError(id.status().message()));
    absl::StatusOr<std::string> nonce = RandomHex(16, "a sign-in nonce");
    if (!nonce.ok()) return Fail(res, nonce.status());
    SessionStatement st;
    st.user = id->name;
    st.relay = options_.identity;
    st.issued = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
    st.expires = st.issued + std::min(options_.session_ttl, SessionStatement::kMaxSession);
    st.nonce = *nonce;
    res.set_content(json{{"statement", st.ToText()}}.dump(), "application/json");
  });
  http_->Post(
      "/api/signin/certificate", [this](const httplib::Request& req, httplib::Response& res) {
        if (!throttle_.Allowed(req.remote_addr, absl::Now())) {
          return Fail(res, absl::ResourceExhaustedError(
                               "too many failed sign-ins from this address: wait 10 minutes"));
        }
        std::optional<json> b = Body(req, res);
        if (!b) return;
        v1::SessionAssertion a;
        a.set_statement(b->value("statement", ""));
        a.set_certificate_pem(b->value("certificate_pem", ""));
        std::string sig;
        if (!absl::Base64Unescape(b->value("signature", ""), &sig)) {
          return Fail(res, absl::InvalidArgumentError("the signature is not base64"));
        }
        a.set_signature(sig);
        absl::StatusOr<SessionStatement> st = SessionStatement::Parse(a.statement());
        if (!st.ok()) return Fail(res, st.status());
        if (st->relay != options_.identity || absl::Now() - st->issued > absl::Minutes(5)) {
          return Fail(res, absl::PermissionDeniedError(
                               "the signed statement is not this console's, or is older than 5 "
                               "minutes: sign in again"));
        }
        StartSession(st->user, {a.SerializeAsString(), ""}, st->expires, req, res);
      });
  http_->Post("/api/signin/token", [this](const httplib::Request& req, httplib::Response& res) {
    if (!throttle_.Allowed(req.remote_addr, absl::Now())) {
      return Fail(res, absl::ResourceExhaustedError(
                           "too many failed sign-ins from this address: wait 10 minutes"));
    }
    std::optional<json> b = Body(req, res);
    if (!b) return;
    std::string token = b->value("token", "");
    if (token.empty()) return Fail(res, absl::InvalidArgumentError("no token"));
    StartSession("", {"", token}, absl::Now() + options_.session_ttl, req, res);
  });
}

void ConsoleServer::ApiRoutes() {
  http_->Get("/api/session", [this](const httplib::Request& req, httplib::Response& res) {
    std::optional<WebSession> s = SessionOf(req, res);
    if (!s) return;
    res.set_content(
        json{{"user", s->user},
             {"principal", json::parse(s->principal, nullptr, false)},
             {"csrf", s->csrf},
             {"expires", absl::FormatTime(absl::RFC3339_sec, s->expires, absl::UTCTimeZone())}}
            .dump(),
        "application/json");
  });
  http_->Post("/api/signout", [this](const httplib::Request& req, httplib::Response& res) {
    std::optional<WebSession> s = SessionOf(req, res);
    if (!s) return;
    if (!SameSecret(req.get_header_value("X-CSRF-Token"), s->csrf)) {
      return Fail(res, absl::PermissionDeniedError("missing or wrong CSRF token (X-CSRF-Token)"));
    }
    sessions_.Remove(s->id);
    res.set_header("Set-Cookie",
                   "custody_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
    res.set_content("{}", "application/json");
  });
  http_->Post(R"(/api/call/([A-Za-z0-9_.]+/[A-Za-z]+))", [this](const httplib::Request& req,
                                                                httplib::Response& res) {
    std::optional<WebSession> s = SessionOf(req, res);
    if (!s) return;
    if (!SameSecret(req.get_header_value("X-CSRF-Token"), s->csrf)) {
      LOG(WARNING) << "console: " << req.path << " for " << s->user
                   << " without its CSRF token, refused";
      return Fail(res,
                  absl::PermissionDeniedError("missing or wrong CSRF token (X-CSRF-Token): reload "
                                              "the page"));
    }
    absl::StatusOr<std::string> out = relay_->CallJson(req.matches[1], req.body, s->credentials);
    if (!out.ok()) return Fail(res, out.status());
    res.set_content(*out, "application/json");
  });
  http_->Post("/api/register", [this](const httplib::Request& req, httplib::Response& res) {
    std::optional<WebSession> s = SessionOf(req, res);
    if (!s) return;
    if (!SameSecret(req.get_header_value("X-CSRF-Token"), s->csrf)) {
      return Fail(res, absl::PermissionDeniedError("missing or wrong CSRF token (X-CSRF-Token)"));
    }
    absl::StatusOr<std::string> out = ProvenRegister(relay_, req.body, s->credentials);
    if (!out.ok()) return Fail(res, out.status());
    res.set_content(*out, "application/json");
  });
  http_->Get(R"(/api/records/([A-Za-z0-9._-]+)/sheet)", [this](const httplib::Request& req,
                                                               httplib::Response& res) {
    std::optional<WebSession> s = SessionOf(req, res);
    if (!s) return;
    absl::StatusOr<std::string> sheet = CustodySheet(relay_, req.matches[1], s->credentials);
    if (!sheet.ok()) return Fail(res, sheet.status());
    res.set_content(*sheet, "application/json");
  });
  http_->Get(R"(/api/objects/(sha256:[0-9a-f]{64})/content)",
             [this](const httplib::Request& req, httplib::Response& res) { Playback(req, res); });
}

// A ranged read for the browser's <video>: the grant is checked (and the
// viewing recorded, once per playback) before any header goes out, so a
// refusal is a proper 403 with the node's message.
void ConsoleServer::Playback(const httplib::Request& req, httplib::Response& res) {
  // httplib applies the request's Range to whatever the answer is, a
  // refusal's message included (it was cut to the range's bytes): the ranges
  // are kept aside until the object's bytes are the answer. The request is
  // the server's own non-const object.
  httplib::Ranges& ranges = const_cast<httplib::Request&>(req).ranges;
  const httplib::Ranges asked = std::exchange(ranges, {});
  std::optional<WebSession> s = SessionOf(req, res);
  if (!s) return;
  const std::string id = req.matches[1];
  const std::string playback = req.get_param_value("playback");
  if (!ValidPlayback(playback)) {
    return Fail(res, absl::InvalidArgumentError("?playback= wants 1-64 of [A-Za-z0-9-]"));
  }
  absl::StatusOr<std::string> stat =
      relay_->CallJson("custody.v1.Custody/Stat", json{{"id", id}}.dump(), s->credentials);
  if (!stat.ok()) return Fail(res, stat.status());
  json info = json::parse(*stat, nullptr, false);
  uint64_t size = std::stoull(info.value("size", std::string("0")));
  v1::ObjectInfo got;
  absl::Status allowed = relay_->Read(id, size, 0, playback, s->credentials, &got,
                                      [](const char*, size_t) { return true; });
  if (!allowed.ok()) return Fail(res, allowed);
  if (!Satisfiable(asked, size)) {
    Fail(res, absl::OutOfRangeError(
                  absl::StrCat("the range asked for is outside ", id, " (", size, " bytes)")));
    res.status = 416;
    res.set_header("Content-Range", absl::StrCat("bytes */", size));
    return;
  }
  ranges = asked;
  std::string media = info.value("media_type", "");
  res.set_header("Cache-Control", "no-store");
  res.set_content_provider(
      size, media.empty() ? "application/octet-stream" : media,
      [this, id, playback, creds = s->credentials](size_t offset, size_t length,
                                                   httplib::DataSink& sink) {
        v1::ObjectInfo ignored;
        absl::Status read = relay_->Read(id, offset, length, playback, creds, &ignored,
                                         [&](const char* d, size_t n) { return sink.write(d, n); });
        if (!read.ok() && !absl::IsCancelled(read)) {
          LOG(WARNING) << "console: playback of " << id << " stopped: " << read;
        }
        return read.ok();
      });
}

}  // namespace custody::web
