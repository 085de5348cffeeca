// The etcd client (replication/etcd) against a real 3-member etcd on
// loopback: reads and writes, a compare-and-swap that only one of two
// writers wins, leases that expire, and failover when members die.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "replication/etcd/etcd_client.h"
#include "tests/integration/etcd_util.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveEtcd()) GTEST_SKIP() << "Debian's etcd-server is not installed";
    etcd_ = std::make_unique<EtcdProcessCluster>(dir_.path());
    ASSERT_TRUE(etcd_->ok()) << etcd_->Log(0);
    EtcdOptions o;
    o.endpoints = *EtcdClient::ParseEndpoints(etcd_->Endpoints());
    o.timeout = absl::Seconds(2);
    client_ = *EtcdClient::Create(o);
  }
  TempDir dir_;
  std::unique_ptr<EtcdProcessCluster> etcd_;
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(EtcdClientTest, OnlyOneOfTwoWritersWinsACompareAndSwap) {
  ASSERT_TRUE(client_->Put("/t/a", "1").ok());
  absl::StatusOr<std::optional<EtcdValue>> got = client_->Get("/t/a");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status();
  EXPECT_EQ((*got)->value, "1");
  const int64_t seen = (*got)->mod_revision;
  int won = 0;
  for (const char* v : {"2", "3"}) {  // both read revision `seen`
    etcdserverpb::TxnRequest t;
    *t.add_compare() = EtcdClient::ModRevisionIs("/t/a", seen);
    *t.add_success() = EtcdClient::PutOp("/t/a", v);
    absl::StatusOr<etcdserverpb::TxnResponse> r = client_->Txn(t);
    ASSERT_TRUE(r.ok()) << r.status();
    won += r->succeeded();
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ((*client_->Get("/t/a"))->value, "2");
  // Revision 0 means "absent": creating twice succeeds once.
  etcdserverpb::TxnRequest create;
  *create.add_compare() = EtcdClient::ModRevisionIs("/t/new", 0);
  *create.add_success() = EtcdClient::PutOp("/t/new", "x");
  EXPECT_TRUE(client_->Txn(create)->succeeded());
  EXPECT_FALSE(client_->Txn(create)->succeeded());
  ASSERT_TRUE(client_->Put("/t/b", "b").ok());
  absl::StatusOr<std::vector<EtcdValue>> listed = client_->List("/t/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].key, "/t/a");
  EXPECT_EQ((*listed)[2].key, "/t/new");
  EXPECT_FALSE(*client_->Get("/t/none"));
}

TEST_F(EtcdClientTest, AKeyOnALeaseGoesWithItUnlessKeptAlive) {
  absl::StatusOr<int64_t> kept = client_->GrantLease(absl::Seconds(2));
  absl::StatusOr<int64_t> dropped = client_->GrantLease(absl::Seconds(2));
  ASSERT_TRUE(kept.ok() && dropped.ok()) << kept.status() << dropped.status();
  ASSERT_TRUE(client_->Put("/live/kept", "n1", *kept).ok());
  ASSERT_TRUE(client_->Put("/live/dropped", "n2", *dropped).ok());
  for (int i = 0; i < 8; ++i) {  // 4 s, twice the TTL
    ASSERT_TRUE(client_->KeepAlive(*kept).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(*client_->Get("/live/kept"));
  EXPECT_FALSE(*client_->Get("/live/dropped"));
  EXPECT_TRUE(absl::IsNotFound(client_->KeepAlive(*dropped)));
  ASSERT_TRUE(client_->RevokeLease(*kept).ok());
  EXPECT_FALSE(*client_->Get("/live/kept"));
}

TEST_F(EtcdClientTest, AMemberDownIsPassedOverAndNoQuorumSaysEtcd) {
  etcd_->Kill(0);  // the first endpoint the client tries
  absl::StatusOr<int64_t> put;
  for (int i = 0; i < 40 && !(put = client_->Put("/t/after", "1")).ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // a new leader if it led
  }
  ASSERT_TRUE(put.ok()) << put.status();
  etcd_->Kill(1);
  absl::StatusOr<int64_t> lost = client_->Put("/t/lost", "1");
  ASSERT_FALSE(lost.ok());
  EXPECT_TRUE(absl::IsUnavailable(lost.status()) || absl::IsDeadlineExceeded(lost.status()))
      << lost.status();
  EXPECT_NE(lost.status().message().find("etcd"), absl::string_view::npos) << lost.status();
  ASSERT_TRUE(etcd_->Start(0));
  absl::StatusOr<int64_t> back;
  for (int i = 0; i < 40 && !(back = client_->Put("/t/back", "1")).ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(back.ok()) << back.status();
}

}  // namespace
}  // namespace custody::testing
