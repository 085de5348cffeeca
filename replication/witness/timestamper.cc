#include "replication/witness/timestamper.h"

#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/checkpoint.h"
#include "common/cosignature.h"
#include "common/status_macros.h"
#include "common/timestamp_token.h"

namespace custody {

absl::StatusOr<Digest> TimestampImprint(const std::string& note) {
  ASSIGN_OR_RETURN(std::string body, NoteBody(note));
  return Digest::Of(body);
}

Timestamper::Timestamper(std::string url, std::string tsa_cert_pem, Attestations* store)
    : url_(std::move(url)), tsa_cert_pem_(std::move(tsa_cert_pem)), store_(store) {}

absl::StatusOr<std::string> Timestamper::Post(const std::string& query) {
  size_t scheme = url_.find("://");
  size_t path_at = scheme == std::string::npos ? std::string::npos : url_.find('/', scheme + 3);
  std::string host = url_.substr(0, path_at);
  std::string path = path_at == std::string::npos ? "/" : url_.substr(path_at);
  httplib::Client client(host);
  client.set_connection_timeout(5);
  client.set_read_timeout(15);
  client.set_write_timeout(15);
  httplib::Result r = client.Post(path, query, "application/timestamp-query");
  if (!r) {
    return absl::UnavailableError(
        absl::StrCat("the TSA at ", url_, " did not answer: ", httplib::to_string(r.error())));
  }
  if (r->status != 200) {
    return absl::UnavailableError(absl::StrCat("the TSA at ", url_, " answered HTTP ", r->status));
  }
  return r->body;
}

absl::StatusOr<std::string> Timestamper::Stamp(const std::string& note) {
  ASSIGN_OR_RETURN(std::string body, NoteBody(note));
  ASSIGN_OR_RETURN(Checkpoint c, Checkpoint::ParseBody(body));
  ASSIGN_OR_RETURN(internal::v1::CheckpointAttestation held, store_->For(note));
  if (!held.timestamp_token().empty()) {
    absl::MutexLock l(&mu_);
    if (c.size >= stamped_size_) {
      stamped_size_ = c.size;
      stamped_unix_nanos_ = held.timestamp_unix_nanos();
    }
    return held.timestamp_token();
  }
  ASSIGN_OR_RETURN(Digest imprint, TimestampImprint(note));
  absl::StatusOr<std::string> token = [&]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(std::string query, MakeTimestampQuery(imprint));
    ASSIGN_OR_RETURN(std::string reply, Post(query));
    ASSIGN_OR_RETURN(std::string t, TokenFromReply(reply, query));
    if (!tsa_cert_pem_.empty())
      RETURN_IF_ERROR(VerifyTimestampToken(t, imprint, tsa_cert_pem_).status());
    return t;
  }();
  absl::StatusOr<TimestampFacts> facts =
      token.ok() ? ReadTimestampToken(*token) : absl::StatusOr<TimestampFacts>(token.status());
  absl::Status stored = facts.ok() ? store_->SetToken(note, *token, facts->time) : facts.status();
  absl::MutexLock l(&mu_);
  if (!stored.ok()) {
    error_ = std::string(stored.message());
    return stored;
  }
  error_.clear();
  if (c.size >= stamped_size_) {
    stamped_size_ = c.size;
    stamped_unix_nanos_ = absl::ToUnixNanos(facts->time);
  }
  return *token;
}

void Timestamper::Fill(v1::Attestation* a) const {
  absl::MutexLock l(&mu_);
  a->set_tsa(url_);
  a->set_timestamped_size(stamped_size_);
  a->set_timestamped_unix_nanos(stamped_unix_nanos_);
  a->set_tsa_error(error_);
}

uint64_t Timestamper::stamped_size() const {
  absl::MutexLock l(&mu_);
  return stamped_size_;
}

std::string Timestamper::last_error() const {
  absl::MutexLock l(&mu_);
  return error_;
}

}  // namespace custody
