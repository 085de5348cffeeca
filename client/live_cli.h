// The live commands on the command line (command_set.h, doc/live.md):
// `custody live FILE` streams a recording while it grows; `custody live
// list`, `live show ID` and `live seal ID --reason` look after the uploads
// the node holds.
#ifndef CUSTODY_CLIENT_LIVE_CLI_H_
#define CUSTODY_CLIENT_LIVE_CLI_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "client/command_set.h"

namespace custody {

struct LiveArgs {
  std::string server;
  bool json = false;
  std::string file, device, live_id, reason;
  std::vector<std::string> metas;
  std::string segment = "1MiB";
  double interval = 2, finish_after = 10;
};

class LiveCommands {
 public:
  // Adds the commands to `set`; their flags point into this, which must
  // outlive set->Run.
  explicit LiveCommands(CommandSet* set);
  LiveCommands(const LiveCommands&) = delete;
  LiveCommands& operator=(const LiveCommands&) = delete;

 private:
  CommandSet* set_;
  LiveArgs args_;
};

}  // namespace custody

#endif  // CUSTODY_CLIENT_LIVE_CLI_H_
