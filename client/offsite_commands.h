// The offsite commands on the command line (CLI11): `custody snapshot`,
// `custody offsite` and `custody restore` (client/offsite_cli.h).
#ifndef CUSTODY_CLIENT_OFFSITE_COMMANDS_H_
#define CUSTODY_CLIENT_OFFSITE_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/offsite_cli.h"

namespace custody {

class OffsiteCommands {
 public:
  // Adds the commands to `app`; --json sets `*json`.
  OffsiteCommands(CLI::App* app, bool* json);
  OffsiteCommands(const OffsiteCommands&) = delete;
  OffsiteCommands& operator=(const OffsiteCommands&) = delete;

  // After parsing: the exit code of the command given, or nullopt if none
  // of these was.
  std::optional<int> Run(const std::string& server, bool json);

 private:
  using Action = std::function<int(const OffsiteArgs&)>;
  CLI::App* Add(CLI::App* parent, const std::string& name, const std::string& help, Action action);

  OffsiteArgs args_;
  bool* json_;
  std::vector<std::pair<CLI::App*, Action>> commands_;
};

}  // namespace custody

#endif  // CUSTODY_CLIENT_OFFSITE_COMMANDS_H_
