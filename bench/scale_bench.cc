// custody_scale_bench: how a node's costs grow with its history (issue 27),
// in-process on one node.
//
// It fills a node with a synthetic agency history through the node's own
// ledger (server/security/ledger.h), each entry stored, audited and folded as
// any other: per record a creation, two attached segments and an archive
// number; for every tenth record an access request and its two approvals.
// At each size asked for (--at) it measures, with the history there:
//   - ledger writes: a record created (RecordKeeper::Create, the RPC's path),
//     a segment attached, an access approval -- each followed by the read an
//     RPC makes after it (the record, the caller's live grant);
//   - the first page of the record list (50 records);
//   - the node's RSS and peak RSS;
//   - a restart: Node::Open on the same folder, and RSS after it.
// Each figure is the median and the 99th percentile of --ops operations.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/scale_history.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/node.h"
#include "server/records/record_query.h"

namespace custody {
namespace {

using bench::History;
using bench::MemoryMiB;
using bench::Ms;
using bench::Of;
using bench::Stats;

NodeOptions Options(const std::string& dir);

// One small object stored as a client's put is: 1 KiB of bytes unique to `n`.
absl::Status PutObject(Node* node, uint64_t n) {
  std::string data(1024, '\0');
  for (size_t i = 0; i < data.size(); i += 8) {
    uint64_t v = n * 1000003 + i;
    std::memcpy(&data[i], &v, 8);
  }
  v1::UploadHeader h;
  h.set_upload_id(absl::StrCat("scale-", n));
  h.set_file_name(absl::StrCat("obj-", n, ".bin"));
  h.set_size(data.size());
  ASSIGN_OR_RETURN(std::unique_ptr<Upload> up, node->uploads()->Begin(h));
  RETURN_IF_ERROR(up->Append(data));
  return up->Finish(Digest::Of(data).ToString()).status();
}

// Stores objects [from, to) on `threads` threads (a burst of uploads).
absl::Status PutMany(Node* node, uint64_t from, uint64_t to, int threads) {
  std::atomic<uint64_t> next{from};
  std::atomic<bool> failed{false};
  absl::Mutex mu;
  absl::Status first;
  std::vector<std::thread> pool;
  const absl::Time t0 = absl::Now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (uint64_t n = next++; n < to && !failed; n = next++) {
        absl::Status s = PutObject(node, n);
        if (!s.ok()) {
          absl::MutexLock l(&mu);
          if (first.ok()) first = s;
          failed = true;
        }
        if (n % 50000 == 0 && n > from) {
          std::fprintf(stderr, "  %llu objects, %.0f/s\n", static_cast<unsigned long long>(n),
                       (n - from) / absl::ToDoubleSeconds(absl::Now() - t0));
        }
      }
    });
  }
  for (std::thread& t : pool) t.join();
  return first;
}

// Objects: the time of one put at each size, and right after a burst.
int RunObjects(const std::string& dir, const std::vector<uint64_t>& at, int ops, uint64_t burst,
               bool existing) {
  std::filesystem::create_directories(dir);
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(Options(dir));
  if (!node.ok()) {
    std::fprintf(stderr, "opening the node: %s\n", node.status().ToString().c_str());
    return 1;
  }
  // Probes: bytes apart from the fill's, and from an earlier run's (--existing).
  // An existing folder's burst stores new bytes: ids past any fill's.
  uint64_t stored = existing ? uint64_t{1} << 36 : 0,
           probe = (uint64_t{1} << 40) +
                   static_cast<uint64_t>(absl::ToUnixSeconds(absl::Now()) % (uint64_t{1} << 20)) *
                       1000000;
  auto measure = [&]() -> absl::StatusOr<Stats> {
    std::vector<double> ms;
    for (int i = 0; i < ops; ++i) {
      absl::Time t = absl::Now();
      RETURN_IF_ERROR(PutObject(node->get(), probe++));
      ms.push_back(Ms(t));
    }
    return Of(ms);
  };
  std::printf("objects   | put ms p50/p99 (one at a time) | RSS MiB | restart s\n");
  for (uint64_t target : at) {
    if (absl::Status s = PutMany(node->get(), stored, target, 8); !s.ok()) {
      std::fprintf(stderr, "filling: %s\n", s.ToString().c_str());
      return 1;
    }
    stored = std::max(stored, target);
    absl::StatusOr<Stats> st = measure();
    if (!st.ok()) {
      std::fprintf(stderr, "measuring: %s\n", st.status().ToString().c_str());
      return 1;
    }
    node->reset();
    absl::Time t = absl::Now();
    node = Node::Open(Options(dir));
    const double restart = absl::ToDoubleSeconds(absl::Now() - t);
    if (!node.ok()) return 1;
    std::printf("%9llu | %6.2f / %6.2f | %6.0f | %5.2f\n", static_cast<unsigned long long>(target),
                st->median_ms, st->p99_ms, MemoryMiB("VmRSS"), restart);
    std::fflush(stdout);
  }
  if (burst > 0) {
    if (absl::Status s = PutMany(node->get(), stored, stored + burst, 8); !s.ok()) return 1;
    absl::StatusOr<Stats> st = measure();
    if (!st.ok()) return 1;
    std::printf("%9llu | %6.2f / %6.2f | %6.0f | right after a burst of %llu uploads\n",
                static_cast<unsigned long long>(stored + burst), st->median_ms, st->p99_ms,
                MemoryMiB("VmRSS"), static_cast<unsigned long long>(burst));
  }
  return 0;
}

struct Row {
  uint64_t entries = 0, records = 0;
  Stats create, attach, approve, read_after_write, first_page, peer_apply;
  double rss = 0, hwm = 0, restart_s = 0, rss_after_restart = 0;
};

absl::StatusOr<Row> Measure(Node* node, History* h, int ops) {
  Row row;
  std::vector<double> create, attach, approve, read, page;
  h->peer_ms().clear();
  h->set_timing(true);
  for (int i = 0; i < ops; ++i) {
    const v1::CreateRecordRequest c = bench::NewBenchRecord();
    absl::Time t = absl::Now();
    absl::StatusOr<v1::Record> r = node->records()->Create("user:bench", c);
    create.push_back(Ms(t));
    if (!r.ok()) return r.status();
    // Any RPC after a write: the caller's grant for an object, as get asks.
    t = absl::Now();
    absl::StatusOr<std::optional<v1::AccessGrant>> g =
        node->LiveGrant("user:viewer", h->last_object(), "view");
    read.push_back(Ms(t));
    if (!g.ok()) return g.status();
    t = absl::Now();
    RETURN_IF_ERROR(h->Append("record.attached", "record:" + r->id(), "user:bench",
                              {{"object", Digest::Of(absl::StrCat("bench", i)).ToString()},
                               {"kind", "video"},
                               {"device", "dev-bench"}}));
    RETURN_IF_ERROR(node->records()->Get(r->id()).status());
    attach.push_back(Ms(t));
    RETURN_IF_ERROR(h->Append("access.requested", "record:" + r->id(), "user:viewer",
                              {{"record", r->id()}, {"agency", "SH-MKT"}, {"purpose", "view"}}));
    const std::string request = h->last_id();
    t = absl::Now();
    RETURN_IF_ERROR(
        h->Append("access.approved", "request:" + request, "user:head", {{"request", request}}));
    ASSIGN_OR_RETURN(std::shared_ptr<const AccessState> st, node->access_state());
    ASSIGN_OR_RETURN(std::optional<v1::AccessGrant> grant, st->Grant(request));
    if (!grant || grant->approvals_size() != 1) return absl::InternalError("no approval");
    approve.push_back(Ms(t));
    t = absl::Now();
    ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, node->records()->book());
    v1::ListRecordsRequest q;
    q.set_page_size(50);
    v1::ListRecordsResponse out;
    RETURN_IF_ERROR(ListRecords(
        *b, q,
        [&](const FoldedRecord& f) -> absl::StatusOr<std::optional<v1::Record>> {
          return Evaluate(f, *b, node->records()->rules(), absl::Now());
        },
        &out));
    page.push_back(Ms(t));
    if (out.records_size() != 50) return absl::InternalError("the first page is not full");
  }
  h->set_timing(false);
  row.peer_apply = Of(h->peer_ms());
  row.entries = h->entries();
  row.records = h->records().size();
  row.create = Of(create);
  row.attach = Of(attach);
  row.approve = Of(approve);
  row.read_after_write = Of(read);
  row.first_page = Of(page);
  std::string levels;
  for (auto* cf : {node->index()->fold(), node->index()->ledger(), node->index()->events()}) {
    if (node->index()->db()->GetProperty(cf, "rocksdb.levelstats", &levels)) {
      std::fprintf(stderr, "%s:\n%s", cf->GetName().c_str(), levels.c_str());
    }
  }
  row.rss = MemoryMiB("VmRSS");
  row.hwm = MemoryMiB("VmHWM");
  return row;
}

NodeOptions Options(const std::string& dir) {
  NodeOptions o;
  o.data_dir = dir;
  o.chunk_size = 64 << 10;
  o.min_free_bytes = 64ull << 20;
  return o;
}

int Run(const std::string& dir, const std::vector<uint64_t>& at, int ops, bool existing,
        const std::string& peer_dir) {
  std::filesystem::create_directories(dir);
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(Options(dir));
  if (!node.ok()) {
    std::fprintf(stderr, "opening the node: %s\n", node.status().ToString().c_str());
    return 1;
  }
  History h(node->get());
  std::unique_ptr<Node> peer;
  if (!peer_dir.empty()) {
    std::filesystem::create_directories(peer_dir);
    absl::StatusOr<std::unique_ptr<Node>> p = Node::Open(Options(peer_dir));
    if (!p.ok()) {
      std::fprintf(stderr, "opening the peer: %s\n", p.status().ToString().c_str());
      return 1;
    }
    peer = std::move(*p);
    h.Rebind(node->get(), {peer.get()});
  }
  std::vector<Row> rows;
  absl::Time fill0 = absl::Now();
  for (uint64_t target : at) {
    while (h.entries() < target && !existing) {
      if (absl::Status s = h.Record(); !s.ok()) {
        std::fprintf(stderr, "filling: %s\n", s.ToString().c_str());
        return 1;
      }
      if (h.records().size() % 20000 == 0) {
        std::fprintf(stderr, "  %llu entries, %.0f/s\n",
                     static_cast<unsigned long long>(h.entries()),
                     h.entries() / absl::ToDoubleSeconds(absl::Now() - fill0));
      }
    }
    absl::StatusOr<Row> row = Measure(node->get(), &h, ops);
    if (!row.ok()) {
      std::fprintf(stderr, "measuring: %s\n", row.status().ToString().c_str());
      return 1;
    }
    node->reset();
    absl::Time t = absl::Now();
    node = Node::Open(Options(dir));
    row->restart_s = absl::ToDoubleSeconds(absl::Now() - t);
    if (!node.ok()) {
      std::fprintf(stderr, "reopening the node: %s\n", node.status().ToString().c_str());
      return 1;
    }
    h.Rebind(node->get(), peer ? std::vector<Node*>{peer.get()} : std::vector<Node*>{});
    row->rss_after_restart = MemoryMiB("VmRSS");
    rows.push_back(*row);
    std::fprintf(stderr, "at %llu entries: create %.2f ms\n",
                 static_cast<unsigned long long>(row->entries), row->create.median_ms);
  }
  std::printf(
      "entries  records  | create ms p50/p99 | attach ms | approve ms | read after write ms | "
      "first page ms | RSS MiB (peak) | restart s (RSS after) | peer apply ms\n");
  for (const Row& r : rows) {
    std::printf(
        "%8llu %8llu | %6.2f / %6.2f | %5.2f / %5.2f | %5.2f / %5.2f | %5.3f / %5.3f | %6.2f / "
        "%6.2f | %6.0f (%6.0f) | %5.2f (%4.0f) | %5.3f / %5.3f\n",
        static_cast<unsigned long long>(r.entries), static_cast<unsigned long long>(r.records),
        r.create.median_ms, r.create.p99_ms, r.attach.median_ms, r.attach.p99_ms,
        r.approve.median_ms, r.approve.p99_ms, r.read_after_write.median_ms,
        r.read_after_write.p99_ms, r.first_page.median_ms, r.first_page.p99_ms, r.rss, r.hwm,
        r.restart_s, r.rss_after_restart, r.peer_apply.median_ms, r.peer_apply.p99_ms);
  }
  return 0;
}

}  // namespace
}  // namespace custody

int main(int argc, char** argv) {
  CLI::App app{"custody_scale_bench: a node's costs as its ledger grows (bench/README.md)"};
  std::string dir = "bench-tmp/scale";
  std::string at = "10000,100000,1000000";
  int ops = 200;
  bool existing = false;
  bool objects = false;
  std::string peer;
  uint64_t burst = 0;
  app.add_option("--dir", dir, "a new or empty folder for the node's data");
  app.add_option("--at", at, "ledger sizes to measure at, in entries, comma-separated");
  app.add_option("--ops", ops, "operations of each kind per measurement");
  app.add_flag("--objects", objects,
               "grow the object count instead (1 KiB objects, puts on 8 threads); --at counts "
               "objects");
  app.add_option("--burst", burst,
                 "with --objects: at the end, this many uploads at once, then "
                 "one put at a time again");
  app.add_option("--peer", peer,
                 "a new or empty folder for a second node that takes every entry as a peer "
                 "does (Ledger::Receive); its time per entry is the last column");
  app.add_flag("--existing", existing,
               "measure a folder an earlier run filled, as it is (once; --at is ignored)");
  CLI11_PARSE(app, argc, argv);
  std::vector<uint64_t> sizes;
  for (absl::string_view s : absl::StrSplit(at, ',')) {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(s, &n)) {
      std::fprintf(stderr, "--at: \"%s\" is not a number\n", std::string(s).c_str());
      return 2;
    }
    sizes.push_back(n);
  }
  std::sort(sizes.begin(), sizes.end());
  std::error_code ec;
  if (existing) sizes = {0};
  if (!existing && std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    std::fprintf(stderr, "--dir %s is not empty: give a new folder, or remove it first\n",
                 dir.c_str());
    return 2;
  }
  if (objects) return custody::RunObjects(dir, sizes, ops, burst, existing);
  if (!peer.empty() && std::filesystem::exists(peer, ec) && !std::filesystem::is_empty(peer, ec)) {
    std::fprintf(stderr, "--peer %s is not empty\n", peer.c_str());
    return 2;
  }
  return custody::Run(dir, sizes, ops, existing, peer);
}
