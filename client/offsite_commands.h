// The offsite commands on the command line (command_set.h): `custody snapshot`,
// `custody offsite` and `custody restore` (client/offsite_cli.h).
#ifndef CUSTODY_CLIENT_OFFSITE_COMMANDS_H_
#define CUSTODY_CLIENT_OFFSITE_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "client/command_set.h"
#include "client/offsite_cli.h"

namespace custody {

class OffsiteCommands {
 public:
  // Adds the commands to `set`; their flags and actions point into this,
  // which must outlive set->Run.
  explicit OffsiteCommands(CommandSet* set);
  OffsiteCommands(const OffsiteCommands&) = delete;
  OffsiteCommands& operator=(const OffsiteCommands&) = delete;

 private:
  using Command = std::function<int(const OffsiteArgs&)>;

  // A subcommand of `parent` that runs `command` on args_, with --json.
  CLI::App* Add(CLI::App* parent, const std::string& name, const std::string& help,
                Command command);
  void AddSnapshot(CLI::App* app);
  void AddOffsite(CLI::App* app);
  void AddRestore(CLI::App* app);

  CommandSet* set_;
  OffsiteArgs args_;
};

}  // namespace custody

#endif  // CUSTODY_CLIENT_OFFSITE_COMMANDS_H_
