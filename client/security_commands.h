// The security commands on the command line (command_set.h; see
// doc/security.md): `custody ca init|issue` (ca_cli.h, offline), `whoami`,
// `user add|list|disable` and `access request|list|approve|deny|revoke`
// (access_cli.h), `export` (export_cli.h) and `audit
// log|checkpoint|export|verify|verify-node` (audit_cli.h; verify offline).
#ifndef CUSTODY_CLIENT_SECURITY_COMMANDS_H_
#define CUSTODY_CLIENT_SECURITY_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "client/access_cli.h"
#include "client/audit_cli.h"
#include "client/ca_cli.h"
#include "client/command_set.h"
#include "client/export_cli.h"

namespace custody {

class SecurityCommands {
 public:
  // Adds the commands to `set`; their flags and actions point into this,
  // which must outlive set->Run.
  explicit SecurityCommands(CommandSet* set);
  SecurityCommands(const SecurityCommands&) = delete;
  SecurityCommands& operator=(const SecurityCommands&) = delete;

 private:
  void AddCa(CLI::App* app);
  void AddUsers(CLI::App* app);
  void AddAccess(CLI::App* app);
  void AddExport(CLI::App* app);
  void AddAudit(CLI::App* app);
  // audit verify: offline, checks a bundle (and the object's bytes).
  void AddAuditVerify(CLI::App* audit);

  CommandSet* set_;
  CaArgs ca_;
  AccessArgs access_;
  ExportArgs export_;
  AuditArgs audit_;
};

}  // namespace custody

#endif  // CUSTODY_CLIENT_SECURITY_COMMANDS_H_
