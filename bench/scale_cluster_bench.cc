// custody_scale_cluster_bench: issue 27's series on a cluster of three real
// custodyd processes (R = 2, zones a, b, a) on 127.0.0.1, over gRPC.
//
// For each size asked for (--at, in ledger entries):
//   1. fill: the three data folders are opened in this process and grow by
//      the same synthetic history as custody_scale_bench's (bench/
//      scale_history.h): n1 writes each entry through its ledger, n2 and n3
//      take it as a peer's PutLedger hands it over. --ops access requests
//      are left waiting, for the approvals timed below.
//   2. start: the folders are closed and three custodyd processes started on
//      them as a cluster; start-up is the time until each answers NodeStatus.
//   3. over gRPC to n1, --ops times each: a put of 1 KiB of new bytes (two
//      durable copies), Records.Attach of it to a record, Records.Create, the
//      next RPC after that write (NodeStatus), the time until n3 shows the new
//      record (the entry replicated and applied on a peer), Access.Decide
//      (an approval), and the first page (50) of Records.List, Custody.List
//      (ls) and Access.ListAccess. Then each process's RSS, and a stop.
// With --objects-at, the cluster also grows in objects through real puts
// (1 KiB, 4 client threads, at the end) and the put is timed at each size.
#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/bench_node.h"
#include "bench/scale_history.h"
#include "client/client.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "custody/v1/access.grpc.pb.h"
#include "custody/v1/records.grpc.pb.h"

namespace custody::bench {
namespace {

namespace fs = std::filesystem;

struct Config {
  std::string dir = "bench-tmp/scale-cluster", custodyd;
  std::vector<uint64_t> at, objects_at;
  int ops = 100;
};

NodeOptions FolderOptions(const Config& cfg, int i) {
  NodeOptions o;
  o.data_dir = absl::StrCat(cfg.dir, "/n", i + 1);
  o.node_id = absl::StrCat("n", i + 1);
  o.chunk_size = 64 << 10;
  o.min_free_bytes = 64ull << 20;
  return o;
}

// The three folders, open in this process while the history grows.
struct Folders {
  std::vector<std::unique_ptr<custody::Node>> nodes;
  absl::Status Open(const Config& cfg) {
    nodes.clear();
    for (int i = 0; i < 3; ++i) {
      fs::create_directories(absl::StrCat(cfg.dir, "/n", i + 1));
      ASSIGN_OR_RETURN(std::unique_ptr<custody::Node> n,
                       custody::Node::Open(FolderOptions(cfg, i)));
      nodes.push_back(std::move(n));
    }
    return absl::OkStatus();
  }
};

// Grows the history to `target` entries, then leaves `ops` requests waiting.
absl::StatusOr<std::vector<std::string>> Fill(History* h, uint64_t target, int ops) {
  const absl::Time t0 = absl::Now();
  const uint64_t from = h->entries();
  while (h->entries() < target) {
    RETURN_IF_ERROR(h->Record());
    if (h->records().size() % 20000 == 0) {
      std::fprintf(stderr, "  %llu entries, %.0f/s\n",
                   static_cast<unsigned long long>(h->entries()),
                   (h->entries() - from) / absl::ToDoubleSeconds(absl::Now() - t0));
    }
  }
  std::vector<std::string> waiting;
  for (int i = 0; i < ops; ++i) {
    RETURN_IF_ERROR(h->Request(h->records()[i % h->records().size()]));
    waiting.push_back(h->last_id());
  }
  return waiting;
}

// Three custodyd processes on the folders.
struct Cluster {
  std::vector<bench::Node> procs;
  std::vector<double> startup_s;
};

absl::StatusOr<Cluster> Start(const Config& cfg, int round) {
  const std::string map = absl::StrCat(cfg.dir, "/map.json");
  WriteLocalClusterMap(map);
  Cluster c;
  for (int i = 0; i < 3; ++i) {
    const std::string name = absl::StrCat("n", i + 1);
    const absl::Time t = absl::Now();
    ASSIGN_OR_RETURN(
        bench::Node n,
        StartNode(cfg.custodyd, absl::StrCat(cfg.dir, "/", name),
                  absl::StrCat(cfg.dir, "/", name, ".port"),
                  absl::StrCat(cfg.dir, "/", name, "-", round, ".log"),
                  {"--cluster", map, "--node-id", name, "--repair-interval", "0"}, true));
    v1::Custody::Stub stub(CustodyClient::NewChannel(n.address));
    for (;;) {
      grpc::ClientContext ctx;
      v1::NodeStatusResponse out;
      if (stub.NodeStatus(&ctx, v1::NodeStatusRequest(), &out).ok()) break;
      if (absl::Now() - t > absl::Seconds(120)) return absl::DeadlineExceededError(name);
      absl::SleepFor(absl::Milliseconds(5));
    }
    c.startup_s.push_back(absl::ToDoubleSeconds(absl::Now() - t));
    c.procs.push_back(std::move(n));
  }
  return c;
}

// A file of 1 KiB unique to `n`, for a put.
std::string SmallFile(const Config& cfg, uint64_t n) {
  std::string path = absl::StrCat(cfg.dir, "/put-", n, ".bin");
  std::string data(1024, '\0');
  for (size_t i = 0; i + 8 <= data.size(); i += 8) {
    uint64_t v = n * 1000003 + i + (uint64_t{1} << 44);
    std::memcpy(&data[i], &v, 8);
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  return path;
}

absl::StatusOr<PutResult> PutNew(CustodyClient* client, const Config& cfg, uint64_t n) {
  PutOptions o;
  o.upload_id = absl::StrCat("scale-", n);
  o.file_name = absl::StrCat("obj-", n, ".bin");
  const std::string path = SmallFile(cfg, n);
  absl::StatusOr<PutResult> r = client->Put(path, o);
  std::error_code ec;
  fs::remove(path, ec);
  if (r.ok() && r->durable_replicas < 2)
    return absl::InternalError("a put left fewer than 2 copies");
  return r;
}

struct Row {
  uint64_t entries = 0, records = 0;
  Stats put, attach, create, after_write, on_peer, approve, records_page, ls_page, access_page;
  std::vector<double> startup_s, rss;
};

// Calls `method` on `stub` with a 60 s deadline.
template <typename Stub, typename Req, typename Resp>
absl::Status Call(Stub* stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                  const Req& req, Resp* resp) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return FromGrpcStatus((stub->*method)(&ctx, req, resp));
}

// Times `f` into `ms`.
template <typename F>
absl::Status Time(std::vector<double>* ms, F&& f) {
  const absl::Time t = absl::Now();
  absl::Status s = f();
  ms->push_back(Ms(t));
  return s;
}

}  // namespace
}  // namespace custody::bench

namespace custody::bench {
namespace {

// The operations over gRPC against the running cluster.
absl::Status MeasureRpcs(const Config& cfg, const Cluster& c,
                         const std::vector<std::string>& waiting, uint64_t* put_seq, Row* row) {
  auto ch1 = CustodyClient::NewChannel(c.procs[0].address);
  v1::Records::Stub records(ch1), peer_records(CustodyClient::NewChannel(c.procs[2].address));
  v1::Access::Stub access(ch1);
  v1::Custody::Stub custody(ch1);
  CustodyClient client(ch1);
  std::vector<double> put, attach, create, after, on_peer, approve, rpage, lpage, apage;
  for (int i = 0; i < cfg.ops; ++i) {
    v1::Record r;
    RETURN_IF_ERROR(Time(
        &create, [&] { return Call(&records, &v1::Records::Stub::Create, NewBenchRecord(), &r); }));
    const absl::Time created = absl::Now();
    v1::NodeStatusResponse st;
    RETURN_IF_ERROR(Time(&after, [&] {
      return Call(&custody, &v1::Custody::Stub::NodeStatus, v1::NodeStatusRequest(), &st);
    }));
    for (v1::RecordRef ref;;) {  // until n3 has applied the entry
      ref.set_record_id(r.id());
      v1::Record seen;
      absl::Status s = Call(&peer_records, &v1::Records::Stub::Show, ref, &seen);
      if (s.ok()) break;
      if (!absl::IsNotFound(s) || absl::Now() - created > absl::Seconds(30)) return s;
    }
    on_peer.push_back(Ms(created));
    absl::StatusOr<PutResult> p;
    RETURN_IF_ERROR(Time(&put, [&] { return (p = PutNew(&client, cfg, (*put_seq)++)).status(); }));
    v1::AttachRequest a;
    a.set_record_id(r.id());
    a.set_object_id(p->id);
    a.set_kind("video");
    RETURN_IF_ERROR(
        Time(&attach, [&] { return Call(&records, &v1::Records::Stub::Attach, a, &r); }));
    v1::AccessDecideRequest d;
    d.set_request_id(waiting[i]);
    d.set_approve(true);
    v1::AccessGrant g;
    RETURN_IF_ERROR(
        Time(&approve, [&] { return Call(&access, &v1::Access::Stub::Decide, d, &g); }));
    v1::ListRecordsRequest lr;
    lr.set_page_size(50);
    v1::ListRecordsResponse lro;
    RETURN_IF_ERROR(
        Time(&rpage, [&] { return Call(&records, &v1::Records::Stub::List, lr, &lro); }));
    v1::ListRequest ls;
    ls.set_page_size(50);
    v1::ListResponse lso;
    RETURN_IF_ERROR(
        Time(&lpage, [&] { return Call(&custody, &v1::Custody::Stub::List, ls, &lso); }));
    v1::AccessListRequest al;
    al.set_page_size(50);
    v1::AccessListResponse alo;
    RETURN_IF_ERROR(
        Time(&apage, [&] { return Call(&access, &v1::Access::Stub::ListAccess, al, &alo); }));
    if (lro.records_size() != 50 || alo.grants_size() != 50) {
      return absl::InternalError("a first page is not full");
    }
  }
  row->put = Of(put);
  row->attach = Of(attach);
  row->create = Of(create);
  row->after_write = Of(after);
  row->on_peer = Of(on_peer);
  row->approve = Of(approve);
  row->records_page = Of(rpage);
  row->ls_page = Of(lpage);
  row->access_page = Of(apage);
  for (const bench::Node& n : c.procs) row->rss.push_back(MemoryMiB("VmRSS", n.child.pid()));
  return absl::OkStatus();
}

// Puts objects [*put_seq, target) through the cluster on 4 threads.
absl::Status PutMany(const Config& cfg, const Cluster& c, uint64_t target, uint64_t* put_seq) {
  std::atomic<uint64_t> next{*put_seq};
  std::atomic<bool> failed{false};
  std::string servers;
  for (const bench::Node& n : c.procs)
    absl::StrAppend(&servers, servers.empty() ? "" : ",", n.address);
  std::vector<absl::Status> errors(4);
  std::vector<std::thread> pool;
  const absl::Time t0 = absl::Now();
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&, t] {
      std::unique_ptr<CustodyClient> client = CustodyClient::Connect(servers);
      for (uint64_t n = next++; n < target && !failed; n = next++) {
        absl::StatusOr<PutResult> r = PutNew(client.get(), cfg, n);
        if (!r.ok()) errors[t] = r.status(), failed = true;
        if (n % 10000 == 0) {
          std::fprintf(stderr, "  %llu objects, %.0f puts/s\n", static_cast<unsigned long long>(n),
                       (n - *put_seq) / absl::ToDoubleSeconds(absl::Now() - t0));
        }
      }
    });
  }
  for (std::thread& t : pool) t.join();
  *put_seq = std::max<uint64_t>(*put_seq, target);
  for (const absl::Status& s : errors) RETURN_IF_ERROR(s);
  return absl::OkStatus();
}

// Times --ops puts one at a time, and prints them with the nodes' RSS.
absl::Status MeasurePuts(const Config& cfg, const Cluster& c, uint64_t* put_seq) {
  const uint64_t held = *put_seq;
  CustodyClient client(CustodyClient::NewChannel(c.procs[0].address));
  std::vector<double> ms;
  for (int i = 0; i < cfg.ops; ++i) {
    RETURN_IF_ERROR(Time(&ms, [&] { return PutNew(&client, cfg, (*put_seq)++).status(); }));
  }
  const Stats st = Of(ms);
  std::printf("%7llu | %.2f / %.2f | %.0f/%.0f/%.0f\n", static_cast<unsigned long long>(held),
              st.median_ms, st.p99_ms, MemoryMiB("VmRSS", c.procs[0].child.pid()),
              MemoryMiB("VmRSS", c.procs[1].child.pid()),
              MemoryMiB("VmRSS", c.procs[2].child.pid()));
  std::fflush(stdout);
  return absl::OkStatus();
}

void PrintRows(const std::vector<Row>& rows) {
  std::printf(
      "entries  records | start s n1/n2/n3 | put ms p50/p99 | attach | create | next RPC | on peer "
      "| "
      "approve | record page | ls page | access page | RSS MiB n1/n2/n3\n");
  for (const Row& r : rows) {
    std::printf("%8llu %7llu | %.2f/%.2f/%.2f", static_cast<unsigned long long>(r.entries),
                static_cast<unsigned long long>(r.records), r.startup_s[0], r.startup_s[1],
                r.startup_s[2]);
    for (const Stats& s : {r.put, r.attach, r.create, r.after_write, r.on_peer, r.approve,
                           r.records_page, r.ls_page, r.access_page}) {
      std::printf(" | %.2f / %.2f", s.median_ms, s.p99_ms);
    }
    std::printf(" | %.0f/%.0f/%.0f\n", r.rss[0], r.rss[1], r.rss[2]);
    std::fflush(stdout);
  }
}

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

int RunSeries(const Config& cfg) {
  Folders f;
  if (absl::Status s = f.Open(cfg); !s.ok()) return Fail("opening the folders", s);
  History h(f.nodes[0].get(), {f.nodes[1].get(), f.nodes[2].get()});
  std::vector<Row> rows;
  uint64_t put_seq = 0;
  for (size_t round = 0; round < cfg.at.size(); ++round) {
    absl::StatusOr<std::vector<std::string>> waiting = Fill(&h, cfg.at[round], cfg.ops);
    if (!waiting.ok()) return Fail("filling", waiting.status());
    Row row;
    row.entries = h.entries();
    row.records = h.records().size();
    f.nodes.clear();
    absl::StatusOr<Cluster> c = Start(cfg, static_cast<int>(round));
    if (!c.ok()) return Fail("starting the cluster", c.status());
    row.startup_s = c->startup_s;
    if (absl::Status s = MeasureRpcs(cfg, *c, *waiting, &put_seq, &row); !s.ok()) {
      return Fail("measuring", s);
    }
    rows.push_back(row);
    PrintRows({row});
    const bool last = round + 1 == cfg.at.size();
    if (last && !cfg.objects_at.empty()) {
      std::printf("objects | put ms p50/p99 (one at a time) | RSS MiB n1/n2/n3\n");
    }
    for (size_t k = 0; last && k < cfg.objects_at.size(); ++k) {
      if (absl::Status s = PutMany(cfg, *c, cfg.objects_at[k], &put_seq); !s.ok()) {
        return Fail("putting objects", s);
      }
      if (absl::Status s = MeasurePuts(cfg, *c, &put_seq); !s.ok()) return Fail("measuring", s);
    }
    for (bench::Node& n : c->procs) {
      if (absl::Status s = n.child.Stop(std::chrono::seconds(30)); !s.ok())
        return Fail("stopping", s);
    }
    if (last) break;
    if (absl::Status s = f.Open(cfg); !s.ok()) return Fail("reopening the folders", s);
    h.Rebind(f.nodes[0].get(), {f.nodes[1].get(), f.nodes[2].get()});
  }
  PrintRows(rows);
  return 0;
}

}  // namespace
}  // namespace custody::bench

namespace custody::bench {

absl::Status ParseSizes(const std::string& text, std::vector<uint64_t>* out) {
  for (absl::string_view v : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(v, &n))
      return absl::InvalidArgumentError(absl::StrCat("\"", v, "\" is not a number"));
    out->push_back(n);
  }
  std::sort(out->begin(), out->end());
  return absl::OkStatus();
}

}  // namespace custody::bench

int main(int argc, char** argv) {
  CLI::App app{"custody_scale_cluster_bench: a 3-node cluster's costs as its history grows"};
  custody::bench::Config cfg;
  std::string at = "10000,100000,1000000", objects_at;
  app.add_option("--dir", cfg.dir, "a new or empty folder for the three nodes' data");
  app.add_option("--at", at, "ledger sizes to measure at, in entries, comma-separated");
  app.add_option("--objects-at", objects_at,
                 "after the last size: grow the cluster to these object counts by real puts "
                 "(1 KiB, 4 threads) and time a put at each");
  app.add_option("--ops", cfg.ops, "operations of each kind per measurement");
  CLI11_PARSE(app, argc, argv);
  for (auto [text, out] : {std::pair{&at, &cfg.at}, std::pair{&objects_at, &cfg.objects_at}}) {
    if (absl::Status s = custody::bench::ParseSizes(*text, out); !s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  std::error_code ec;
  if (std::filesystem::exists(cfg.dir, ec) && !std::filesystem::is_empty(cfg.dir, ec)) {
    std::fprintf(stderr, "--dir %s is not empty: give a new folder, or remove it first\n",
                 cfg.dir.c_str());
    return 2;
  }
  if (cfg.at.empty() || cfg.ops < 1) {
    std::fprintf(stderr, "--at needs a size and --ops at least 1\n");
    return 2;
  }
  cfg.custodyd = custody::bench::Beside("custodyd");
  custody::bench::InstallCleanupHandlers();
  return custody::bench::RunSeries(cfg);
}
