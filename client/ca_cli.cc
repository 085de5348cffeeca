#include "client/ca_cli.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/cli_errors.h"
#include "common/certificates.h"
#include "common/roles.h"

namespace custody {

int CaInitCommand(const CaArgs& a, bool as_json) {
  absl::Status s = CreateCa(a.ca_dir, a.name);
  if (!s.ok()) return PrintFailure(s);
  if (as_json) {
    std::cout << nlohmann::ordered_json{{"ca", a.ca_dir},
                                        {"name", a.name},
                                        {"certificate", a.ca_dir + "/" + kCaCertFile},
                                        {"private_key", a.ca_dir + "/" + kCaKeyFile}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::cout << "created CA \"" << a.name << "\" in " << a.ca_dir << ": keep " << a.ca_dir << "/"
            << kCaKeyFile << " offline and private; " << kCaCertFile
            << " is what nodes and clients trust\n";
  return 0;
}

int CaIssueCommand(const CaArgs& a, bool as_json) {
  if (!a.node.empty() + !a.user.empty() + !a.console.empty() != 1) {
    return PrintFailure(
        UsageError("custody ca issue needs one of --node ID, --user NAME or --console NAME"));
  }
  CertificateRequest r;
  r.node = !a.node.empty();
  r.console = !a.console.empty();
  r.name = r.node ? a.node : r.console ? a.console : a.user;
  r.hosts = a.hosts;
  r.roles = a.roles;
  r.agency = a.agency;
  r.clearance = a.clearance;
  if ((r.node || r.console) && (!r.roles.empty() || !r.agency.empty() || !r.clearance.empty())) {
    return PrintFailure(UsageError("--role, --agency and --clearance are for users"));
  }
  for (const std::string& role : r.roles) {
    if (!IsRole(role)) {
      return PrintFailure(UsageError(absl::StrCat("unknown role \"", role, "\"")));
    }
  }
  if (!r.clearance.empty() && LevelRank(r.clearance) < 0) {
    return PrintFailure(UsageError(absl::StrCat("unknown clearance \"", r.clearance, "\"")));
  }
  r.days = a.days;
  std::string out = a.out.empty() ? r.name : a.out;
  absl::Status s = IssueCertificate(a.ca_dir, r, out);
  if (!s.ok()) return PrintFailure(s);
  if (as_json) {
    std::cout << nlohmann::ordered_json{{"identity", IdentityOf(r)},
                                        {"folder", out},
                                        {"files", {kCaCertFile, kCertFile, kKeyFile}}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::cout << "issued " << IdentityOf(r) << " into " << out << " (" << kCaCertFile << ", "
            << kCertFile << ", " << kKeyFile << "); use it with --tls " << out << "\n";
  return 0;
}

}  // namespace custody
