#include "client/command_set.h"

#include <cstdlib>
#include <iostream>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "client/cli_errors.h"
#include "client/client.h"
#include "client/record_text.h"
#include "client/server_pool.h"
#include "client/shown_time.h"
#include "common/files.h"

namespace custody {

namespace {

constexpr char kTimeForms[] =
    "RFC 3339 (2026-11-26T09:00:00+08:00) or a date (2026-11-26: 00:00 in --time-zone)";

// The token to call with: from --token-file (a private file) or
// $CUSTODY_TOKEN (already in *token). A token on the command line is
// refused: every user of the machine could read it in the process list.
absl::Status ChooseToken(const std::string& argv_token, const std::string& file,
                         std::string* token) {
  if (!argv_token.empty()) {
    return UsageError(
        "--token puts the token in the process list, where any user of this machine can read "
        "it: put it in a file only you can read and pass --token-file FILE, or set "
        "$CUSTODY_TOKEN");
  }
  if (file.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> text = ReadPrivateFile(file);
  if (!text.ok()) return text.status();
  *token = std::string(absl::StripAsciiWhitespace(*text));
  if (token->empty()) return UsageError("--token-file " + file + " is empty");
  return absl::OkStatus();
}

}  // namespace

CommandSet::CommandSet(const std::string& help) : app_(help) {
  app_.require_subcommand(1);
  AddGlobalFlags();
}

void CommandSet::AddGlobalFlags() {
  if (const char* env = std::getenv("CUSTODY_SERVER")) globals_.server = env;
  app_.add_option("--server", globals_.server,
                  "node address host:port, or several separated by commas to fail over between (or "
                  "$CUSTODY_SERVER)");
  AddJsonFlag(&app_);
  if (const char* env = std::getenv("CUSTODY_TIME_ZONE")) time_zone_ = env;
  app_.add_option("--time-zone", time_zone_,
                  "show times in this zone (IANA name, e.g. Asia/Shanghai; or "
                  "$CUSTODY_TIME_ZONE); a date alone (--from 2026-11-01) starts its day there. "
                  "Default UTC");
  if (const char* env = std::getenv("CUSTODY_TLS")) tls_dir_ = env;
  app_.add_option("--tls", tls_dir_,
                  "TLS credentials folder from `custody ca issue` (or $CUSTODY_TLS); "
                  "none: plaintext, for nodes run with --insecure-loopback");
  if (const char* env = std::getenv("CUSTODY_TOKEN")) token_ = env;
  app_.add_option("--token-file", token_file_,
                  "a file (mode 600) holding a user token from `custody user add`, or set "
                  "$CUSTODY_TOKEN; TLS only");
  app_.add_option("--token", argv_token_, "refused: a token in argv shows in the process list")
      ->group("");
}

CLI::App* CommandSet::AddGroup(CLI::App* parent, const std::string& name, const std::string& help) {
  CLI::App* group = parent->add_subcommand(name, help);
  group->require_subcommand(1);
  return group;
}

CLI::App* CommandSet::Add(CLI::App* parent, const std::string& name, const std::string& help,
                          Action action) {
  CLI::App* command = parent->add_subcommand(name, help);
  commands_[command] = Command{std::move(action), /*offline=*/false};
  return command;
}

CLI::App* CommandSet::AddOffline(CLI::App* parent, const std::string& name, const std::string& help,
                                 Action action) {
  CLI::App* command = Add(parent, name, help, std::move(action));
  commands_[command].offline = true;
  return command;
}

void CommandSet::AddJsonFlag(CLI::App* command) {
  command->add_flag("--json", globals_.json, "print one JSON document");
}

int CommandSet::Run(int argc, char** argv) {
  if (std::optional<int> exit_code = Parse(argc, argv)) return *exit_code;
  if (absl::Status s = SetShownTimeZone(time_zone_); !s.ok()) return PrintFailure(s);
  const Command* chosen = Chosen();
  if (chosen != nullptr &&
      (chosen->offline || (chosen->offline_with != nullptr && chosen->offline_with->count() > 0))) {
    return chosen->action(globals_);
  }
  if (absl::Status s = PrepareNode(); !s.ok()) return PrintFailure(s);
  return chosen != nullptr ? chosen->action(globals_) : 2;
}

std::optional<int> CommandSet::Parse(int argc, char** argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app_.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app_.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();  // one line, in the same form as every other error
    std::cerr << "custody: INVALID_ARGUMENT: " << what.substr(0, what.find('\n'))
              << " (see custody --help)\n";
    return 2;
  }
  return std::nullopt;
}

const CommandSet::Command* CommandSet::Chosen() const {
  // One subcommand at most is given at each level (require_subcommand), and
  // a command's own subcommand runs instead of it (purge request).
  const CLI::App* given = &app_;
  while (!given->get_subcommands().empty()) given = given->get_subcommands().front();
  auto it = commands_.find(given);
  return it == commands_.end() ? nullptr : &it->second;
}

absl::Status CommandSet::PrepareNode() {
  if (absl::Status s = ChooseToken(argv_token_, token_file_, &token_); !s.ok()) return s;
  if (absl::Status s = CustodyClient::UseTls(tls_dir_, token_); !s.ok()) return s;
  if (globals_.server.empty()) {
    return UsageError("no node address: pass --server or set CUSTODY_SERVER");
  }
  absl::Status servers = ParseServers({globals_.server}).status();
  return servers.ok() ? servers
                      : UsageError(servers.message());  // several nodes fail over (server_pool.h)
}

CLI::Option* AddTimeFlag(CLI::App* command, const TimeFlag& flag) {
  // A time that does not parse is a usage error (exit 2), found before the
  // command runs.
  CLI::Validator is_time(
      [name = flag.name](std::string& text) -> std::string {
        absl::StatusOr<int64_t> t = ParseTimeFlag(name, text);
        return t.ok() ? std::string() : std::string(t.status().message());
      },
      "TIME");
  return command->add_option(flag.name, *flag.value, flag.what + ": " + kTimeForms)->check(is_time);
}

void AddTimeRange(CLI::App* command, const TimeFlag& from, const TimeFlag& to, bool required) {
  AddTimeFlag(command, from)->required(required);
  AddTimeFlag(command, to)->required(required);
}

}  // namespace custody
