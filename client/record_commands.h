// The records commands on the command line (command_set.h): `custody catalog`,
// `record`, `hold`, `device`, `report` and `purge` (record_cli.h,
// device_cli.h, report_cli.h, purge_cli.h).
#ifndef CUSTODY_CLIENT_RECORD_COMMANDS_H_
#define CUSTODY_CLIENT_RECORD_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "client/command_set.h"
#include "client/purge_cli.h"
#include "client/record_cli.h"
#include "client/sample_cli.h"

namespace custody {

class RecordCommands {
 public:
  // Adds the commands to `set`; their flags and actions point into this,
  // which must outlive set->Run.
  explicit RecordCommands(CommandSet* set);
  RecordCommands(const RecordCommands&) = delete;
  RecordCommands& operator=(const RecordCommands&) = delete;

 private:
  using Command = std::function<int(const RecordArgs&)>;

  // A subcommand of `parent` that runs `command` on args_, with --json.
  CLI::App* Add(CLI::App* parent, const std::string& name, const std::string& help,
                Command command);
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

  CommandSet* set_;
  RecordArgs args_;
  SampleArgs sample_;
  PurgeArgs purge_;
};

}  // namespace custody

#endif  // CUSTODY_CLIENT_RECORD_COMMANDS_H_
