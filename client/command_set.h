// The command line of `custody` (CLI11), built one way: each command group
// (storage_commands.h, security_commands.h, record_commands.h,
// offsite_commands.h) adds its subcommands to a CommandSet, each leaf with
// the action it runs once parsed; main makes the set, adds the groups and
// calls Run. The flags several commands share (--json, time flags) are
// declared here, once.
#ifndef CUSTODY_CLIENT_COMMAND_SET_H_
#define CUSTODY_CLIENT_COMMAND_SET_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

namespace custody {

// The global flags, as every command sees them once parsed.
struct CliGlobals {
  std::string server;  // --server, or $CUSTODY_SERVER
  bool json = false;   // --json, given to the app or to any command
};

class CommandSet {
 public:
  // Runs a parsed command; returns the process exit code.
  using Action = std::function<int(const CliGlobals&)>;

  // The app `custody`, described by `help`, with the global flags: --server,
  // --json, --tls, --token-file (and --token, hidden, refused).
  explicit CommandSet(const std::string& help);
  CommandSet(const CommandSet&) = delete;
  CommandSet& operator=(const CommandSet&) = delete;

  CLI::App* app() { return &app_; }

  // Adds a subcommand of `parent` that only groups others: one of them must
  // be given.
  CLI::App* AddGroup(CLI::App* parent, const std::string& name, const std::string& help);
  // Adds a subcommand of `parent` that runs `action` against a node: Run
  // first sets up TLS and the token and checks that --server is given. The
  // command's flags are for the caller to add; a command may also have
  // subcommands of its own, which run instead of it when given.
  CLI::App* Add(CLI::App* parent, const std::string& name, const std::string& help, Action action);
  // The same for a command that runs offline: no node, TLS or token.
  CLI::App* AddOffline(CLI::App* parent, const std::string& name, const std::string& help,
                       Action action);
  // `command` (added here) runs without a node when `option` is given
  // (report sample --verify FILE).
  void OfflineWith(CLI::App* command, const CLI::Option* option) {
    commands_[command].offline_with = option;
  }
  // Adds --json ("print one JSON document") to `command`: it sets
  // CliGlobals::json.
  void AddJsonFlag(CLI::App* command);

  // Parses the command line and runs the command given. Returns the process
  // exit code: help's 0, 2 for a command line that does not parse (one line
  // on stderr), 1 when the node cannot be called (no --server, a bad token or
  // TLS folder), else the command's own.
  int Run(int argc, char** argv);

 private:
  struct Command {
    Action action;
    bool offline = false;
    const CLI::Option* offline_with = nullptr;  // offline when this option is given
  };

  void AddGlobalFlags();
  // The exit code when parsing ends the run (help, or an error), else nullopt.
  std::optional<int> Parse(int argc, char** argv);
  // The deepest subcommand given, if it is a command (not only a group).
  const Command* Chosen() const;
  // Before a command that calls a node: the token, TLS, and --server given.
  absl::Status PrepareNode();

  CLI::App app_;
  CliGlobals globals_;
  std::string tls_dir_;     // --tls, or $CUSTODY_TLS
  std::string time_zone_;   // --time-zone (shown_time.h)
  std::string token_;       // $CUSTODY_TOKEN, or read from --token-file
  std::string token_file_;  // --token-file
  std::string argv_token_;  // --token: refused
  absl::flat_hash_map<const CLI::App*, Command> commands_;
};

// An action that runs `command(*args)` with the global flags copied into
// args->server and args->json first (AccessArgs, AuditArgs, RecordArgs, ...).
template <typename Args, typename Command>
CommandSet::Action WithGlobals(Args* args, Command command) {
  return [args, command = std::move(command)](const CliGlobals& globals) {
    args->server = globals.server;
    args->json = globals.json;
    return command(*args);
  };
}

// A time flag, kept as typed: ParseTimeFlag (record_text.h) reads it when
// the command runs.
struct TimeFlag {
  std::string name;    // e.g. "--from"
  std::string* value;  // where the text goes
  std::string what;    // the help, before ": " and the forms a time takes
};

// Adds the time flag `flag` to `command` (an option group too).
CLI::Option* AddTimeFlag(CLI::App* command, const TimeFlag& flag);
// Adds the two ends of a period, e.g. --from and --to, both `required` or
// neither.
void AddTimeRange(CLI::App* command, const TimeFlag& from, const TimeFlag& to,
                  bool required = false);

}  // namespace custody

#endif  // CUSTODY_CLIENT_COMMAND_SET_H_
