#include "client/web/sessions.h"

#include "common/random.h"
#include "common/status_macros.h"

namespace custody::web {

absl::StatusOr<WebSession> SessionStore::Create(const std::string& user,
                                                const std::string& principal,
                                                CallerCredentials credentials, absl::Time expires) {
  WebSession s;
  ASSIGN_OR_RETURN(s.id, RandomHex(32, "a session id"));
  ASSIGN_OR_RETURN(s.csrf, RandomHex(16, "a CSRF token"));
  s.user = user;
  s.principal = principal;
  s.credentials = std::move(credentials);
  s.expires = expires;
  absl::MutexLock l(&mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {  // forget ended ones
    it = it->second.expires <= absl::Now() ? sessions_.erase(it) : std::next(it);
  }
  sessions_[s.id] = s;
  return s;
}

std::optional<WebSession> SessionStore::Find(const std::string& id, absl::Time now) {
  absl::MutexLock l(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::Remove(const std::string& id) {
  absl::MutexLock l(&mu_);
  sessions_.erase(id);
}

bool SignInThrottle::Allowed(const std::string& address, absl::Time now) {
  absl::MutexLock l(&mu_);
  auto it = counts_.find(address);
  if (it == counts_.end()) return true;
  if (it->second.since + kWindow <= now) {
    counts_.erase(it);
    return true;
  }
  return it->second.failures < kFailures;
}

void SignInThrottle::Failed(const std::string& address, absl::Time now) {
  absl::MutexLock l(&mu_);
  Count& c = counts_[address];
  if (c.failures == 0 || c.since + kWindow <= now) c = {0, now};
  ++c.failures;
}

}  // namespace custody::web
