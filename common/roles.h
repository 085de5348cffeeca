// The roles a principal may hold and the classification levels, shared by
// the node (server/security/principals.h) and the tools that issue identities.
#ifndef CUSTODY_COMMON_ROLES_H_
#define CUSTODY_COMMON_ROLES_H_

#include <string>

namespace custody {

// "device": a camera that streams live (doc/live.md): it appends to its own
// live uploads and does nothing else.
inline const char* const kRoles[] = {"ingest", "officer", "archivist", "archive-head",
                                     "leader", "auditor", "admin",     "device"};
inline bool IsRole(const std::string& role) {
  for (const char* r : kRoles) {
    if (role == r) return true;
  }
  return false;
}

// Classification levels, lowest first.
inline const char* const kLevels[] = {"public", "internal", "privacy", "trade-secret",
                                      "state-secret"};
// 0.. for a level, -1 if unknown.
inline int LevelRank(const std::string& level) {
  for (int i = 0; i < 5; ++i) {
    if (level == kLevels[i]) return i;
  }
  return -1;
}

}  // namespace custody

#endif  // CUSTODY_COMMON_ROLES_H_
