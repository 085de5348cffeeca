// The records commands on the command line (CLI11): `custody catalog`,
// `record`, `hold`, `device`, `report` and `purge` (record_cli.h,
// device_cli.h, report_cli.h, purge_cli.h).
#ifndef CUSTODY_CLIENT_RECORD_COMMANDS_H_
#define CUSTODY_CLIENT_RECORD_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/purge_cli.h"
#include "client/record_cli.h"

namespace custody {

class RecordCommands {
 public:
  // Adds the subcommands to `app`; their --json flags set `*json`.
  RecordCommands(CLI::App* app, bool* json);
  RecordCommands(const RecordCommands&) = delete;
  RecordCommands& operator=(const RecordCommands&) = delete;

  // After parsing: runs the chosen command against `server` and returns its
  // exit code, or nullopt when none of these commands was chosen.
  std::optional<int> Run(const std::string& server, bool json);

 private:
  using Action = std::function<int(const RecordArgs&)>;

  // A leaf subcommand of `parent` that runs `action`, with --json.
  CLI::App* Add(CLI::App* parent, const std::string& name, const std::string& help, Action action);
  void AddCatalog(CLI::App* app);
  void AddCreate(CLI::App* record);
  void AddAttachAndShow(CLI::App* record);
  void AddList(CLI::App* record);
  void AddChanges(CLI::App* record);
  void AddExemptions(CLI::App* record);
  void AddRetain(CLI::App* record);
  void AddHold(CLI::App* app);
  void AddDevice(CLI::App* app);
  void AddReport(CLI::App* app);
  void AddPurge(CLI::App* app);
  // The flags that describe a new record, required or not.
  void AddRecordFlags(CLI::App* c, bool required);

  RecordArgs args_;
  PurgeArgs purge_;
  bool* json_;
  std::vector<std::pair<CLI::App*, Action>> commands_;
};

}  // namespace custody

#endif  // CUSTODY_CLIENT_RECORD_COMMANDS_H_
