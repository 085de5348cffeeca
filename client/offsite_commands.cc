#include "client/offsite_commands.h"

namespace custody {

CLI::App* OffsiteCommands::Add(CLI::App* parent, const std::string& name, const std::string& help,
                               Action action) {
  CLI::App* c = parent->add_subcommand(name, help);
  c->add_flag("--json", *json_, "print one JSON document");
  commands_.emplace_back(c, std::move(action));
  return c;
}

OffsiteCommands::OffsiteCommands(CLI::App* app, bool* json) : json_(json) {
  CLI::App* snap = app->add_subcommand(
      "snapshot", "signed snapshots of everything the cluster holds (doc/offsite.md)");
  snap->require_subcommand(1);
  Add(snap, "create", "make a snapshot now: every object, record and audit log, signed",
      SnapshotCreateCommand);
  Add(snap, "list", "the cluster's snapshots, oldest first, and which are verified offsite",
      SnapshotListCommand);
  Add(snap, "show", "one snapshot (default: the latest), its signature and receipt",
      SnapshotShowCommand)
      ->add_option("ID", args_.snapshot, "snap-...");

  CLI::App* off = app->add_subcommand("offsite", "the offsite copy (article 20)");
  off->require_subcommand(1);
  CLI::App* sync = Add(off, "sync",
                       "send a snapshot (default: the latest) to the offsite peer: only what it "
                       "lacks; it verifies everything and signs a receipt",
                       OffsiteSyncCommand);
  sync->add_option("--snapshot", args_.snapshot, "snap-... (default: the latest)");
  sync->add_option("--rate", args_.rate, "pace the transfer, e.g. 50MiB/s (default: none)");
  sync->add_option("--streams", args_.streams, "blobs in flight (default 12)")
      ->check(CLI::Range(1, 64));
  sync->add_option("--peer", args_.peer, "the peer's address (default: the node's --offsite)");
  Add(off, "status", "the last verified snapshot, its age, and what is not offsite yet",
      OffsiteStatusCommand);
  CLI::App* verify = Add(off, "verify",
                         "have the peer re-read every byte it holds (exit 1 if anything is "
                         "missing or corrupt)",
                         OffsiteVerifyCommand);
  verify->add_option("--snapshot", args_.snapshot, "only this snapshot");
  verify->add_option("--peer", args_.peer, "the peer's address (default: the node's --offsite)");

  CLI::App* restore = Add(app, "restore",
                          "bring an empty cluster back from the offsite peer, verifying "
                          "every byte",
                          RestoreCommand);
  restore->add_option("--from-offsite", args_.peer, "the offsite peer's address")->required();
  restore->add_option("--snapshot", args_.snapshot, "snap-... (default: the latest verified)");
}

std::optional<int> OffsiteCommands::Run(const std::string& server, bool json) {
  for (const auto& [command, action] : commands_) {
    if (!command->parsed()) continue;
    args_.server = server;
    args_.json = json;
    return action(args_);
  }
  return std::nullopt;
}

}  // namespace custody
