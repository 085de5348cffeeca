// A real etcd cluster on loopback for the tests (issue 28): `members`
// processes of Debian's etcd on free 127.0.0.1 ports, each with its own
// data folder, started and killed for real.
#ifndef CUSTODY_TESTS_INTEGRATION_ETCD_UTIL_H_
#define CUSTODY_TESTS_INTEGRATION_ETCD_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/process.h"

namespace custody::testing {

class EtcdProcessCluster {
 public:
  // Starts every member and waits until the cluster takes a write. With
  // `tls_dir` (ca.pem, cert.pem, key.pem as `custody ca issue --node`
  // writes them), members serve clients over TLS and require a client
  // certificate of that CA; peers talk plaintext on loopback.
  explicit EtcdProcessCluster(std::filesystem::path dir, int members = 3, std::string tls_dir = "");
  bool ok() const { return ok_; }
  // "127.0.0.1:C1,127.0.0.1:C2,..." as custodyd --etcd takes it.
  std::string Endpoints() const;
  std::string Endpoint(int i) const;
  void Kill(int i);  // SIGKILL
  // Starts member `i` (again, on its data folder); false if it exited at
  // once. It answers once a quorum of members runs.
  bool Start(int i);
  // The member that leads now, or -1 if none answers.
  int LeaderIndex() const;
  std::string Log(int i) const;

 private:
  std::vector<std::string> Argv(int i) const;
  std::shared_ptr<grpc::Channel> Channel(int i) const;

  std::filesystem::path dir_;
  std::string tls_dir_;
  std::vector<int> client_ports_, peer_ports_;
  std::vector<std::unique_ptr<Subprocess>> procs_;
  bool ok_ = false;
};

// Whether Debian's etcd is installed (tests skip with a reason otherwise).
bool HaveEtcd();

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_INTEGRATION_ETCD_UTIL_H_
