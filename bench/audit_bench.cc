// custody_audit_bench: audit-log throughput on one node, in-process.
//  1. append: N events submitted at once through the committer (group
//     commit, each durable before it is acknowledged) -> events/s.
//  2. verify-node over the whole log -> seconds, against the time to
//     SHA-256 the same event bytes once (one pass, one buffer).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bench/audit_append.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/merkle.h"
#include "common/process.h"
#include "server/audit/event_groups.h"
#include "server/node.h"

namespace custody {
namespace {

// Every stored event's canonical bytes, in log order.
std::vector<std::string> StoredEvents(Node* node) {
  std::vector<std::string> out;
  EventCursor c(node->index(), rocksdb::ReadOptions());
  for (c.Seek(0); c.Valid(); c.Next()) out.emplace_back(c.event());
  return out;
}

// Where verify-node's time goes, on one core: reading the stored events (as
// verify-node reads them), and hashing them into the tree from memory.
void Breakdown(Node* node) {
  rocksdb::ReadOptions ro;
  ro.readahead_size = 4 << 20;
  ro.fill_cache = false;
  size_t touched = 0;
  absl::Time t0 = absl::Now();
  EventCursor c(node->index(), ro);
  for (c.Seek(0); c.Valid(); c.Next()) touched += c.event().size();
  double read_s = absl::ToDoubleSeconds(absl::Now() - t0);
  std::vector<std::string> events = StoredEvents(node);
  t0 = absl::Now();
  merkle::CompactRange range;
  for (const std::string& e : events) {
    range.Append(merkle::HashLeaf(e), [](int, uint64_t, const Digest&) {});
  }
  double hash_s = absl::ToDoubleSeconds(absl::Now() - t0);
  std::printf(
      "  on one core: reading the events %.3f s (%zu bytes), hashing them into the "
      "tree %.3f s\n",
      read_s, touched, hash_s);
}

// Seconds to SHA-256 all stored event bytes once, as one buffer.
double HashOnce(Node* node, uint64_t* bytes) {
  std::string all;
  for (const std::string& e : StoredEvents(node)) all += e;
  *bytes = all.size();
  Digest::Of(all);  // warm
  absl::Time t0 = absl::Now();
  Digest::Of(all);
  return absl::ToDoubleSeconds(absl::Now() - t0);
}

}  // namespace
}  // namespace custody

int main(int argc, char** argv) {
  custody::TuneMalloc();
  CLI::App app{"custody_audit_bench: audit log append and verify throughput"};
  uint64_t events = 1000000;
  std::string dir = "bench-tmp/audit-node";
  app.add_option("--events", events, "events to append and verify");
  app.add_option("--dir", dir, "scratch data folder (deleted first)");
  int runs = 5;
  app.add_option("--verify-runs", runs, "verify-node runs; the median is reported")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  custody::SetMinLogSeverity(custody::LogSeverity::kWarning);
  std::filesystem::remove_all(dir);
  custody::NodeOptions o;
  o.data_dir = dir;
  o.audit.checkpoint_every_events = 100000;
  auto node = custody::Node::Open(o);
  if (!node.ok()) {
    std::fprintf(stderr, "%s\n", node.status().ToString().c_str());
    return 1;
  }
  custody::AppendEvents(node->get(), 10000);  // warm-up, untimed
  double rate = custody::AppendEvents(node->get(), events);
  if (!(*node)->SignCheckpointNow().ok()) return 1;
  // Untimed: let RocksDB finish flushing and compacting what the appends
  // wrote, so verify-node is measured on a settled node, not racing it.
  rocksdb::DB* db = (*node)->index()->db();
  for (auto* cf : {(*node)->index()->events(), (*node)->index()->tree()}) {
    db->CompactRange(rocksdb::CompactRangeOptions(), cf, nullptr, nullptr);
  }
  // verify-node runs `runs` times (the first also warms the page cache);
  // the median is reported.
  std::vector<double> secs;
  custody::v1::AuditVerifyNodeResponse v;
  for (int i = 0; i < runs; ++i) {
    v = (*node)->audit()->VerifyAll("");
    secs.push_back(v.seconds());
  }
  std::sort(secs.begin(), secs.end());
  v.set_seconds(secs[secs.size() / 2]);
  uint64_t bytes = 0;
  double hash_s = custody::HashOnce(node->get(), &bytes);
  std::printf("append: %llu events, group-committed and durable: %.0f events/s\n",
              static_cast<unsigned long long>(events), rate);
  std::printf("verify-node: %llu events (%.1f MB), %llu checkpoints: %.3f s, median of %d (%s)\n",
              static_cast<unsigned long long>(v.events()), bytes / 1e6,
              static_cast<unsigned long long>(v.checkpoints()), v.seconds(), runs,
              v.ok() ? "ok" : v.first_problem().c_str());
  custody::Breakdown(node->get());
  std::printf("sha-256 of the same bytes once: %.3f s; verify-node / sha-256 = %.1fx\n", hash_s,
              v.seconds() / hash_s);
  node->reset();
  std::filesystem::remove_all(dir);
  return v.ok() ? 0 : 1;
}
