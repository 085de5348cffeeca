// The storage commands on the command line (command_set.h): `custody put`,
// `get`, `stat`, `ls` and `status` (thin calls into CustodyClient), and
// `custody cluster status|repair|scrub` (cluster_cli.h).
#ifndef CUSTODY_CLIENT_STORAGE_COMMANDS_H_
#define CUSTODY_CLIENT_STORAGE_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/cluster_cli.h"
#include "client/cluster_map_cli.h"
#include "client/command_set.h"

namespace custody {

// --meta KEY=VALUE flags, each key once, as UTF-8 text, into *metadata
// (put, live); a usage error names the first bad one.
absl::Status ParseMetadata(const std::vector<std::string>& metas,
                           std::map<std::string, std::string>* metadata);

class StorageCommands {
 public:
  // Adds the commands to `set`; their flags and actions point into this,
  // which must outlive set->Run.
  explicit StorageCommands(CommandSet* set);
  StorageCommands(const StorageCommands&) = delete;
  StorageCommands& operator=(const StorageCommands&) = delete;

 private:
  void AddObjects(CLI::App* app);
  void AddCluster(CLI::App* app);

  CommandSet* set_;
  std::string file_, id_, out_;     // put FILE; get and stat ID; get -o
  bool sm3_ = false;                // stat --sm3
  std::string range_;               // get --range
  std::vector<std::string> metas_;  // put --meta KEY=VALUE
  ClusterArgs cluster_;
  std::string map_file_;  // cluster map apply FILE
};

}  // namespace custody

#endif  // CUSTODY_CLIENT_STORAGE_COMMANDS_H_
