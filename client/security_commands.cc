#include "client/security_commands.h"

#include "common/roles.h"

namespace custody {

SecurityCommands::SecurityCommands(CommandSet* set) : set_(set) {
  AddCa(set->app());
  AddUsers(set->app());
  AddAccess(set->app());
  AddExport(set->app());
  AddAudit(set->app());
}

void SecurityCommands::AddCa(CLI::App* app) {
  CLI::App* ca = set_->AddGroup(app, "ca", "the cluster's certificate authority (offline)");
  CLI::App* init =
      set_->AddOffline(ca, "init", "create a CA in a new folder",
                       [this](const CliGlobals& g) { return CaInitCommand(ca_, g.json); });
  set_->AddJsonFlag(init);
  init->add_option("DIR", ca_.ca_dir)->required();
  init->add_option("--name", ca_.name, "the CA's name (default: cluster)");
  CLI::App* issue =
      set_->AddOffline(ca, "issue", "issue a node's, a user's or a web console's certificate",
                       [this](const CliGlobals& g) { return CaIssueCommand(ca_, g.json); });
  set_->AddJsonFlag(issue);
  issue->add_option("--ca", ca_.ca_dir, "the CA folder")->required();
  issue->add_option("--node", ca_.node, "a node id (server and client certificate)");
  issue->add_option("--user", ca_.user, "a user or daemon name (client certificate)");
  issue->add_option("--console", ca_.console,
                    "a web console's name (custody-web: server and client certificate)");
  issue->add_option("--host", ca_.hosts, "a node's or console's host name or IP (repeatable)");
  issue->add_option("-o,--output", ca_.out, "credentials folder to create (default: the name)");
  issue->add_option("--days", ca_.days, "validity (default 825)")->check(CLI::Range(1, 3650));
  issue->add_option("--role", ca_.roles,
                    "a user's role (repeatable): ingest officer archivist "
                    "archive-head leader auditor admin");
  issue->add_option("--agency", ca_.agency, "a user's agency");
  issue->add_option("--clearance", ca_.clearance,
                    "a user's clearance: public internal privacy trade-secret state-secret");
}

void SecurityCommands::AddUsers(CLI::App* app) {
  CLI::App* whoami = set_->Add(app, "whoami", "who the node takes you for: roles, agency",
                               WithGlobals(&access_, WhoAmICommand));
  CLI::App* user = set_->AddGroup(app, "user", "users with tokens (admin)");
  CLI::App* add = set_->Add(user, "add", "add a user; prints its token once",
                            WithGlobals(&access_, UserAddCommand));
  add->add_option("NAME", access_.name)->required();
  add->add_option("--role", access_.roles, "a role (repeatable)")
      ->required()
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(kRoles), std::end(kRoles))));
  add->add_option("--agency", access_.agency, "the user's agency");
  add->add_option("--clearance", access_.clearance,
                  "public internal privacy trade-secret state-secret");
  CLI::App* list = set_->Add(user, "list", "every user", WithGlobals(&access_, UserListCommand));
  CLI::App* disable = set_->Add(user, "disable", "refuse a user from now on",
                                WithGlobals(&access_, UserDisableCommand));
  disable->add_option("NAME", access_.name)->required();
  disable->add_option("--reason", access_.reason, "why")->required();
  for (CLI::App* c : {whoami, add, list, disable}) set_->AddJsonFlag(c);
}

void SecurityCommands::AddAccess(CLI::App* app) {
  CLI::App* access = set_->AddGroup(app, "access", "access grants: request, approve, revoke");
  CLI::App* request =
      set_->Add(access, "request", "ask to view (or export) an object, or a whole record",
                WithGlobals(&access_, AccessRequestCommand));
  CLI::Option* object = request->add_option("ID", access_.object, "the object (sha256:...)");
  CLI::Option* record = request->add_option(
      "--record", access_.record,
      "every object of this record, and those attached while the grant lives (id, start of "
      "one, or archive number)");
  object->excludes(record);
  request->callback([object, record] {
    if (object->count() + record->count() == 0) {
      throw CLI::ValidationError("access request", "name an object ID or --record REC");
    }
  });
  request->add_option("--reason", access_.reason, "why you need it")->required();
  request->add_option("--purpose", access_.purpose, "view (default) or export");
  request->add_option("--for", access_.duration,
                      "how long the grant lives once approved (default 24h)");
  CLI::App* list = set_->Add(access, "list", "requests and grants you may see",
                             WithGlobals(&access_, AccessListCommand));
  list->add_option("--object", access_.object, "only this object");
  list->add_option("--record", access_.record, "only grants for this whole record");
  list->add_flag("--waiting-for-me", access_.waiting_for_me,
                 "only pending requests you may approve now (your inbox)");
  CLI::App* approve = set_->Add(
      access, "approve", "approve a request (archive-head, leader)",
      WithGlobals(&access_, [](const AccessArgs& a) { return AccessDecideCommand(a, true); }));
  CLI::App* deny = set_->Add(
      access, "deny", "deny a request",
      WithGlobals(&access_, [](const AccessArgs& a) { return AccessDecideCommand(a, false); }));
  CLI::App* revoke = set_->Add(access, "revoke", "end a grant or a pending request",
                               WithGlobals(&access_, AccessRevokeCommand));
  for (CLI::App* c : {approve, deny, revoke}) {
    c->add_option("REQUEST", access_.request, "its id, or the start of it as access list prints")
        ->required();
    c->add_option("--reason", access_.reason, c == revoke ? "why (required)" : "a note");
  }
  for (CLI::App* c : {request, list, approve, deny, revoke}) set_->AddJsonFlag(c);
}

void SecurityCommands::AddExport(CLI::App* app) {
  CLI::App* exp =
      set_->Add(app, "export",
                "hand an object out: its bytes, manifest and audit bundle, with an export grant",
                WithGlobals(&export_, ExportCommand));
  exp->add_option("ID", export_.id)->required();
  exp->add_option("-o,--output", export_.out, "a new folder")->required();
  set_->AddJsonFlag(exp);
}

void SecurityCommands::AddAudit(CLI::App* app) {
  CLI::App* audit = set_->AddGroup(app, "audit", "the tamper-evident audit trail");
  CLI::App* log =
      set_->Add(audit, "log", "a subject's history, or the register (who did what, when)",
                WithGlobals(&audit_, AuditLogCommand));
  log->add_option("ID", audit_.id,
                  "object id (or \"node\", \"record:REC\", \"upload:ID\"...); none: the "
                  "register across subjects");
  log->add_option("--actor", audit_.actor, "only events by this actor (user:NAME)");
  log->add_option("--action", audit_.action,
                  "only this action (object.read), or a family ending in a dot (access.)");
  AddTimeRange(log, {"--from", &audit_.from, "only events from"},
               {"--to", &audit_.to, "only events before"});
  log->add_option("--limit", audit_.limit, "at most this many events per node (default 10000)");
  CLI::App* witness =
      set_->Add(audit, "witness",
                "who the witness at --server is: its name, its key (for audit verify "
                "--witness-key) and the logs it cosigns (doc/witness.md)",
                WithGlobals(&audit_, AuditWitnessCommand));
  witness->add_flag("--key-only", audit_.key_only, "print its PEM key alone, to save as a file");
  set_->AddJsonFlag(witness);
  CLI::App* checkpoint = set_->Add(audit, "checkpoint", "the node's latest signed checkpoint",
                                   WithGlobals(&audit_, AuditCheckpointCommand));
  checkpoint->add_flag("--fresh", audit_.fresh, "sign one over the log as it is now");
  CLI::App* exp = set_->Add(audit, "export", "an object's events with proofs, one file",
                            WithGlobals(&audit_, AuditExportCommand));
  exp->add_option("ID", audit_.id)->required();
  exp->add_option("-o,--output", audit_.output, "bundle file (must not exist)")->required();
  for (CLI::App* c : {log, checkpoint, exp}) set_->AddJsonFlag(c);
  AddAuditVerify(audit);
  CLI::App* node =
      set_->Add(audit, "verify-node", "recompute the node's log against its signed checkpoints",
                WithGlobals(&audit_, AuditVerifyNodeCommand));
  node->add_option("--since-checkpoint", audit_.since,
                   "a checkpoint kept earlier (file): read only the events after it, and prove "
                   "the node's latest checkpoint extends it");
  node->add_flag("--since-last-verified", audit_.since_last_verified,
                 "read only the events after the last checkpoint a verification reached");
  set_->AddJsonFlag(node);
}

void SecurityCommands::AddAuditVerify(CLI::App* audit) {
  CLI::App* verify = set_->AddOffline(audit, "verify", "check a bundle offline, no server",
                                      WithGlobals(&audit_, AuditVerifyCommand));
  verify->add_option("BUNDLE", audit_.bundle)->required()->check(CLI::ExistingFile);
  verify->add_option("--pubkey", audit_.pubkey, "the node's PEM public key to trust");
  verify
      ->add_option("--witness-key", audit_.witness_key,
                   "a witness's PEM public key (its witness.key.pub): require its cosignature "
                   "of the checkpoint")
      ->check(CLI::ExistingFile);
  verify
      ->add_option("--tsa-cert", audit_.tsa_cert,
                   "a time-stamping authority's PEM certificate: require its RFC 3161 token over "
                   "the checkpoint")
      ->check(CLI::ExistingFile);
  verify->add_option("--file", audit_.file, "the object's bytes: check they hash to its id");
  verify
      ->add_option("--manifest", audit_.manifest,
                   "an export's manifest.json to check against the node-signed manifest "
                   "(default: manifest.json beside the bundle, if there is one)")
      ->check(CLI::ExistingFile);
  set_->AddJsonFlag(verify);
}

}  // namespace custody
