#include "replication/offsite/offsite_flags.h"

#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/units.h"

namespace custody {

OffsiteFlags::OffsiteFlags(CLI::App* app, NodeOptions* opts) : opts_(opts) {
  app->add_option("--role", role_,
                  "storage (a node of the cluster, default), offsite (the offsite peer: "
                  "keeps the cluster's snapshots and witnesses its checkpoints, takes nothing "
                  "else) or witness (cosigns other nodes' audit checkpoints, takes nothing else)")
      ->check(CLI::IsMember({"storage", "offsite", "witness"}));
  app->add_option("--offsite", options_.peer,
                  "the offsite peer's address (HOST:PORT) for offsite sync and the schedule "
                  "(default: the cluster map's offsite address)");
  app->add_option("--snapshot-every", every_,
                  "make (and, with --offsite, send) a snapshot when the last is this old "
                  "(default 720h, a month)");
  app->add_option("--offsite-rate", rate_,
                  "pace offsite syncs to this many bytes a second, e.g. 50MiB (default: none)");
  app->add_option("--challenge-every", challenge_every_,
                  "challenge the offsite peer (random chunks, answered from their bytes) when the "
                  "last challenge is this old (default 168h, a week)");
  app->add_option("--challenge-samples", options_.challenge.samples,
                  "chunks each challenge draws (default 200)")
      ->check(CLI::Range(1, 100000));
  app->add_option("--challenge-rate", challenge_rate_,
                  "each side of a challenge reads no faster than this a second (default 20MiB)");
}

absl::Status OffsiteFlags::Apply() {
  if (!absl::ParseDuration(every_, &options_.every) || options_.every <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--snapshot-every must be a positive duration such as 720h, not \"", every_, "\""));
  }
  if (!absl::ParseDuration(challenge_every_, &options_.challenge_every) ||
      options_.challenge_every <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--challenge-every must be a positive duration such as 168h, not \"",
                     challenge_every_, "\""));
  }
  for (auto [flag, text, out] :
       {std::tuple{"--challenge-rate", &challenge_rate_, &options_.challenge.rate_bytes_per_second},
        std::tuple{"--offsite-rate", &rate_, &options_.rate_bytes_per_second}}) {
    if (text->empty()) continue;
    absl::StatusOr<uint64_t> r = ParseByteRate(*text);
    if (!r.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(flag, " must be ", r.status().message()));
    }
    *out = *r;
  }
  if (offsite_peer() && !options_.peer.empty()) {
    return absl::InvalidArgumentError(
        "--offsite names the peer of a storage node; an offsite "
        "peer (--role offsite) has none");
  }
  if (restricted() && opts_->cluster != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "an ", role_, " (--role ", role_, ") is not a node of the cluster map: drop --cluster"));
  }
  if (witness() && !options_.peer.empty()) {
    return absl::InvalidArgumentError("--offsite names the peer of a storage node, not a witness");
  }
  if (options_.peer.empty() && opts_->cluster != nullptr) {
    options_.peer = opts_->cluster->offsite_address();  // the map's "offsite" entry
  }
  opts_->offsite_peer = offsite_peer();
  opts_->witness_only = witness();
  return absl::OkStatus();
}

void OffsiteFlags::Register(Node* node, grpc::ServerBuilder* builder) {
  if (offsite_peer()) {
    peer_ = std::make_unique<OffsitePeerService>(node);
    builder->RegisterService(peer_.get());
    builder->SetMaxReceiveMessageSize(80 << 20);  // a cluster's chunk of up to 64 MiB
  }
  // On the peer too, where it refuses every call saying what to run instead
  // (rather than UNIMPLEMENTED without a word).
  snapshots_ = std::make_unique<SnapshotsService>(node, options_);
  builder->RegisterService(snapshots_.get());
}

void OffsiteFlags::Start() {
  if (snapshots_ && !restricted()) snapshots_->StartSchedule();
}

void OffsiteFlags::Stop() { snapshots_.reset(); }

}  // namespace custody
