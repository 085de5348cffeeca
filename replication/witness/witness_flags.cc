#include "replication/witness/witness_flags.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace custody {
namespace {

absl::Status ParsePositive(const std::string& flag, const std::string& text, absl::Duration* out) {
  if (!absl::ParseDuration(text, out) || *out < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " must be a duration of at least 1s such as 60s, not \"", text, "\""));
  }
  return absl::OkStatus();
}

}  // namespace

WitnessFlags::WitnessFlags(CLI::App* app) {
  app->add_option("--witness", options_.witness,
                  "HOST:PORT of a witness (custodyd --role witness, or the offsite peer) that "
                  "cosigns this node's audit checkpoints (default: none)");
  app->add_option("--witness-every", every_,
                  "ask the witness to cosign the latest checkpoint at most this often "
                  "(default 60s; exports ask at once)");
  app->add_option("--tsa", options_.tsa_url,
                  "URL of an RFC 3161 time-stamping authority for the audit checkpoints, "
                  "e.g. http://tsa.example:318/ (default: none)");
  app->add_option("--tsa-cert", tsa_cert_file_,
                  "the TSA's certificate (PEM): each token is checked against it when it comes");
  app->add_option("--tsa-interval", tsa_interval_,
                  "at most one background TSA request this often (default 60s; exports ask at "
                  "once)");
}

absl::Status WitnessFlags::Apply(bool serves_witness) {
  serves_witness_ = serves_witness;
  RETURN_IF_ERROR(ParsePositive("--witness-every", every_, &options_.witness_every));
  RETURN_IF_ERROR(ParsePositive("--tsa-interval", tsa_interval_, &options_.tsa_interval));
  if (!options_.tsa_url.empty() && !absl::StartsWith(options_.tsa_url, "http://") &&
      !absl::StartsWith(options_.tsa_url, "https://")) {
    return absl::InvalidArgumentError("--tsa must be an http:// or https:// URL, not \"" +
                                      options_.tsa_url + "\"");
  }
  if (!tsa_cert_file_.empty()) {
    if (options_.tsa_url.empty()) return absl::InvalidArgumentError("--tsa-cert needs --tsa");
    absl::StatusOr<std::string> pem = ReadFileToString(tsa_cert_file_);
    if (!pem.ok())
      return absl::InvalidArgumentError("--tsa-cert: " + std::string(pem.status().message()));
    options_.tsa_cert_pem = *pem;
  }
  if (serves_witness && !options_.witness.empty()) {
    return absl::InvalidArgumentError(
        "--witness names a storage node's witness; a witness or "
        "an offsite peer does not ask one");
  }
  return absl::OkStatus();
}

absl::Status WitnessFlags::Open(Node* node) {
  options_.witness_credentials = node->peer_credentials();
  attester_ = std::make_unique<Attester>(node->audit(), node->trail(), node->index(),
                                         node->committer(), options_);
  if (!serves_witness_) return absl::OkStatus();
  ASSIGN_OR_RETURN(Ed25519Key key,
                   Ed25519Key::LoadOrCreate(node->options().data_dir + "/witness.key"));
  store_ = std::make_unique<IndexWitnessStore>(node->index(), node->trail());
  book_ = std::make_unique<WitnessBook>(WitnessName(node->node_id()), std::move(key), store_.get());
  service_ = std::make_unique<WitnessService>(node, book_.get());
  return absl::OkStatus();
}

void WitnessFlags::Register(grpc::ServerBuilder* builder) {
  if (service_) builder->RegisterService(service_.get());
}

void WitnessFlags::Start() {
  if (attester_) attester_->Start();
}

void WitnessFlags::Stop() {
  if (attester_) attester_->Stop();
}

}  // namespace custody
