// `custody whoami`, `custody user add|list|disable` and `custody access
// request|list|approve|deny|revoke` (doc/security.md).
#ifndef CUSTODY_CLIENT_ACCESS_CLI_H_
#define CUSTODY_CLIENT_ACCESS_CLI_H_

#include <string>
#include <vector>

namespace custody {

struct AccessArgs {
  std::string server;
  bool json = false;
  std::string name, agency, clearance, reason, purpose = "view", object, request;
  std::vector<std::string> roles;
  std::string duration = "24h";  // access request --for
  std::string record;            // access request|list --record
  bool waiting_for_me = false;   // access list: the approver's inbox
};

// Each returns the exit code: 0, or 1 after printing why.
int WhoAmICommand(const AccessArgs& a);
int UserAddCommand(const AccessArgs& a);
int UserListCommand(const AccessArgs& a);
int UserDisableCommand(const AccessArgs& a);
int AccessRequestCommand(const AccessArgs& a);
int AccessListCommand(const AccessArgs& a);
int AccessDecideCommand(const AccessArgs& a, bool approve);
int AccessRevokeCommand(const AccessArgs& a);

}  // namespace custody

#endif  // CUSTODY_CLIENT_ACCESS_CLI_H_
