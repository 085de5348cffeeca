#include "server/records/etcd_archive_sequencer.h"

#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace custody {
namespace {

// "<prefix>\n<sequence>[\n<actor>]"
absl::StatusOr<ArchiveReservation> ParseClaim(const std::string& record_id,
                                              const std::string& value) {
  std::vector<std::string> parts = absl::StrSplit(value, '\n');
  ArchiveReservation r;
  r.record_id = record_id;
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &r.sequence) || r.sequence == 0) {
    return absl::DataLossError(
        absl::StrCat("etcd's archive claim of ", record_id, " does not parse: \"", value, "\""));
  }
  r.prefix = parts[0];
  if (parts.size() > 2) r.actor = parts[2];
  if (parts.size() > 3) (void)absl::SimpleAtoi(parts[3], &r.reserved_unix_seconds);
  return r;
}

}  // namespace

absl::StatusOr<uint64_t> EtcdArchiveSequencer::Reserve(const std::string& prefix,
                                                       const std::string& record_id,
                                                       uint64_t at_least,
                                                       const std::string& actor) {
  const std::string counter = absl::StrCat(root_, "archive/seq/", prefix);
  const std::string claim = absl::StrCat(root_, "archive/claim/", record_id);
  const std::string pending = absl::StrCat(root_, "archive/pending/", record_id);
  static thread_local std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 100; ++attempt) {
    ASSIGN_OR_RETURN(std::optional<EtcdValue> claimed, etcd_->Get(claim));
    if (claimed) {
      ASSIGN_OR_RETURN(ArchiveReservation r, ParseClaim(record_id, claimed->value));
      if (r.prefix != prefix) {
        return absl::FailedPreconditionError(absl::StrCat("record ", record_id,
                                                          " already holds sequence ", r.sequence,
                                                          " of ", r.prefix, ", not of ", prefix));
      }
      return r.sequence;
    }
    ASSIGN_OR_RETURN(std::optional<EtcdValue> last, etcd_->Get(counter));
    uint64_t seq = 0;
    if (last && !absl::SimpleAtoi(last->value, &seq)) {
      return absl::DataLossError(absl::StrCat("etcd's ", counter, " is not a number"));
    }
    seq = std::max(seq, at_least) + 1;
    const std::string value = absl::StrCat(prefix, "\n", seq);
    etcdserverpb::TxnRequest t;
    *t.add_compare() = EtcdClient::ModRevisionIs(counter, last ? last->mod_revision : 0);
    *t.add_compare() = EtcdClient::ModRevisionIs(claim, 0);
    *t.add_success() = EtcdClient::PutOp(counter, absl::StrCat(seq));
    *t.add_success() = EtcdClient::PutOp(claim, value);
    *t.add_success() = EtcdClient::PutOp(
        pending, absl::StrCat(value, "\n", actor, "\n", absl::ToUnixSeconds(absl::Now())));
    ASSIGN_OR_RETURN(etcdserverpb::TxnResponse resp, etcd_->Txn(t));
    if (resp.succeeded()) return seq;
    // Another node took the next number (or claimed this record): again.
    absl::SleepFor(absl::Milliseconds(std::uniform_int_distribution<int>(1, 20)(rng)));
  }
  return absl::AbortedError(
      absl::StrCat("archive numbers of ", prefix, ": too many nodes at once, try again"));
}

absl::StatusOr<std::vector<ArchiveReservation>> EtcdArchiveSequencer::Pending() {
  const std::string dir = absl::StrCat(root_, "archive/pending/");
  ASSIGN_OR_RETURN(std::vector<EtcdValue> listed, etcd_->List(dir));
  std::vector<ArchiveReservation> out;
  for (const EtcdValue& v : listed) {
    ASSIGN_OR_RETURN(ArchiveReservation r, ParseClaim(v.key.substr(dir.size()), v.value));
    out.push_back(std::move(r));
  }
  return out;
}

absl::Status EtcdArchiveSequencer::Done(const std::string& record_id) {
  etcdserverpb::TxnRequest t;
  *t.add_success() = EtcdClient::DeleteOp(absl::StrCat(root_, "archive/pending/", record_id));
  return etcd_->Txn(t).status();
}

}  // namespace custody
