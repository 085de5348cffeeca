// The access state's part of the ledger fold (server/security/ledger_fold.h):
// users an admin added or disabled ("user:NAME" groups) and access requests
// with their decisions ("request:ID", ID the hex id of the access.requested
// entry). An access decision counts only if its signer was not disabled
// before it, so a user's disabling refolds the requests that user decided.
#ifndef CUSTODY_SERVER_SECURITY_ACCESS_FOLD_H_
#define CUSTODY_SERVER_SECURITY_ACCESS_FOLD_H_

#include <map>
#include <string>
#include <vector>

#include "server/security/ledger_fold.h"

namespace custody {

class Ledger;

// Derived keys (doc/ledger_fold.md).
inline constexpr char kTokenKeys[] = "tk/";  // tk/<token sha256 hex>\0<order><group> -> name
// gq/<requester>\0<purpose>\0<object id or "record:ID">\0<request id> -> ""
inline constexpr char kRequesterKeys[] = "gq/";
inline constexpr char kDeciderKeys[] = "ds/";  // ds/<user group>\0<order><group> -> group

// The group of the user who signs as `name` ("user:alice", "local-operator").
std::string UserGroupOf(const std::string& name);

// Thread-safe.
class AccessRules : public FoldRules {
 public:
  // Decisions are checked with `ledger`'s verifier.
  explicit AccessRules(const Ledger* ledger) : ledger_(ledger) {}

  std::vector<std::string> Prefixes() const override { return {"user:", "request:"}; }
  std::string GroupOf(const Digest& id, const v1::LedgerEntry& e) const override;
  absl::Status Apply(const Digest& id, const std::string& key, const v1::LedgerEntry& e,
                     FoldReader* reader, internal::v1::FoldGroup* g) const override;
  void Derived(const std::string& group, const internal::v1::FoldGroup& g,
               std::map<std::string, std::string>* out) const override;
  absl::StatusOr<std::vector<std::string>> Dependents(const std::string& group,
                                                      const internal::v1::FoldGroup& before,
                                                      const internal::v1::FoldGroup& after,
                                                      FoldReader* reader) const override;

 private:
  absl::Status ApplyUser(const std::string& key, const v1::LedgerEntry& e,
                         internal::v1::FoldGroup* g) const;
  absl::Status ApplyRequest(const Digest& id, const std::string& key, const v1::LedgerEntry& e,
                            FoldReader* reader, internal::v1::FoldGroup* g) const;

  const Ledger* ledger_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SECURITY_ACCESS_FOLD_H_
