#include "replication/witness/attester.h"

#include "absl/strings/str_cat.h"
#include "common/checkpoint.h"
#include "common/cosignature.h"
#include "common/log.h"

namespace custody {
namespace {

uint64_t SizeOf(const std::string& note) {
  absl::StatusOr<std::string> body = NoteBody(note);
  if (!body.ok()) return 0;
  absl::StatusOr<Checkpoint> c = Checkpoint::ParseBody(*body);
  return c.ok() ? c->size : 0;
}

}  // namespace

Attester::Attester(AuditLog* log, AuditTrail* trail, Index* index, Committer* committer,
                   AttestOptions options)
    : log_(log), options_(std::move(options)), store_(index, committer) {
  if (!options_.witness.empty()) {
    cosigner_ = std::make_unique<Cosigner>(options_.witness, options_.witness_credentials, log,
                                           &store_, trail);
  }
  if (!options_.tsa_url.empty()) {
    timestamper_ = std::make_unique<Timestamper>(options_.tsa_url, options_.tsa_cert_pem, &store_);
  }
}

Attester::~Attester() { Stop(); }

Attester::Attested Attester::Held(const std::string& note) {
  Attested out;
  out.note = note;
  absl::StatusOr<internal::v1::CheckpointAttestation> a = store_.For(note);
  if (a.ok()) {
    out.note = a->checkpoint();
    out.token = a->timestamp_token();
  }
  if (cosigner_ && NoteSignatureLines(out.note).size() <= NoteSignatureLines(note).size()) {
    out.witness_state = absl::StrCat("not cosigned yet by witness ", cosigner_->witness());
  }
  if (timestamper_ && out.token.empty()) {
    std::string error = timestamper_->last_error();
    out.timestamp_state = absl::StrCat("not timestamped yet by ", timestamper_->url(),
                                       error.empty() ? "" : ": ", error);
  }
  return out;
}

Attester::Attested Attester::Now(const std::string& note) {
  Attested out;
  out.note = note;
  if (cosigner_) {
    absl::StatusOr<std::string> cosigned = cosigner_->Cosign(note);
    if (cosigned.ok()) {
      out.note = *cosigned;
    } else {
      out.witness_state = absl::StrCat("not cosigned: ", cosigned.status().message());
    }
  }
  if (timestamper_) {
    absl::StatusOr<std::string> token = timestamper_->Stamp(note);
    if (token.ok()) {
      out.token = *token;
    } else {
      out.timestamp_state = absl::StrCat("not timestamped yet: ", token.status().message());
    }
  }
  return out;
}

void Attester::Fill(v1::Attestation* a) const {
  if (cosigner_) cosigner_->Fill(a);
  if (timestamper_) timestamper_->Fill(a);
}

absl::Time Attester::Round() {
  absl::Time now = absl::Now();
  absl::StatusOr<std::string> latest = log_->LatestCheckpoint();
  if (!latest.ok() || latest->empty()) return now;
  uint64_t size = SizeOf(*latest);
  if (cosigner_ && size > cosigner_->cosigned_size() &&
      now - last_witness_ >= options_.witness_every) {
    last_witness_ = now;
    absl::Status s = cosigner_->Cosign(*latest).status();
    if (!s.ok()) LOG(WARNING) << "checkpoint " << size << " not cosigned: " << s;
  }
  if (timestamper_ && size > timestamper_->stamped_size() &&
      now - last_tsa_ >= options_.tsa_interval) {
    last_tsa_ = now;
    absl::Status s = timestamper_->Stamp(*latest).status();
    if (!s.ok()) LOG(WARNING) << "checkpoint " << size << " not timestamped: " << s;
  }
  return now;
}

void Attester::Start() {
  if (!enabled() || loop_) return;
  loop_ = std::make_unique<JobLoop<absl::Time>>(
      [this] { return Round(); },
      [](const std::optional<absl::Time>& last) -> std::optional<absl::Time> {
        return last ? *last + absl::Seconds(1) : absl::Now();
      });
  loop_->Start();
}

void Attester::Stop() {
  if (loop_) loop_->Stop();
}

}  // namespace custody
