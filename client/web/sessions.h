// The web console's sign-in sessions (doc/console.md). A session is a random
// id in an HttpOnly, Secure, SameSite=Strict cookie; the console keeps, per
// session, the person's credentials to relay (their signed session statement,
// or their token), a CSRF token every state change must carry, and the time
// it ends. Nothing is written to disk: a restarted console signs everyone out.
#ifndef CUSTODY_CLIENT_WEB_SESSIONS_H_
#define CUSTODY_CLIENT_WEB_SESSIONS_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/web/node_relay.h"

namespace custody::web {

struct WebSession {
  std::string id;         // the cookie's value: 256 random bits, hex
  std::string csrf;       // 128 random bits, hex
  std::string user;       // "user:alice"
  std::string principal;  // the node's WhoAmI answer, JSON
  CallerCredentials credentials;
  absl::Time expires;
};

// Thread-safe.
class SessionStore {
 public:
  // A new session for `user` until `expires`.
  absl::StatusOr<WebSession> Create(const std::string& user, const std::string& principal,
                                    CallerCredentials credentials, absl::Time expires);
  // The live session of cookie value `id`; an expired one is forgotten.
  std::optional<WebSession> Find(const std::string& id, absl::Time now);
  void Remove(const std::string& id);

 private:
  absl::Mutex mu_;
  std::map<std::string, WebSession> sessions_ ABSL_GUARDED_BY(mu_);
};

// Sign-in attempts per address: after kFailures failures within kWindow the
// address is refused until the window has passed. Thread-safe.
class SignInThrottle {
 public:
  static constexpr int kFailures = 10;
  static constexpr absl::Duration kWindow = absl::Minutes(10);
  bool Allowed(const std::string& address, absl::Time now);
  void Failed(const std::string& address, absl::Time now);

 private:
  struct Count {
    int failures = 0;
    absl::Time since;
  };
  absl::Mutex mu_;
  std::map<std::string, Count> counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custody::web

#endif  // CUSTODY_CLIENT_WEB_SESSIONS_H_
