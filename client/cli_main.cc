// custody: the command-line client. Each subcommand is a thin call into
// CustodyClient; --json prints one JSON document per command. The commands
// come in groups, each adding its own to one CommandSet (command_set.h);
// main only wires them.
#include "client/command_set.h"
#include "client/live_cli.h"
#include "client/offsite_commands.h"
#include "client/record_commands.h"
#include "client/security_commands.h"
#include "client/storage_commands.h"
#include "common/process.h"

int main(int argc, char** argv) {
  custody::TuneMalloc();
  custody::CommandSet commands("custody: write-once storage for enforcement footage");
  // In this order in `custody --help`.
  custody::StorageCommands storage(&commands);
  custody::SecurityCommands security(&commands);
  custody::RecordCommands records(&commands);
  custody::OffsiteCommands offsite(&commands);
  custody::LiveCommands live(&commands);
  return commands.Run(argc, argv);
}
