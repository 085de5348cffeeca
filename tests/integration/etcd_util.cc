#include "tests/integration/etcd_util.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/tls.h"
#include "replication/etcd/etcd_client.h"

namespace custody::testing {

namespace fs = std::filesystem;

bool HaveEtcd() { return fs::exists("/usr/bin/etcd"); }

EtcdProcessCluster::EtcdProcessCluster(fs::path dir, int members, std::string tls_dir)
    : dir_(std::move(dir)), tls_dir_(std::move(tls_dir)) {
  for (int i = 0; i < members; ++i) {
    client_ports_.push_back(FreePort());
    peer_ports_.push_back(FreePort());
  }
  procs_.resize(members);
  for (int i = 0; i < members; ++i) {
    if (!Start(i)) return;
  }
  EtcdOptions o;
  for (int i = 0; i < members; ++i) o.endpoints.push_back(Endpoint(i));
  o.timeout = absl::Seconds(2);
  if (!tls_dir_.empty()) {
    absl::StatusOr<TlsFiles> files = TlsFiles::Load(tls_dir_);
    if (!files.ok()) return;
    o.credentials = TlsChannelCredentials(*files);
  }
  auto client = EtcdClient::Create(o);
  for (int attempt = 0; attempt < 100 && client.ok(); ++attempt) {
    if ((*client)->Put("/custody-test/ready", "1").ok()) {
      ok_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string EtcdProcessCluster::Endpoint(int i) const {
  return absl::StrCat("127.0.0.1:", client_ports_[i]);
}

std::string EtcdProcessCluster::Endpoints() const {
  std::vector<std::string> all;
  for (size_t i = 0; i < client_ports_.size(); ++i) all.push_back(Endpoint(static_cast<int>(i)));
  return absl::StrJoin(all, ",");
}

std::vector<std::string> EtcdProcessCluster::Argv(int i) const {
  std::vector<std::string> peers;
  for (size_t m = 0; m < peer_ports_.size(); ++m) {
    peers.push_back(absl::StrCat("e", m, "=http://127.0.0.1:", peer_ports_[m]));
  }
  const std::string client = absl::StrCat(tls_dir_.empty() ? "http://" : "https://", Endpoint(i));
  const std::string peer = absl::StrCat("http://127.0.0.1:", peer_ports_[i]);
  std::vector<std::string> tls;
  if (!tls_dir_.empty()) {
    tls = {"--cert-file",       tls_dir_ + "/cert.pem", "--key-file",        tls_dir_ + "/key.pem",
           "--trusted-ca-file", tls_dir_ + "/ca.pem",   "--client-cert-auth"};
  }
  std::vector<std::string> argv = {
      "/usr/bin/etcd", "--name", absl::StrCat("e", i), "--data-dir",
      dir_ / absl::StrCat("etcd-", i), "--listen-client-urls", client, "--advertise-client-urls",
      client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
      "--initial-cluster", absl::StrJoin(peers, ","), "--initial-cluster-state", "new",
      "--initial-cluster-token", dir_.filename().string(),
      // Loopback: short elections, so a killed leader is replaced fast.
      "--heartbeat-interval", "50", "--election-timeout", "500"};
  argv.insert(argv.end(), tls.begin(), tls.end());
  return argv;
}

std::shared_ptr<grpc::Channel> EtcdProcessCluster::Channel(int i) const {
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!tls_dir_.empty()) {
    absl::StatusOr<TlsFiles> files = TlsFiles::Load(tls_dir_);
    if (files.ok()) creds = TlsChannelCredentials(*files);
  }
  return grpc::CreateChannel(Endpoint(i), creds);
}

bool EtcdProcessCluster::Start(int i) {
  // A member serves clients only once its cluster has a quorum: whoever
  // starts one waits for its answers (the constructor, or the test).
  procs_[i] = std::make_unique<Subprocess>(Argv(i), dir_ / absl::StrCat("etcd-", i, ".out"),
                                           dir_ / absl::StrCat("etcd-", i, ".log"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return procs_[i]->running();
}

int EtcdProcessCluster::LeaderIndex() const {
  for (size_t i = 0; i < client_ports_.size(); ++i) {
    auto stub = etcdserverpb::Maintenance::NewStub(Channel(static_cast<int>(i)));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    etcdserverpb::StatusResponse st;
    if (stub->Status(&ctx, etcdserverpb::StatusRequest(), &st).ok() &&
        st.leader() == st.header().member_id()) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

void EtcdProcessCluster::Kill(int i) {
  if (procs_[i]) procs_[i]->Kill(SIGKILL);
}

std::string EtcdProcessCluster::Log(int i) const {
  return ReadFile(dir_ / absl::StrCat("etcd-", i, ".log"));
}

}  // namespace custody::testing
