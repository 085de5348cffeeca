// `custody ca init|issue`: the cluster's certificate authority, offline (no
// node involved). See doc/security.md.
#ifndef CUSTODY_CLIENT_CA_CLI_H_
#define CUSTODY_CLIENT_CA_CLI_H_

#include <string>
#include <vector>

namespace custody {

struct CaArgs {
  std::string ca_dir;               // the CA folder
  std::string name = "cluster";     // init: the CA's name
  std::string node, user, console;  // issue: exactly one
  std::vector<std::string> hosts;   // issue --node/--console: DNS names or IPs
  std::vector<std::string> roles;   // issue --user: roles, agency, clearance
  std::string agency, clearance;
  std::string out;  // issue: the credentials folder to create
  int days = 825;
};

// Each returns the exit code: 0, or 1 after printing why.
// With `as_json`, one JSON document instead of the sentence.
int CaInitCommand(const CaArgs& args, bool as_json);
int CaIssueCommand(const CaArgs& args, bool as_json);

}  // namespace custody

#endif  // CUSTODY_CLIENT_CA_CLI_H_
