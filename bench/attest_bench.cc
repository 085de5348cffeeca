// custody_attest_bench: the audit append rate of a node whose checkpoints a
// witness cosigns and a TSA timestamps, against the same node without them
// (issue 30: both happen off the request path, so the ratio should be
// close to 1; the target is at least 0.95).
//
// In one process: a witness (a second node with the Witness service on a
// loopback port), an RFC 3161 TSA on loopback (tests/local_tsa.h), and for
// each run a fresh node, plain or with an Attester asking both every
// second, alternated A/B.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "bench/audit_append.h"
#include "common/log.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "replication/witness/attester.h"
#include "replication/witness/witness_service.h"
#include "replication/witness/witness_store.h"
#include "tests/local_tsa.h"

namespace custody {
namespace {

struct Witness {
  std::unique_ptr<Node> node;
  std::unique_ptr<IndexWitnessStore> store;
  std::unique_ptr<WitnessBook> book;
  std::unique_ptr<WitnessService> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

absl::StatusOr<std::unique_ptr<Witness>> StartWitness(const std::string& dir) {
  auto w = std::make_unique<Witness>();
  NodeOptions o;
  o.data_dir = dir;
  o.witness_only = true;
  ASSIGN_OR_RETURN(w->node, Node::Open(o));
  ASSIGN_OR_RETURN(Ed25519Key key, Ed25519Key::Generate());
  w->store = std::make_unique<IndexWitnessStore>(w->node->index(), w->node->trail());
  w->book = std::make_unique<WitnessBook>("custody-witness-bench", key, w->store.get());
  w->service = std::make_unique<WitnessService>(w->node.get(), w->book.get());
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &w->port);
  b.RegisterService(w->service.get());
  w->server = b.BuildAndStart();
  if (!w->server) return absl::UnavailableError("cannot start the witness");
  return w;
}

struct Run {
  double rate = 0;
  v1::Attestation attested;
};

// A fresh node, with an attester when `options` names a witness; appends
// `events` after an untimed warm-up.
absl::StatusOr<Run> OneRun(const std::string& dir, uint64_t events, uint64_t checkpoint_every,
                           uint64_t window, const AttestOptions* options) {
  std::filesystem::remove_all(dir);
  NodeOptions o;
  o.data_dir = dir;
  o.audit.checkpoint_every_events = checkpoint_every;
  ASSIGN_OR_RETURN(std::unique_ptr<Node> node, Node::Open(o));
  std::unique_ptr<Attester> attester;
  if (options != nullptr) {
    attester = std::make_unique<Attester>(node->audit(), node->trail(), node->index(),
                                          node->committer(), *options);
    attester->Start();
  }
  AppendEvents(node.get(), 10000, window);  // warm-up, untimed
  Run run;
  run.rate = AppendEvents(node.get(), events, window);
  if (attester) {
    attester->Fill(&run.attested);
    attester->Stop();
  }
  return run;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace
}  // namespace custody

int main(int argc, char** argv) {
  custody::TuneMalloc();
  CLI::App app{"custody_attest_bench: audit append rate with a witness and a TSA, and without"};
  uint64_t events = 300000, checkpoint_every = 10000, window = 1000;
  int runs = 3;
  std::string dir = "bench-tmp/attest";
  app.add_option("--events", events, "events appended in each timed run");
  app.add_option("--runs", runs, "runs of each kind, alternated")->check(CLI::PositiveNumber);
  app.add_option("--checkpoint-every", checkpoint_every, "a checkpoint every N events");
  app.add_option("--window", window,
                 "events in flight at most, as from many callers (the attester's own writes "
                 "queue behind them)");
  app.add_option("--dir", dir, "scratch folder (deleted first)");
  CLI11_PARSE(app, argc, argv);
  custody::SetMinLogSeverity(custody::LogSeverity::kError);
  std::filesystem::remove_all(dir);
  auto witness = custody::StartWitness(dir + "/witness");
  if (!witness.ok()) {
    std::fprintf(stderr, "%s\n", witness.status().ToString().c_str());
    return 1;
  }
  custody::testing::LocalTsa tsa;
  if (!tsa.Serve()) return 1;
  custody::AttestOptions options;
  options.witness = "127.0.0.1:" + std::to_string((*witness)->port);
  options.witness_every = absl::Seconds(1);
  options.tsa_url = tsa.url();
  options.tsa_cert_pem = tsa.cert_pem();
  options.tsa_interval = absl::Seconds(1);
  std::vector<double> plain, attested;
  for (int i = 0; i < runs; ++i) {
    for (bool with : {i % 2 == 0, i % 2 != 0}) {  // A B, then B A, ...
      auto r = custody::OneRun(dir + "/node", events, checkpoint_every, window,
                               with ? &options : nullptr);
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        return 1;
      }
      (with ? attested : plain).push_back(r->rate);
      std::printf("run %d %-22s %8.0f events/s", i + 1,
                  with ? "with witness + TSA:" : "plain:", r->rate);
      if (with) {
        std::printf("  (cosigned up to %llu, timestamped up to %llu)",
                    static_cast<unsigned long long>(r->attested.cosigned_size()),
                    static_cast<unsigned long long>(r->attested.timestamped_size()));
      }
      std::printf("\n");
      for (const std::string& e :
           {r->attested.witness_error(), r->attested.witness_refused(), r->attested.tsa_error()}) {
        if (!e.empty()) std::printf("  error: %s\n", e.c_str());
      }
    }
  }
  double a = custody::Median(plain), b = custody::Median(attested);
  std::printf("median: plain %.0f events/s, with witness + TSA %.0f events/s: ratio %.3f\n", a, b,
              b / a);
  std::printf("TSA requests: %d\n", tsa.requests());
  (*witness)->server->Shutdown();
  witness->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
