#include "client/offsite_commands.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

namespace custody {

OffsiteCommands::OffsiteCommands(CommandSet* set) : set_(set) {
  AddSnapshot(set->app());
  AddOffsite(set->app());
  AddRestore(set->app());
}

CLI::App* OffsiteCommands::Add(CLI::App* parent, const std::string& name, const std::string& help,
                               Command command) {
  CLI::App* c = set_->Add(parent, name, help, WithGlobals(&args_, std::move(command)));
  set_->AddJsonFlag(c);
  return c;
}

void OffsiteCommands::AddSnapshot(CLI::App* app) {
  CLI::App* snap = set_->AddGroup(
      app, "snapshot", "signed snapshots of everything the cluster holds (doc/offsite.md)");
  Add(snap, "create", "make a snapshot now: every object, record and audit log, signed",
      SnapshotCreateCommand);
  Add(snap, "list", "the cluster's snapshots, oldest first, and which are verified offsite",
      SnapshotListCommand);
  Add(snap, "show", "one snapshot (default: the latest), its signature and receipt",
      SnapshotShowCommand)
      ->add_option("ID", args_.snapshot, "snap-...");
}

void OffsiteCommands::AddOffsite(CLI::App* app) {
  CLI::App* off = set_->AddGroup(app, "offsite", "the offsite copy (article 20)");
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
  CLI::App* challenge =
      Add(off, "challenge",
          "draw chunks at random and have the peer prove it holds their bytes (exit 1 if it "
          "misses any)",
          OffsiteChallengeCommand);
  challenge->add_option("--samples", args_.samples, "chunks to draw (default: the node's, 200)")
      ->check(CLI::Range(1, 100000));
  challenge->add_option("--rate", args_.rate,
                        "each side reads no faster, e.g. 20MiB/s (default: the node's)");
  challenge->add_option("--peer", args_.peer, "the peer's address (default: the node's --offsite)");
  CLI::App* held = Add(off, "snapshots",
                       "the sealed snapshots the offsite peer holds, asked through the node: "
                       "id, signer and its key (CLUSTER: this, or UNKNOWN to this cluster), "
                       "objects, bytes, receipt",
                       OffsiteSnapshotsCommand);
  held->add_option("--peer", args_.peer, "the peer's address (default: the node's --offsite)");
}

namespace {

// A signing key as `offsite snapshots` prints it: 16 to 64 hex digits.
CLI::Validator SignerKey() {
  return CLI::Validator(
      [](std::string& k) -> std::string {
        bool hex = std::all_of(k.begin(), k.end(), [](unsigned char c) { return isxdigit(c); });
        if (hex && k.size() >= 16 && k.size() <= 64) return "";
        return "a signing key is its 64 hex digits, or its first 16 or more, not \"" + k + "\"";
      },
      "HEX");
}

}  // namespace

void OffsiteCommands::AddRestore(CLI::App* app) {
  CLI::App* restore = Add(app, "restore",
                          "bring an empty cluster back from the offsite peer, verifying every "
                          "byte; prints the snapshot it uses first. Refuses a snapshot that "
                          "names no object, or one signed by a key this cluster does not know "
                          "(a wiped cluster knows none: name it with --trust-signer-key)",
                          RestoreCommand);
  restore->add_option("--from-offsite", args_.peer, "the offsite peer's address")->required();
  restore->add_option("--snapshot", args_.snapshot,
                      "snap-... (default: the latest verified; list them with offsite snapshots)");
  restore
      ->add_option("--trust-signer-key", args_.trusted_signer_keys,
                   "accept snapshots signed by this key (hex, or its first 16+ digits, as "
                   "offsite snapshots and snapshot show print it); repeatable")
      ->check(SignerKey());
  restore->add_flag("--allow-empty-snapshot", args_.allow_empty_snapshot,
                    "restore even a snapshot that names no object (nothing comes back)");
  restore->add_flag("--allow-foreign-cluster", args_.allow_foreign_cluster,
                    "restore even a snapshot signed by a key this cluster does not know, such "
                    "as another cluster's");
  restore->add_flag("--dry-run", args_.dry_run,
                    "only name the snapshot the restore would use, after the same checks");
}

}  // namespace custody
