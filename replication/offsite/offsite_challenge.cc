#include "replication/offsite/offsite_challenge.h"

#include <cmath>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/random.h"
#include "common/rate_limiter.h"
#include "common/spot_check.h"
#include "common/status_macros.h"
#include "replication/offsite/snapshot_maker.h"

namespace custody {
namespace {

constexpr char kLastKey[] = "offsite/last-challenge";

struct Population {
  std::string snapshot_id;
  std::vector<Digest> chunks;  // sorted, distinct
};

// The chunks the peer should hold: those of the last snapshot it verified.
absl::StatusOr<Population> ChunksHeldOffsite(Node* node) {
  ASSIGN_OR_RETURN(std::vector<KnownSnapshot> all, KnownSnapshots(node));
  const KnownSnapshot* last = nullptr;
  for (const KnownSnapshot& s : all) {
    if (s.receipt) last = &s;
  }
  if (last == nullptr) {
    return absl::FailedPreconditionError(
        "no snapshot was verified offsite yet: there is nothing to challenge the peer with");
  }
  std::set<std::string> raw;
  for (const v1::SnapshotObject& o : last->body.objects()) {
    if (o.purged()) continue;
    ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(o.id()));
    ASSIGN_OR_RETURN(v1::ObjectManifest m, node->FindManifest(id));
    raw.insert(m.chunks().begin(), m.chunks().end());
  }
  Population p{last->body.id(), {}};
  for (const std::string& r : raw) {
    ASSIGN_OR_RETURN(Digest d, Digest::FromRaw(r));
    p.chunks.push_back(d);
  }
  return p;
}

// What the peer must answer for each key, from this cluster's copies, read
// no faster than `rate`.
absl::StatusOr<std::vector<Digest>> Expected(Node* node, const std::string& nonce,
                                             const std::vector<Digest>& keys, uint64_t rate,
                                             uint64_t* bytes) {
  RateLimiter pace(rate);
  std::vector<Digest> out;
  for (const Digest& key : keys) {
    ASSIGN_OR_RETURN(std::string data, node->cluster_chunks()->Get(key));  // hashed on read
    pace.Acquire(data.size());
    *bytes += data.size();
    out.push_back(Digest::Of(absl::StrCat(nonce, data)));
  }
  return out;
}

double LossBoundPercent(uint32_t samples, size_t misses) {
  if (samples == 0) return 100;
  if (misses > 0) return 100.0 * static_cast<double>(misses) / samples;
  return 100.0 * (1.0 - std::pow(0.05, 1.0 / samples));
}

absl::Status PutOnRecord(Node* node, const v1::ChallengeReport& r, const std::string& actor) {
  if (!r.ok()) {
    v1::AuditEvent failed = NewEvent("offsite.challenge-failed", "offsite", actor);
    AddDetail(&failed, "peer", r.peer());
    AddDetail(&failed, "misses", absl::StrCat(r.missed_size()));
    std::vector<std::string> shown(r.missed().begin(),
                                   r.missed().begin() + std::min(r.missed_size(), 20));
    AddDetail(&failed, "missed", absl::StrJoin(shown, ","));
    if (!r.error().empty()) AddDetail(&failed, "error", r.error());
    RETURN_IF_ERROR(node->Record(std::move(failed)));
  }
  v1::AuditEvent e = NewEvent("offsite.challenged", "offsite", actor);
  AddDetail(&e, "peer", r.peer());
  AddDetail(&e, "snapshot", r.snapshot_id());
  AddDetail(&e, "seed", r.seed());
  AddDetail(&e, "samples", absl::StrCat(r.samples()));
  AddDetail(&e, "population", absl::StrCat(r.population()));
  AddDetail(&e, "misses", absl::StrCat(r.missed_size()));
  AddDetail(&e, "bytes", absl::StrCat(r.bytes()));
  AddDetail(&e, "loss_bound_percent", absl::StrCat(r.loss_bound_percent()));
  return node->trail()->Write(std::move(e), [&](rocksdb::WriteBatch* b) {
    b->Put(node->index()->meta(), kLastKey, r.SerializeAsString());
  });
}

}  // namespace

absl::StatusOr<v1::ChallengeReport> ChallengePeer(Node* node, OffsiteClient* client,
                                                  const std::string& peer,
                                                  const ChallengeOptions& options,
                                                  const std::string& actor) {
  if (options.samples == 0 || options.samples > 100000) {
    return absl::InvalidArgumentError("a challenge takes 1 to 100000 samples");
  }
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(Population population, ChunksHeldOffsite(node));
  ASSIGN_OR_RETURN(std::string nonce, RandomBytes(32, "a challenge's seed"));
  ASSIGN_OR_RETURN(Digest seed, Digest::FromRaw(nonce));
  internal::v1::ChallengeRequest req;
  req.set_nonce(nonce);
  req.set_rate_bytes_per_second(options.rate_bytes_per_second);
  std::vector<Digest> keys;
  for (uint64_t i : DrawSample(seed, population.chunks.size(), options.samples)) {
    keys.push_back(population.chunks[i]);
    req.add_keys(std::string(keys.back().Raw()));
  }
  // Long enough for the peer to read every sample at the rate, with room;
  // too short for bytes it would have to fetch from elsewhere first.
  const double max_bytes = static_cast<double>(keys.size()) * node->chunk_size();
  const absl::Duration deadline =
      absl::Seconds(30) + (options.rate_bytes_per_second == 0
                               ? absl::ZeroDuration()
                               : absl::Seconds(2 * max_bytes / options.rate_bytes_per_second));
  absl::StatusOr<internal::v1::ChallengeResponse> answer;
  std::thread asking([&] { answer = client->Challenge(req, deadline); });
  uint64_t bytes = 0;
  absl::StatusOr<std::vector<Digest>> expected =
      Expected(node, nonce, keys, options.rate_bytes_per_second, &bytes);
  asking.join();
  if (!expected.ok()) return expected.status();  // this cluster cannot read its own copy
  v1::ChallengeReport r;
  r.set_peer(peer);
  r.set_snapshot_id(population.snapshot_id);
  r.set_seed(seed.Hex());
  r.set_population(population.chunks.size());
  r.set_samples(keys.size());
  r.set_bytes(bytes);
  r.set_rate_bytes_per_second(options.rate_bytes_per_second);
  if (answer.ok() && answer->answers_size() != static_cast<int>(keys.size())) {
    answer = absl::DataLossError("the peer answered another number of samples than asked");
  }
  if (!answer.ok()) r.set_error(std::string(answer.status().message()));
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!answer.ok() || answer->answers(static_cast<int>(i)) != (*expected)[i].Raw()) {
      r.add_missed(keys[i].ToString());
    }
  }
  if (answer.ok()) r.set_peer_seconds(answer->seconds());
  r.set_ok(r.missed().empty());
  r.set_loss_bound_percent(LossBoundPercent(r.samples(), r.missed_size()));
  r.set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  r.set_finished_unix_nanos(absl::GetCurrentTimeNanos());
  RETURN_IF_ERROR(PutOnRecord(node, r, actor));
  return r;
}

absl::StatusOr<std::optional<v1::ChallengeReport>> LastChallenge(Node* node) {
  std::string v;
  rocksdb::Status s =
      node->index()->db()->Get(rocksdb::ReadOptions(), node->index()->meta(), kLastKey, &v);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(FromRocksStatus(s, "reading the last challenge"));
  v1::ChallengeReport r;
  if (!r.ParseFromString(v))
    return absl::DataLossError("the last challenge's report is unreadable");
  return r;
}

std::string ChallengeMetrics(Node* node) {
  absl::StatusOr<std::optional<v1::ChallengeReport>> last = LastChallenge(node);
  const v1::ChallengeReport none;
  const v1::ChallengeReport& r = last.ok() && *last ? **last : none;
  return absl::StrCat(
      "# HELP custody_offsite_challenge_misses Chunks the offsite peer did not answer for right "
      "in the last challenge (0 with none yet; alert on > 0).\n"
      "# TYPE custody_offsite_challenge_misses gauge\ncustody_offsite_challenge_misses ",
      r.missed_size(),
      "\n# HELP custody_offsite_challenge_finished_seconds When the last challenge finished, "
      "Unix seconds (0: none yet).\n"
      "# TYPE custody_offsite_challenge_finished_seconds gauge\n"
      "custody_offsite_challenge_finished_seconds ",
      r.finished_unix_nanos() / 1000000000, "\n");
}

}  // namespace custody
