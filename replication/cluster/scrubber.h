// The scrubber (doc/cluster.md, "Scrubber"): re-reads and re-hashes every
// chunk this node holds, at a bounded rate. A chunk whose bytes do not match
// its hash (or cannot be read) is corrupt:
//   1. its bytes as they are on disk are copied to DIR/quarantine/ with a
//      .reason file, and `chunk.corrupt` is logged;
//   2. a healthy copy is fetched from another node (verified on arrival) and
//      written again; the index then points to the new copy, and
//      `chunk.repaired` is logged. Without a healthy copy the pass reports it
//      and `chunk.unrepaired` is logged; reads keep failing over to replicas.
// The events name the chunk and have as subject each object on this node
// that uses the chunk (so `custody audit log ID` shows them), or the chunk
// itself when no object does. The old bytes stay in their volume.
#ifndef CUSTODY_REPLICATION_CLUSTER_SCRUBBER_H_
#define CUSTODY_REPLICATION_CLUSTER_SCRUBBER_H_

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/job_loop.h"
#include "custody/v1/custody.pb.h"
#include "replication/cluster/placement.h"
#include "server/storage/volume_format.h"

namespace custody {

class AuditTrail;
class ChunkSealer;
class Committer;
class Index;
class NodeMetrics;
class VolumeSet;

// What a scrubber works on.
struct ScrubberDeps {
  std::string node_id;
  Index* index = nullptr;
  VolumeSet* volumes = nullptr;
  Committer* committer = nullptr;       // writes repaired copies
  const ChunkSealer* sealer = nullptr;  // null without --data-key
  AuditTrail* trail = nullptr;          // where findings are recorded
  NodeMetrics* metrics = nullptr;
  Placement* placement = nullptr;  // null for a cluster of one (nothing to repair from)
};

struct ScrubOptions {
  double rate_mb_per_s = 50;                  // bytes read per second, bounded
  absl::Duration interval = absl::Hours(24);  // between passes; 0: only on request
};

// Thread-safe. Passes run on the object's own thread, one at a time.
class Scrubber {
 public:
  Scrubber(ScrubberDeps deps, ScrubOptions options);
  ~Scrubber();  // stops a pass in progress at the next chunk

  // Loads the last pass's report, then runs passes every interval.
  void Start();
  // Ends waits in RunNow and stops the thread at the next chunk of a pass.
  // Idempotent.
  void Stop() { loop_.Stop(); }
  // Runs a pass that starts after this call, waits for it, and returns it.
  v1::ScrubReport RunNow();
  std::optional<v1::ScrubReport> last() const { return loop_.last(); }

 private:
  v1::ScrubReport Pass();
  v1::ScrubReport PassAndSave();  // and keeps its report in the index
  // Checks one chunk; false if it is corrupt (and then handled).
  void CheckChunk(const Digest& key, const Location& loc, v1::ScrubReport* report);
  void HandleCorrupt(const Digest& key, const Location& loc, const std::string& why,
                     v1::ScrubReport* report);
  absl::Status Quarantine(const Digest& key, const Location& loc, const std::string& why);
  // A verified copy from another node, and which node gave it.
  absl::StatusOr<std::string> FetchHealthy(const Digest& key, std::string* from);
  // The objects using chunk `key`, from this node's manifests and every
  // peer's; `unasked` gets the nodes that could not say, with the reason.
  std::set<std::string> ObjectsUsing(const Digest& key, std::vector<std::string>* unasked);
  // Files the event under every object using the chunk (the chunk's id in
  // the details), or under the chunk when no manifest names it.
  void RecordChunkEvent(const std::string& action, const Digest& key, const Location& loc,
                        const std::vector<std::pair<std::string, std::string>>& details);

  ScrubberDeps d_;
  Placement* placement_;
  ScrubOptions options_;

  JobLoop<v1::ScrubReport> loop_;  // last: stopped first
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_CLUSTER_SCRUBBER_H_
