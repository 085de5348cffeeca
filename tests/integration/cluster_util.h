// Helpers for tests that run a cluster of real custodyd processes.
#ifndef CUSTODY_TESTS_INTEGRATION_CLUSTER_UTIL_H_
#define CUSTODY_TESTS_INTEGRATION_CLUSTER_UTIL_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/digest.h"
#include "custody/internal/v1/replica.pb.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {

// Writes a map of `n` nodes (ids n1, n2, ...) on free loopback ports, zones
// a, b, a, ...; returns its path.
std::string WriteMap(const std::string& path, int n, int version, int r, std::vector<int>* ports);

// Starts one node per port of `map_file`, each on its own data folder
// dir/ID, with `extra` flags. Empty if one fails (its log is reported).
std::vector<std::unique_ptr<NodeProcess>> StartMappedNodes(
    const TempDir& dir, const std::string& map_file, const std::vector<int>& ports,
    const std::vector<std::string>& extra = {});

// A TLS cluster of `n` nodes: a CA in dir/ca, a certificate per user in
// dir/NAME (with its ca issue flags, e.g. --role officer --agency A) and per
// node, the client library set to use dir/`status_user` (NodeProcess::Start
// asks for status), and the nodes started with `extra` flags.
std::vector<std::unique_ptr<NodeProcess>> StartTlsCluster(
    const TempDir& dir, const std::map<std::string, std::vector<std::string>>& users,
    const std::string& status_user, int n, const std::vector<std::string>& extra = {});

// Writes `token` to a new file `path` of mode 600, for --token-file, and
// returns `path`.
std::string WriteTokenFile(const std::string& path, const std::string& token);

// Waits (up to 20 s per node) until each of `nodes` sees every node of the
// map up, so that no put placed right after a start finds a peer in backoff.
// On a TLS cluster, `tls_dir` holds the credentials to ask with.
void WaitUntilPeersAreUp(const std::vector<std::unique_ptr<NodeProcess>>& nodes,
                         const std::string& tls_dir = "");

// Which of `nodes` (n1, n2, ... in order) hold `key` of `kind`, asked through
// their Replica service as a peer on map version `map_version`.
std::vector<std::string> Holders(const std::vector<std::unique_ptr<NodeProcess>>& nodes,
                                 internal::v1::BlobKind kind, const Digest& key,
                                 int map_version = 1);

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_INTEGRATION_CLUSTER_UTIL_H_
