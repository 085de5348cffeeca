// Nodes started with a cluster map: identity from the map, grpc.health.v1
// and server reflection on every node.
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/client.h"
#include "common/digest.h"
#include "custody/internal/v1/replica.grpc.pb.h"
#include "custody/v1/manifest.pb.h"
#include "replication/cluster/remote_blob_store.h"
#include "replication/cluster/replicating_blob_store.h"
#include "tests/integration/cluster_util.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {
namespace {

namespace fs = std::filesystem;

// One unary call by method name, with a raw (serialized) request.
grpc::Status RawCall(const std::string& address, const std::string& method,
                     const std::string& request, std::string* response) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Slice slice(request);
  grpc::ByteBuffer req(&slice, 1), resp;
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp, [&](grpc::Status s) {
    std::lock_guard<std::mutex> l(mu);
    status = s;
    done = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return done; });
  std::vector<grpc::Slice> slices;
  resp.Dump(&slices);
  response->clear();
  for (const grpc::Slice& s : slices)
    response->append(reinterpret_cast<const char*>(s.begin()), s.size());
  return status;
}

// The first response of a bidi-streaming call that gets one request.
std::string RawBidiFirst(const std::string& address, const std::string& method,
                         const std::string& request) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&ctx, method, &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  grpc::Slice slice(request);
  grpc::ByteBuffer req(&slice, 1), resp;
  call->Write(req, reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  call->Read(&resp, reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  std::string out;
  if (ok) {
    std::vector<grpc::Slice> slices;
    resp.Dump(&slices);
    for (const grpc::Slice& s : slices)
      out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  ctx.TryCancel();
  grpc::Status st;
  call->Finish(&st, reinterpret_cast<void*>(4));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(4)) {
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return out;
}

TEST(ClusterNodeTest, NodeTakesItsIdentityFromTheMap) {
  TempDir dir;
  std::vector<int> ports;
  std::string map = WriteMap(dir / "map.json", 3, 7, 2, &ports);
  NodeProcess n2(dir / "n2", {"--cluster", map, "--node-id", "n2"});
  ASSERT_TRUE(n2.Start()) << n2.Log();
  auto st = CustodyClient::Connect(n2.address())->NodeStatus();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->node_id(), "n2");
  EXPECT_EQ(st->map_version(), 7u);
  EXPECT_EQ(st->zone(), "b");
  EXPECT_EQ(st->replication_factor(), 2u);
  n2.Kill(SIGTERM);
  // The folder now belongs to n2: it will not start as n1.
  Subprocess as_n1({CUSTODYD_PATH, "--data", dir / "n2", "--listen", "127.0.0.1:0", "--cluster",
                    map, "--node-id", "n1", "--insecure-loopback"},
                   dir / "n1.out", dir / "n1.err");
  EXPECT_EQ(as_n1.Wait(), 1);
  EXPECT_NE(ReadFile(dir / "n1.err").find("belongs to node n2, not n1"), std::string::npos)
      << ReadFile(dir / "n1.err");
  Subprocess stranger({CUSTODYD_PATH, "--data", dir / "n9", "--cluster", map, "--node-id", "n9"},
                      dir / "n9.out", dir / "n9.err");
  EXPECT_EQ(stranger.Wait(), 1);
  EXPECT_NE(ReadFile(dir / "n9.err").find("node id n9 is not in the cluster map"),
            std::string::npos);
}

TEST(ClusterNodeTest, EveryNodeAnswersHealthChecksAndReflection) {
  TempDir dir;
  NodeProcess node(dir / "data");
  ASSERT_TRUE(node.Start()) << node.Log();
  std::string resp;
  // grpc.health.v1.HealthCheckRequest{service: ""} is empty; SERVING is status = 1.
  grpc::Status s = RawCall(node.address(), "/grpc.health.v1.Health/Check", "", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp, std::string("\x08\x01", 2));
  // Each public service by name (HealthCheckRequest.service is field 1);
  // an internal or unknown one is NOT_FOUND.
  for (const std::string name : {"custody.v1.Custody", "custody.v1.Audit", "custody.v1.Access",
                                 "custody.v1.Records", "custody.v1.Snapshots", "custody.v1.Live"}) {
    std::string req = std::string("\x0a", 1) + static_cast<char>(name.size()) + name;
    s = RawCall(node.address(), "/grpc.health.v1.Health/Check", req, &resp);
    ASSERT_TRUE(s.ok()) << name << ": " << s.error_message();
    EXPECT_EQ(resp, std::string("\x08\x01", 2)) << name;
  }
  const std::string internal = "custody.internal.v1.Replica";
  s = RawCall(node.address(), "/grpc.health.v1.Health/Check",
              std::string("\x0a", 1) + static_cast<char>(internal.size()) + internal, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  // ServerReflectionRequest{list_services: ""} (field 7).
  std::string listing =
      RawBidiFirst(node.address(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                   std::string("\x3a\x00", 2));
  EXPECT_NE(listing.find("custody.v1.Custody"), std::string::npos);
  EXPECT_NE(listing.find("custody.v1.Audit"), std::string::npos);
}

TEST(NodeMetricsTest, MetricsCountBytesStreamsAndCorruptChunks) {
  TempDir dir;
  int port = FreePort();
  NodeProcess node(dir / "data", {"--metrics-listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(node.Start()) << node.Log();
  std::string file = dir / "clip.mp4";
  std::string id = WriteRandomFile(file, 3000000, 4);
  ASSERT_EQ(RunCli({"--server", node.address(), "put", file}).exit_code, 0);
  ASSERT_EQ(RunCli({"--server", node.address(), "get", id, "-o", dir / "back"}).exit_code, 0);
  std::string m = HttpGet(port, "/metrics");
  EXPECT_NE(m.find("custody_ingest_bytes_total 3000000\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_read_bytes_total 3000000\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_uploads_total{result=\"ok\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_upload_seconds_count 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_objects 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_corrupt_chunks_found_total 0\n"), std::string::npos) << m;
  EXPECT_EQ(HttpGet(port, "/other").find("custody_"), std::string::npos);

  // Flip a byte of the first chunk inside the volume: the read is refused and counted.
  std::string volume;
  for (const auto& e : fs::directory_iterator(dir / "data/volumes")) volume = e.path();
  int fd = open(volume.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char b = 0;
  ASSERT_EQ(pread(fd, &b, 1, 4096 + 4096 + 100), 1);
  b ^= 0x40;
  ASSERT_EQ(pwrite(fd, &b, 1, 4096 + 4096 + 100), 1);
  fsync(fd);
  close(fd);
  CliResult bad = RunCli({"--server", node.address(), "get", id, "-o", dir / "again"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("DATA_LOSS"), std::string::npos) << bad.err;
  m = HttpGet(port, "/metrics");
  EXPECT_NE(m.find("custody_corrupt_chunks_found_total 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("custody_downloads_total{result=\"failed\"} 1\n"), std::string::npos) << m;
}

// A call from "node n1" running map version `version` to a node's Replica service.
std::unique_ptr<grpc::ClientContext> PeerContext(int version) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (version >= 0) ctx->AddMetadata("custody-map-version", std::to_string(version));
  ctx->AddMetadata("custody-node-id", "n1");
  return ctx;
}

TEST(ReplicaServiceTest, PeersStoreAndReadBlobsAndAMismatchedMapIsRefused) {
  TempDir dir;
  std::vector<int> ports;
  std::string map = WriteMap(dir / "map.json", 2, 5, 2, &ports);
  NodeProcess n2(dir / "n2", {"--cluster", map, "--node-id", "n2"});
  ASSERT_TRUE(n2.Start()) << n2.Log();
  auto stub = internal::v1::Replica::NewStub(CustodyClient::NewChannel(n2.address()));
  std::string chunk = RandomBytes(1 << 20, 7);
  Digest key = Digest::Of(chunk);

  internal::v1::PutBlobRequest put;
  put.set_kind(internal::v1::CHUNK);
  put.set_key(std::string(key.Raw()));
  put.set_data(chunk);
  internal::v1::PutBlobResponse put_resp;
  internal::v1::PutBlobRequest forged = put;
  forged.set_data(chunk + "x");  // does not hash to the key, and the key is new
  EXPECT_EQ(stub->PutBlob(PeerContext(5).get(), forged, &put_resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(stub->PutBlob(PeerContext(5).get(), put, &put_resp).ok());
  EXPECT_FALSE(put_resp.already_held());
  ASSERT_TRUE(stub->PutBlob(PeerContext(5).get(), put, &put_resp).ok());
  EXPECT_TRUE(put_resp.already_held());

  internal::v1::GetBlobRequest get;
  get.set_kind(internal::v1::CHUNK);
  get.set_key(std::string(key.Raw()));
  internal::v1::GetBlobResponse got;
  ASSERT_TRUE(stub->GetBlob(PeerContext(5).get(), get, &got).ok());
  EXPECT_EQ(got.data(), chunk);

  internal::v1::FindMissingRequest find;
  find.set_kind(internal::v1::CHUNK);
  find.add_keys(std::string(key.Raw()));
  find.add_keys(std::string(Digest::Of("absent").Raw()));
  internal::v1::FindMissingResponse missing;
  ASSERT_TRUE(stub->FindMissing(PeerContext(5).get(), find, &missing).ok());
  ASSERT_EQ(missing.missing_size(), 1);
  EXPECT_EQ(missing.missing(0), Digest::Of("absent").Raw());

  put.set_data(chunk + "x");  // does not hash to the key
  grpc::Status bad = stub->PutBlob(PeerContext(5).get(), put, &put_resp);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.error_message();

  grpc::Status old_map = stub->GetBlob(PeerContext(4).get(), get, &got);
  EXPECT_EQ(old_map.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(old_map.error_message().find("node n1 runs map version 4 but this node runs "
                                         "version 5"),
            std::string::npos)
      << old_map.error_message();
  grpc::Status no_map = stub->GetBlob(PeerContext(-1).get(), get, &got);
  EXPECT_EQ(no_map.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(ReplicaServiceTest, AManifestPlacedByAPeerIsAnObjectWithItsOwnAuditEvent) {
  TempDir dir;
  std::vector<int> ports;
  std::string map = WriteMap(dir / "map.json", 2, 5, 2, &ports);
  NodeProcess n2(dir / "n2", {"--cluster", map, "--node-id", "n2"});
  ASSERT_TRUE(n2.Start()) << n2.Log();
  auto stub = internal::v1::Replica::NewStub(CustodyClient::NewChannel(n2.address()));
  std::string bytes = RandomBytes(5000, 8);
  Digest id = Digest::Of(bytes);
  internal::v1::PutBlobRequest chunk;
  chunk.set_kind(internal::v1::CHUNK);
  chunk.set_key(std::string(id.Raw()));  // one chunk: the chunk's hash is the file's
  chunk.set_data(bytes);
  internal::v1::PutBlobResponse resp;
  ASSERT_TRUE(stub->PutBlob(PeerContext(5).get(), chunk, &resp).ok());
  v1::ObjectManifest m;
  m.set_sha256(std::string(id.Raw()));
  m.set_size(bytes.size());
  m.set_file_name("hearing.mp4");
  m.set_chunk_size(4 << 20);
  m.add_chunks(std::string(id.Raw()));
  internal::v1::PutBlobRequest manifest;
  manifest.set_kind(internal::v1::MANIFEST);
  manifest.set_key(std::string(id.Raw()));
  manifest.set_data(m.SerializeAsString());
  manifest.set_handoff_for("n3");
  ASSERT_TRUE(stub->PutBlob(PeerContext(5).get(), manifest, &resp).ok());

  CliResult get = RunCli({"--server", n2.address(), "get", id.ToString(), "-o", dir / "back"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(ReadFile(dir / "back"), bytes);
  CliResult log = RunCli({"--server", n2.address(), "audit", "log", id.ToString(), "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  auto events = nlohmann::json::parse(log.out)["events"];
  ASSERT_GE(events.size(), 1u);
  EXPECT_EQ(events[0]["action"], "object.stored");
  EXPECT_EQ(events[0]["details"]["role"], "handoff");
  EXPECT_EQ(events[0]["details"]["handoff_for"], "n3");
  EXPECT_EQ(events[0]["details"]["from_node"], "n1");
}

// Three real nodes (R = 2, zones a, b, a) and this test as the coordinator:
// chunks land on exactly their home nodes, survive one node's kill -9 (reads
// fall through, writes go to the next node), and writes fail cleanly when
// too few nodes are left.
TEST(ReplicationTest, ChunksOnThreeNodesSurviveOneKillAndRefuseWithTwoDown) {
  TempDir dir;
  std::vector<int> ports;
  std::string map_file = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  auto map = std::make_shared<const ClusterMap>(*ClusterMap::Load(map_file));
  std::vector<std::unique_ptr<NodeProcess>> nodes = StartMappedNodes(dir, map_file, ports);
  ASSERT_EQ(nodes.size(), 3u);
  std::map<std::string, std::unique_ptr<PeerClient>> peers;
  std::map<std::string, std::unique_ptr<RemoteBlobStore>> remotes;
  for (int i = 0; i < 3; ++i) {
    std::string id = "n" + std::to_string(i + 1);
    peers[id] = std::make_unique<PeerClient>(CustodyClient::NewChannel(nodes[i]->address()), map,
                                             "n1", absl::Seconds(5));
    remotes[id] = std::make_unique<RemoteBlobStore>(peers[id].get());
  }
  ReplicatingBlobStore store(map, "n1", [&](const NodeInfo& n) { return remotes.at(n.id).get(); });
  auto put = [&](const std::string& data) {
    absl::Notification done;
    absl::Status status;
    store.Put(Digest::Of(data), data, [&](absl::Status s) {
      status = s;
      done.Notify();
    });
    done.WaitForNotification();
    return status;
  };
  std::vector<std::string> chunks;
  for (int i = 0; i < 20; ++i) {
    chunks.push_back(RandomBytes(64 << 10, 100 + i));
    ASSERT_TRUE(put(chunks.back()).ok());
    Digest d = Digest::Of(chunks.back());
    auto rank = map->Rank(d);
    for (const NodeInfo* n : rank) {
      bool home = n == rank[0] || n == rank[1];
      EXPECT_EQ(remotes.at(n->id)->FindMissing({d})->empty(), home) << n->id;
    }
    EXPECT_NE(rank[0]->zone, rank[1]->zone);
  }
  nodes[1]->Kill(SIGKILL);  // n2
  for (const std::string& c : chunks) {
    auto got = store.Get(Digest::Of(c));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, c);
  }
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(put(RandomBytes(1000, 500 + i)).ok());
  nodes[2]->Kill(SIGKILL);  // n3: one node left, R = 2
  absl::Status refused = put(RandomBytes(1000, 900));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_NE(refused.message().find("only 1 of the 2 nodes needed"), std::string::npos) << refused;
}

TEST(ClusterStatusTest, AnyNodeReportsEveryNodeUpOrDown) {
  TempDir dir;
  std::vector<int> ports;
  std::string map = WriteMap(dir / "map.json", 3, 2, 2, &ports);
  std::vector<std::unique_ptr<NodeProcess>> nodes = StartMappedNodes(dir, map, ports);
  ASSERT_EQ(nodes.size(), 3u);
  nodes[2]->Kill(SIGKILL);
  CliResult r = RunCli({"--server", nodes[1]->address(), "cluster", "status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["map_version"], 2);
  EXPECT_EQ(j["replication_factor"], 2);
  EXPECT_EQ(j["answered_by"], "n2");
  ASSERT_EQ(j["nodes"].size(), 3u);
  EXPECT_EQ(j["nodes"][0]["id"], "n1");
  EXPECT_TRUE(j["nodes"][0]["up"].get<bool>());
  EXPECT_EQ(j["nodes"][0]["zone"], "a");
  EXPECT_TRUE(j["nodes"][1]["up"].get<bool>());
  EXPECT_FALSE(j["nodes"][2]["up"].get<bool>());
  EXPECT_FALSE(j["nodes"][2]["error"].get<std::string>().empty());
  CliResult table = RunCli({"--server", nodes[0]->address(), "cluster", "status"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("DOWN"), std::string::npos) << table.out;
}

// Objects put through any node of three (R = 2) are on exactly two nodes in
// different zones, read back bit-exact through every node, survive kill -9
// of one node, and new puts fail cleanly with two nodes down.
TEST(ReplicationTest, ObjectsPutThroughAnyNodeLiveOnTwoNodesAndSurviveAKill) {
  TempDir dir;
  std::vector<int> ports;
  std::string map_file = WriteMap(dir / "map.json", 3, 1, 2, &ports);
  auto map = *ClusterMap::Load(map_file);
  std::vector<std::unique_ptr<NodeProcess>> nodes = StartMappedNodes(dir, map_file, ports);
  ASSERT_EQ(nodes.size(), 3u);
  const uint64_t sizes[] = {1000, 300 << 10, 4 << 20, (9 << 20) + 17};
  std::vector<std::pair<std::string, std::string>> objects;  // id, path
  for (int i = 0; i < 24; ++i) {
    std::string path = dir / ("obj-" + std::to_string(i));
    std::string id = WriteRandomFile(path, sizes[i % 4], 40 + i);
    CliResult put = RunCli({"--server", nodes[i % 3]->address(), "put", path, "--json"});
    ASSERT_EQ(put.exit_code, 0) << put.err;
    auto j = nlohmann::json::parse(put.out);
    EXPECT_EQ(j["durable_replicas"], 2);
    EXPECT_EQ(j["required_replicas"], 2);
    Digest d = *Digest::Parse(id);
    std::vector<std::string> holders = Holders(nodes, internal::v1::MANIFEST, d);
    ASSERT_EQ(holders.size(), 2u) << id;
    EXPECT_NE(map.Find(holders[0])->zone, map.Find(holders[1])->zone) << id;
    objects.emplace_back(id, path);
  }
  auto read_back = [&](NodeProcess* via, const std::string& id, const std::string& path) {
    std::string out = dir / ("back-" + std::to_string(std::rand()));
    CliResult get = RunCli({"--server", via->address(), "get", id, "-o", out});
    EXPECT_EQ(get.exit_code, 0) << get.err;
    EXPECT_EQ(HashFile(out), id);
    fs::remove(out);
    (void)path;
  };
  for (size_t i = 0; i < objects.size(); i += 5) {
    for (auto& n : nodes) read_back(n.get(), objects[i].first, objects[i].second);
  }
  // Any node shows the merged history: the object stored on both of its
  // home nodes, and read through each of the three.
  CliResult hist =
      RunCli({"--server", nodes[2]->address(), "audit", "log", objects[0].first, "--json"});
  ASSERT_EQ(hist.exit_code, 0) << hist.err;
  std::set<std::string> stored_on, read_on;
  auto history = nlohmann::json::parse(hist.out);
  for (const auto& e : history["events"]) {
    if (e["action"] == "object.stored") stored_on.insert(e["node"].get<std::string>());
    if (e["action"] == "object.read") read_on.insert(e["node"].get<std::string>());
  }
  EXPECT_EQ(stored_on.size(), 2u) << hist.out;
  EXPECT_EQ(read_on.size(), 3u) << hist.out;
  nodes[1]->Kill(SIGKILL);  // n2
  for (const auto& [id, path] : objects) read_back(nodes[(id[10] % 2) ? 0 : 2].get(), id, path);
  std::string late = dir / "late";
  std::string late_id = WriteRandomFile(late, 2 << 20, 99);
  CliResult put = RunCli({"--server", nodes[0]->address(), "put", late, "--json"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(nlohmann::json::parse(put.out)["durable_replicas"], 2);
  read_back(nodes[2].get(), late_id, late);
  nodes[2]->Kill(SIGKILL);  // n3: n1 alone cannot hold two copies
  std::string refused = dir / "refused";
  WriteRandomFile(refused, 5000, 100);
  CliResult no = RunCli({"--server", nodes[0]->address(), "put", refused});
  EXPECT_EQ(no.exit_code, 1);
  EXPECT_NE(no.err.find("UNAVAILABLE"), std::string::npos) << no.err;
}

}  // namespace
}  // namespace custody::testing
