// custody: the command-line client. Each subcommand is a thin call into
// CustodyClient; --json prints one JSON document per command.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/access_cli.h"
#include "client/audit_cli.h"
#include "client/ca_cli.h"
#include "client/cli_errors.h"
#include "client/client.h"
#include "client/cluster_cli.h"
#include "client/export_cli.h"
#include "client/offsite_commands.h"
#include "client/progress.h"
#include "client/record_commands.h"
#include "common/files.h"
#include "common/grpc_status.h"
#include "common/process.h"
#include "common/units.h"
#include "common/utf8.h"

namespace {

using custody::CustodyClient;
using json = nlohmann::ordered_json;

struct Globals {
  std::string server;
  bool json = false;
};

int Fail(const absl::Status& s) { return custody::PrintFailure(s); }

// The token to call with: from --token-file (a private file) or
// $CUSTODY_TOKEN (already in *token). A token on the command line is
// refused: every user of the machine could read it in the process list.
absl::Status ChooseToken(const std::string& argv_token, const std::string& file,
                         std::string* token) {
  if (!argv_token.empty()) {
    return absl::InvalidArgumentError(
        "--token puts the token in the process list, where any user of this machine can read "
        "it: put it in a file only you can read and pass --token-file FILE, or set "
        "$CUSTODY_TOKEN");
  }
  if (file.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> text = custody::ReadPrivateFile(file);
  if (!text.ok()) return text.status();
  *token = std::string(absl::StripAsciiWhitespace(*text));
  if (token->empty()) return absl::InvalidArgumentError("--token-file " + file + " is empty");
  return absl::OkStatus();
}

json InfoJson(const custody::v1::ObjectInfo& o) {
  json meta = json::object();
  for (const auto& [k, v] : o.metadata()) meta[k] = v;
  return json{{"id", o.id()},
              {"size", o.size()},
              {"file_name", o.file_name()},
              {"media_type", o.media_type()},
              {"stored_at", custody::FormatUnixNanos(o.stored_at_unix_nanos())},
              {"chunk_size", o.chunk_size()},
              {"chunks", o.chunk_count()},
              {"metadata", meta}};
}

void PrintInfo(const custody::v1::ObjectInfo& o) {
  std::cout << "id:         " << o.id() << "\n"
            << "size:       " << o.size() << " bytes (" << custody::FormatBytes(o.size()) << ")\n"
            << "file name:  " << o.file_name() << "\n"
            << "media type: " << o.media_type() << "\n"
            << "stored at:  " << custody::FormatUnixNanos(o.stored_at_unix_nanos()) << "\n"
            << "chunks:     " << o.chunk_count() << " x " << custody::FormatBytes(o.chunk_size())
            << "\n";
  for (const auto& [k, v] : o.metadata()) std::cout << "meta " << k << " = " << v << "\n";
}

int RunPut(const Globals& g, const std::string& file, const std::vector<std::string>& metas) {
  custody::PutOptions opts;
  for (const std::string& m : metas) {
    size_t eq = m.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(
          absl::InvalidArgumentError(absl::StrCat("--meta wants KEY=VALUE, got \"", m, "\"")));
    }
    if (!opts.metadata.emplace(m.substr(0, eq), m.substr(eq + 1)).second) {
      return Fail(
          absl::InvalidArgumentError(absl::StrCat("--meta ", m.substr(0, eq), " is given twice")));
    }
    if (!custody::IsValidUtf8(m)) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("--meta ", m.substr(0, eq), " is not valid UTF-8 text")));
    }
  }
  custody::ProgressBar bar("put", isatty(STDERR_FILENO));
  opts.progress = [&](uint64_t d, uint64_t t) { bar.Update(d, t); };
  absl::Time t0 = absl::Now();
  absl::StatusOr<custody::PutResult> r = CustodyClient::Connect(g.server)->Put(file, opts);
  double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    std::cout << json{{"id", r->id},
                      {"size", r->size},
                      {"already_stored", r->already_stored},
                      {"bytes_sent", r->bytes_sent},
                      {"resumed_from", r->resumed_from},
                      {"attempts", r->attempts},
                      {"seconds", secs},
                      {"durable_replicas", r->durable_replicas},
                      {"required_replicas", r->required_replicas}}
                     .dump()
              << "\n";
    return 0;
  }
  std::cout << r->id << "\n";
  if (r->durable_replicas < r->required_replicas) {
    std::cerr << "warning: the cluster holds " << r->durable_replicas << " of the "
              << r->required_replicas << " copies it needs\n";
  }
  std::cerr << (r->already_stored ? "already stored: " : "stored: ") << file << " ("
            << custody::FormatBytes(r->size) << ", "
            << custody::FormatBytes(r->bytes_sent / std::max(secs, 1e-6)) << "/s"
            << (r->resumed_from ? absl::StrCat(", resumed at byte ", r->resumed_from) : "")
            << ")\n";
  return 0;
}

int RunGet(const Globals& g, const std::string& id, const std::string& out) {
  custody::ProgressBar bar("get", isatty(STDERR_FILENO));
  absl::StatusOr<custody::GetResult> r = CustodyClient::Connect(g.server)->Get(
      id, out, [&](uint64_t d, uint64_t t) { bar.Update(d, t); });
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    std::cout << json{{"id", r->info.id()},
                      {"size", r->info.size()},
                      {"output", out},
                      {"verified", true}}
                     .dump()
              << "\n";
  } else {
    std::cerr << "verified " << r->info.id() << " -> " << out << " ("
              << custody::FormatBytes(r->info.size()) << ")\n";
  }
  return 0;
}

int RunStat(const Globals& g, const std::string& id) {
  absl::StatusOr<custody::v1::ObjectInfo> r = CustodyClient::Connect(g.server)->Stat(id);
  if (!r.ok()) return Fail(r.status());
  if (g.json)
    std::cout << InfoJson(*r).dump() << "\n";
  else
    PrintInfo(*r);
  return 0;
}

int RunList(const Globals& g) {
  absl::StatusOr<std::vector<custody::v1::ObjectInfo>> r = CustodyClient::Connect(g.server)->List();
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    json arr = json::array();
    for (const auto& o : *r) arr.push_back(InfoJson(o));
    std::cout << json{{"objects", arr}, {"count", r->size()}}.dump() << "\n";
    return 0;
  }
  for (const auto& o : *r) {
    std::cout << o.id() << "  " << std::setw(12) << o.size() << "  "
              << custody::FormatUnixNanos(o.stored_at_unix_nanos()) << "  " << o.file_name()
              << "\n";
  }
  std::cerr << r->size() << " object(s)\n";
  return 0;
}

int RunStatus(const Globals& g) {
  absl::StatusOr<custody::v1::NodeStatusResponse> r =
      CustodyClient::Connect(g.server)->NodeStatus();
  if (!r.ok()) return Fail(r.status());
  json j{{"node_id", r->node_id()},
         {"chunk_size", r->chunk_size()},
         {"io_backend", r->io_backend()},
         {"objects", r->objects()},
         {"volume_bytes", r->volume_bytes()},
         {"free_bytes", r->free_bytes()},
         {"map_version", r->map_version()},
         {"zone", r->zone()},
         {"replication_factor", r->replication_factor()}};
  if (g.json)
    std::cout << j.dump() << "\n";
  else
    std::cout << j.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  custody::TuneMalloc();
  CLI::App app{"custody: write-once storage for enforcement footage"};
  app.require_subcommand(1);
  Globals g;
  if (const char* env = std::getenv("CUSTODY_SERVER")) g.server = env;
  app.add_option("--server", g.server, "node address host:port (or $CUSTODY_SERVER)");
  app.add_flag("--json", g.json, "print one JSON document");
  std::string tls_dir;
  if (const char* env = std::getenv("CUSTODY_TLS")) tls_dir = env;
  app.add_option("--tls", tls_dir,
                 "TLS credentials folder from `custody ca issue` (or $CUSTODY_TLS); "
                 "none: plaintext, for nodes run with --insecure-loopback");
  std::string token, token_file, argv_token;
  if (const char* env = std::getenv("CUSTODY_TOKEN")) token = env;
  app.add_option("--token-file", token_file,
                 "a file (mode 600) holding a user token from `custody user add`, or set "
                 "$CUSTODY_TOKEN; TLS only");
  app.add_option("--token", argv_token, "refused: a token in argv shows in the process list")
      ->group("");
  std::string file, id, out;
  std::vector<std::string> metas;
  CLI::App* put = app.add_subcommand("put", "store a file; prints its id");
  put->add_option("FILE", file)->required()->check(CLI::ExistingFile);
  put->add_option("--meta", metas, "KEY=VALUE metadata (repeatable)");
  put->add_flag("--json", g.json, "print one JSON document");
  CLI::App* get = app.add_subcommand("get", "fetch an object, verified, into a new file");
  get->add_option("ID", id)->required();
  get->add_option("-o,--output", out, "output file (must not exist)")->required();
  get->add_flag("--json", g.json, "print one JSON document");
  CLI::App* stat = app.add_subcommand("stat", "show an object's facts");
  stat->add_option("ID", id)->required();
  stat->add_flag("--json", g.json, "print one JSON document");
  CLI::App* ls = app.add_subcommand("ls", "list objects");
  ls->add_flag("--json", g.json, "print one JSON document");
  CLI::App* status = app.add_subcommand("status", "show the node's status");
  status->add_flag("--json", g.json, "print one JSON document");
  CLI::App* cluster = app.add_subcommand("cluster", "the cluster as the node sees it");
  cluster->require_subcommand(1);
  CLI::App* cstatus = cluster->add_subcommand("status", "every node of the map: up, zone, space");
  custody::ClusterArgs ca;
  CLI::App* crepair = cluster->add_subcommand(
      "repair", "run anti-entropy now on every node (or --node): copy what home nodes lack");
  CLI::App* cscrub = cluster->add_subcommand(
      "scrub", "re-hash every chunk now on every node (or --node), repairing corrupt ones");
  for (CLI::App* c : {crepair, cscrub}) c->add_option("--node", ca.node, "only this node (its id)");
  for (CLI::App* c : {cstatus, crepair, cscrub}) {
    c->add_flag("--json", g.json, "print one JSON document");
  }
  custody::CaArgs cert;
  CLI::App* cagrp = app.add_subcommand("ca", "the cluster's certificate authority (offline)");
  cagrp->require_subcommand(1);
  CLI::App* cainit = cagrp->add_subcommand("init", "create a CA in a new folder");
  cainit->add_option("DIR", cert.ca_dir)->required();
  cainit->add_option("--name", cert.name, "the CA's name (default: cluster)");
  CLI::App* caissue = cagrp->add_subcommand("issue", "issue a node's or a user's certificate");
  caissue->add_option("--ca", cert.ca_dir, "the CA folder")->required();
  caissue->add_option("--node", cert.node, "a node id (server and client certificate)");
  caissue->add_option("--user", cert.user, "a user or daemon name (client certificate)");
  caissue->add_option("--host", cert.hosts, "a node's host name or IP (repeatable)");
  caissue->add_option("-o,--output", cert.out, "credentials folder to create (default: the name)");
  caissue->add_option("--days", cert.days, "validity (default 825)")->check(CLI::Range(1, 3650));
  caissue->add_option("--role", cert.roles,
                      "a user's role (repeatable): ingest officer archivist "
                      "archive-head leader auditor admin");
  caissue->add_option("--agency", cert.agency, "a user's agency");
  caissue->add_option("--clearance", cert.clearance,
                      "a user's clearance: public internal privacy trade-secret state-secret");
  custody::AccessArgs ac;
  CLI::App* whoami = app.add_subcommand("whoami", "who the node takes you for: roles, agency");
  CLI::App* user = app.add_subcommand("user", "users with tokens (admin)");
  user->require_subcommand(1);
  CLI::App* uadd = user->add_subcommand("add", "add a user; prints its token once");
  uadd->add_option("NAME", ac.name)->required();
  uadd->add_option("--role", ac.roles, "a role (repeatable)")->required();
  uadd->add_option("--agency", ac.agency, "the user's agency");
  uadd->add_option("--clearance", ac.clearance,
                   "public internal privacy trade-secret state-secret");
  CLI::App* ulist = user->add_subcommand("list", "every user");
  CLI::App* udis = user->add_subcommand("disable", "refuse a user from now on");
  udis->add_option("NAME", ac.name)->required();
  udis->add_option("--reason", ac.reason, "why")->required();
  CLI::App* acc = app.add_subcommand("access", "access grants: request, approve, revoke");
  acc->require_subcommand(1);
  CLI::App* areq = acc->add_subcommand("request", "ask to view (or export) an object");
  areq->add_option("ID", ac.object)->required();
  areq->add_option("--reason", ac.reason, "why you need it")->required();
  areq->add_option("--purpose", ac.purpose, "view (default) or export");
  areq->add_option("--for", ac.duration, "how long the grant lives once approved (default 24h)");
  CLI::App* alist = acc->add_subcommand("list", "requests and grants you may see");
  alist->add_option("--object", ac.object, "only this object");
  CLI::App* aok = acc->add_subcommand("approve", "approve a request (archive-head, leader)");
  CLI::App* ano = acc->add_subcommand("deny", "deny a request");
  CLI::App* arev = acc->add_subcommand("revoke", "end a grant or a pending request");
  for (CLI::App* c : {aok, ano, arev}) {
    c->add_option("REQUEST", ac.request)->required();
    c->add_option("--reason", ac.reason, c == arev ? "why (required)" : "a note");
  }
  for (CLI::App* c : {whoami, uadd, ulist, udis, areq, alist, aok, ano, arev}) {
    c->add_flag("--json", g.json, "print one JSON document");
  }
  custody::ExportArgs ex;
  CLI::App* exp = app.add_subcommand(
      "export", "hand an object out: its bytes, manifest and audit bundle, with an export grant");
  exp->add_option("ID", ex.id)->required();
  exp->add_option("-o,--output", ex.out, "a new folder")->required();
  exp->add_flag("--json", g.json, "print one JSON document");
  custody::AuditArgs au;
  CLI::App* audit = app.add_subcommand("audit", "the tamper-evident audit trail");
  audit->require_subcommand(1);
  CLI::App* alog = audit->add_subcommand("log", "an object's history");
  alog->add_option("ID", au.id, "object id (or \"node\", \"upload:ID\")")->required();
  CLI::App* acp = audit->add_subcommand("checkpoint", "the node's latest signed checkpoint");
  acp->add_flag("--fresh", au.fresh, "sign one over the log as it is now");
  CLI::App* aexp = audit->add_subcommand("export", "an object's events with proofs, one file");
  aexp->add_option("ID", au.id)->required();
  aexp->add_option("-o,--output", au.output, "bundle file (must not exist)")->required();
  CLI::App* aver = audit->add_subcommand("verify", "check a bundle offline, no server");
  aver->add_option("BUNDLE", au.bundle)->required()->check(CLI::ExistingFile);
  aver->add_option("--pubkey", au.pubkey, "the node's PEM public key to trust");
  aver->add_option("--file", au.file, "the object's bytes: check they hash to its id");
  aver->add_option("--manifest", au.manifest,
                   "an export's manifest.json to check against the node-signed manifest "
                   "(default: manifest.json beside the bundle, if there is one)")
      ->check(CLI::ExistingFile);
  CLI::App* anode = audit->add_subcommand("verify-node", "recompute the node's whole log");
  anode->add_option("--since-checkpoint", au.since, "a checkpoint kept earlier (file)");
  for (CLI::App* c : {alog, acp, aexp, aver, anode}) {
    c->add_flag("--json", g.json, "print one JSON document");
  }
  custody::RecordCommands records(&app, &g.json);
  custody::OffsiteCommands offsite(&app, &g.json);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();  // one line, in the same form as every other error
    std::cerr << "custody: INVALID_ARGUMENT: " << what.substr(0, what.find('\n'))
              << " (see custody --help)\n";
    return 2;
  }
  au.server = ca.server = g.server;
  au.json = ca.json = g.json;
  if (*aver) return custody::AuditVerifyCommand(au);  // offline: no server
  if (*cainit) return custody::CaInitCommand(cert);
  if (*caissue) return custody::CaIssueCommand(cert);
  if (absl::Status t = ChooseToken(argv_token, token_file, &token); !t.ok()) return Fail(t);
  if (absl::Status t = CustodyClient::UseTls(tls_dir, token); !t.ok()) return Fail(t);
  ac.server = ex.server = g.server;
  ac.json = ex.json = g.json;
  if (g.server.empty()) {
    return Fail(absl::InvalidArgumentError("no node address: pass --server or set CUSTODY_SERVER"));
  }
  if (std::optional<int> rc = records.Run(g.server, g.json)) return *rc;
  if (std::optional<int> rc = offsite.Run(g.server, g.json)) return *rc;
  if (*put) return RunPut(g, file, metas);
  if (*get) return RunGet(g, id, out);
  if (*stat) return RunStat(g, id);
  if (*ls) return RunList(g);
  if (*status) return RunStatus(g);
  if (*cstatus) return custody::ClusterStatusCommand(ca);
  if (*crepair) return custody::ClusterRepairCommand(ca);
  if (*cscrub) return custody::ClusterScrubCommand(ca);
  if (*exp) return custody::ExportCommand(ex);
  if (*whoami) return custody::WhoAmICommand(ac);
  if (*uadd) return custody::UserAddCommand(ac);
  if (*ulist) return custody::UserListCommand(ac);
  if (*udis) return custody::UserDisableCommand(ac);
  if (*areq) return custody::AccessRequestCommand(ac);
  if (*alist) return custody::AccessListCommand(ac);
  if (*aok) return custody::AccessDecideCommand(ac, true);
  if (*ano) return custody::AccessDecideCommand(ac, false);
  if (*arev) return custody::AccessRevokeCommand(ac);
  if (*alog) return custody::AuditLogCommand(au);
  if (*acp) return custody::AuditCheckpointCommand(au);
  if (*aexp) return custody::AuditExportCommand(au);
  if (*anode) return custody::AuditVerifyNodeCommand(au);
  return 2;
}
