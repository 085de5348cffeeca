// OffsiteVault's verification: Seal (before a receipt) and Verify (on
// request). Every blob is read back through the verifying store, so each is
// hashed again; an object's chunks are hashed together against its id.
#include <iterator>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/rate_limiter.h"
#include "common/snapshot_format.h"
#include "common/status_macros.h"
#include "replication/offsite/offsite_vault.h"

namespace custody {

namespace {

constexpr char kReceipt[] = "offsite/receipt/";
constexpr char kBad[] = "offsite/bad/";
constexpr char kVerified[] = "offsite/verified/";

}  // namespace

struct OffsiteVault::Check {
  v1::OffsiteVerifyReport report;
  std::set<std::string> objects_done;                     // raw ids read in full in this check
  std::vector<std::pair<std::string, std::string>> meta;  // bad marks, verified objects
  std::vector<v1::AuditEvent> events;
  uint64_t read_back = 0;  // objects a seal hashed again: not followed as they came
  bool ok() const {
    return report.corrupt().empty() && report.missing().empty() && report.problems().empty();
  }
  // Adds what another check (of other objects) found.
  void Merge(Check&& o) {
    uint64_t objects = report.objects() + o.report.objects();
    uint64_t chunks = report.chunks() + o.report.chunks();
    uint64_t bytes = report.bytes() + o.report.bytes();
    report.MergeFrom(o.report);  // appends the lists
    report.set_objects(objects);
    report.set_chunks(chunks);
    report.set_bytes(bytes);
    std::move(o.meta.begin(), o.meta.end(), std::back_inserter(meta));
    std::move(o.events.begin(), o.events.end(), std::back_inserter(events));
  }
};

absl::StatusOr<std::string> OffsiteVault::Read(const Digest& key, Check* check) {
  absl::StatusOr<std::string> data = node_->chunks()->Get(key);  // hashed again
  if (data.ok()) {
    ASSIGN_OR_RETURN(bool bad, IsBad(key));
    if (!bad) return data;
    data = absl::DataLossError("marked corrupt by an earlier verify");
  }
  if (absl::IsNotFound(data.status())) {
    check->report.add_missing(key.ToString());
  } else if (absl::IsDataLoss(data.status())) {
    check->report.add_corrupt(absl::StrCat(key.ToString(), ": ", data.status().message()));
    check->meta.push_back({absl::StrCat(kBad, key.Raw()), std::string(data.status().message())});
    v1::AuditEvent e = NewEvent("offsite.blob-corrupt", key.ToString(), "custodyd");
    AddDetail(&e, "reason", data.status().message());
    check->events.push_back(std::move(e));
  } else {
    check->report.add_problems(absl::StrCat(key.ToString(), ": ", data.status().message()));
  }
  return data.status();
}

absl::Status OffsiteVault::CheckObject(const v1::SnapshotObject& o, bool reread, Check* check) {
  ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(o.id()));
  ASSIGN_OR_RETURN(Digest mkey, Digest::FromRaw(o.manifest_sha256()));
  absl::StatusOr<std::string> bytes = Read(mkey, check);
  if (!bytes.ok()) return absl::OkStatus();  // reported
  v1::ObjectManifest m;
  if (!m.ParseFromString(*bytes) || m.sha256() != o.id()) {
    check->report.add_problems(
        absl::StrCat("the manifest of ", id.ToString(), " names another object"));
    return absl::OkStatus();
  }
  check->report.set_objects(check->report.objects() + 1);
  if (o.purged()) return absl::OkStatus();
  std::vector<Digest> chunks;
  for (const std::string& raw : m.chunks()) {
    ASSIGN_OR_RETURN(Digest c, Digest::FromRaw(raw));
    chunks.push_back(c);
  }
  check->report.set_chunks(check->report.chunks() + chunks.size());
  check->report.set_bytes(check->report.bytes() + m.size());
  if (!reread) {
    ASSIGN_OR_RETURN(std::vector<Digest> missing, FindMissing(chunks));
    for (const Digest& d : missing) check->report.add_missing(d.ToString());
    return absl::OkStatus();
  }
  Sha256 whole;
  bool complete = true;
  for (const Digest& c : chunks) {
    absl::StatusOr<std::string> data = Read(c, check);
    if (!data.ok()) {
      complete = false;
      continue;
    }
    whole.Update(*data);
  }
  if (complete && whole.Finish() != id) {
    check->report.add_corrupt(absl::StrCat(id.ToString(), ": its chunks do not hash to its id"));
  } else if (complete) {
    check->meta.push_back({absl::StrCat(kVerified, o.id()), "1"});
  }
  return absl::OkStatus();
}

absl::Status OffsiteVault::CheckAuditLogs(const v1::SnapshotBody& body, Check* check) {
  for (const v1::SnapshotAuditLog& log : body.audit_logs()) {
    absl::StatusOr<AuditPageVerifier> v = AuditPageVerifier::Start(log);
    if (!v.ok()) {
      check->report.add_problems(std::string(v.status().message()));
      continue;
    }
    absl::Status s;
    bool unread = false;  // a page missing or corrupt: reported by Read
    for (const std::string& raw : log.pages()) {
      ASSIGN_OR_RETURN(Digest key, Digest::FromRaw(raw));
      absl::StatusOr<std::string> page = Read(key, check);
      if (!page.ok()) {
        unread = true;
        break;
      }
      s = v->AddPage(*page);
      if (!s.ok()) break;
    }
    if (unread) continue;
    if (s.ok()) s = v->Finish();
    if (!s.ok()) check->report.add_problems(std::string(s.message()));
  }
  return absl::OkStatus();
}

absl::Status OffsiteVault::CheckContents(const v1::SnapshotBody& body, bool reread_all,
                                         Check* check) {
  check->report.add_snapshots(body.id());
  std::vector<std::pair<const v1::SnapshotObject*, bool>> objects;  // and whether to re-read
  for (const v1::SnapshotObject& o : body.objects()) {
    ASSIGN_OR_RETURN(std::optional<std::string> seen, GetMeta(absl::StrCat(kVerified, o.id())));
    bool reread = (reread_all || !seen) && check->objects_done.insert(o.id()).second;
    if (reread && !reread_all) ++check->read_back;
    objects.push_back({&o, reread});
  }
  // Objects are hashed on two threads, each into its own check.
  constexpr int kWorkers = 2;
  std::vector<Check> parts(kWorkers);
  std::vector<absl::Status> errors(kWorkers);
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      for (size_t i = w; i < objects.size() && errors[w].ok(); i += kWorkers) {
        errors[w] = CheckObject(*objects[i].first, objects[i].second, &parts[w]);
      }
    });
  }
  for (std::thread& t : workers) t.join();
  for (int w = 0; w < kWorkers; ++w) {
    RETURN_IF_ERROR(errors[w]);
    check->Merge(std::move(parts[w]));
  }
  for (const std::string& raw : body.ledger_entries()) {
    ASSIGN_OR_RETURN(Digest key, Digest::FromRaw(raw));
    absl::StatusOr<std::string> e = Read(key, check);
    v1::LedgerEntry entry;
    if (e.ok() && !entry.ParseFromString(*e)) {
      check->report.add_problems(absl::StrCat("ledger entry ", key.ToString(), " does not parse"));
    }
  }
  return CheckAuditLogs(body, check);
}

absl::StatusOr<v1::Receipt> OffsiteVault::Seal(const std::string& id, const std::string& from) {
  ASSIGN_OR_RETURN(v1::Snapshot s, Offered(id));
  ASSIGN_OR_RETURN(v1::SnapshotBody body, custody::CheckSnapshot(s));
  absl::Time start = absl::Now();
  Check check;
  RETURN_IF_ERROR(CheckContents(body, /*reread_all=*/false, &check));
  read_back_ += check.read_back;
  if (!check.ok()) {  // what is corrupt is marked bad, so the next sync sends it again
    for (v1::AuditEvent& e : check.events) RETURN_IF_ERROR(node_->Record(std::move(e)));
    RETURN_IF_ERROR(PutMeta(check.meta, std::nullopt));
    const v1::OffsiteVerifyReport& r = check.report;
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot ", id, " is not complete here: ", r.missing_size(), " missing, ",
        r.corrupt_size(), " corrupt, ", r.problems_size(), " other problem(s); first: ",
        !r.missing().empty()   ? r.missing(0)
        : !r.corrupt().empty() ? r.corrupt(0)
                               : r.problems(0)));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> kept, GetMeta(kReceipt + id));
  v1::Receipt receipt;
  if (kept && receipt.ParseFromString(*kept)) return receipt;
  v1::ReceiptBody rb;
  rb.set_snapshot_id(id);
  rb.set_merkle_root(body.merkle_root());
  rb.set_peer_id(node_->node_id());
  rb.set_verified_unix_nanos(absl::ToUnixNanos(absl::Now()));
  rb.set_objects(body.objects_size());
  rb.set_chunks(body.chunk_count());  // distinct chunks, as the snapshot counts them
  rb.set_data_bytes(check.report.bytes());
  rb.set_audit_logs(body.audit_logs_size());
  rb.set_ledger_entries(body.ledger_entries_size());
  ASSIGN_OR_RETURN(receipt, SignReceipt(rb, node_->audit()->key()));
  v1::AuditEvent e = NewEvent("offsite.sealed", "snapshot:" + id, from);
  AddDetail(&e, "objects", absl::StrCat(rb.objects()));
  AddDetail(&e, "data_bytes", absl::StrCat(rb.data_bytes()));
  AddDetail(&e, "objects_read_back", absl::StrCat(check.read_back));
  AddDetail(&e, "seconds", absl::StrCat(absl::ToDoubleSeconds(absl::Now() - start)));
  check.meta.push_back({kReceipt + id, receipt.SerializeAsString()});
  RETURN_IF_ERROR(PutMeta(std::move(check.meta), std::move(e)));
  return receipt;
}

absl::StatusOr<v1::OffsiteVerifyReport> OffsiteVault::Verify(const std::string& id,
                                                             const std::string& actor) {
  absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(internal::v1::PeerSnapshotsResponse sealed, ListSealed());
  Check check;
  for (const v1::Snapshot& s : sealed.snapshots()) {
    ASSIGN_OR_RETURN(v1::SnapshotBody body, custody::CheckSnapshot(s));
    if (!id.empty() && body.id() != id) continue;
    RETURN_IF_ERROR(CheckContents(body, /*reread_all=*/true, &check));
  }
  if (!id.empty() && check.report.snapshots().empty()) {
    return absl::NotFoundError(absl::StrCat("the peer holds no sealed snapshot ", id));
  }
  check.report.set_ok(check.ok());
  check.report.set_peer_id(node_->node_id());
  check.report.set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  for (v1::AuditEvent& e : check.events) RETURN_IF_ERROR(node_->Record(std::move(e)));
  v1::AuditEvent e = NewEvent("offsite.verified", id.empty() ? "offsite" : "snapshot:" + id, actor);
  AddDetail(&e, "ok", check.ok() ? "yes" : "no");
  AddDetail(&e, "snapshots", absl::StrJoin(check.report.snapshots(), ","));
  AddDetail(&e, "corrupt", absl::StrCat(check.report.corrupt_size()));
  AddDetail(&e, "missing", absl::StrCat(check.report.missing_size()));
  RETURN_IF_ERROR(PutMeta(std::move(check.meta), std::move(e)));
  return check.report;
}

absl::StatusOr<internal::v1::ChallengeResponse> OffsiteVault::Challenge(
    const internal::v1::ChallengeRequest& req) {
  if (req.nonce().size() != 32)
    return absl::InvalidArgumentError("a challenge's nonce is 32 bytes");
  absl::Time start = absl::Now();
  RateLimiter pace(req.rate_bytes_per_second());
  internal::v1::ChallengeResponse out;
  Check check;
  for (const std::string& raw : req.keys()) {
    ASSIGN_OR_RETURN(Digest key, Digest::FromRaw(raw));
    absl::StatusOr<std::string> data = Read(key, &check);  // hashed again on the way
    if (!data.ok()) {
      out.add_answers("");
      continue;
    }
    pace.Acquire(data->size());
    out.set_bytes_read(out.bytes_read() + data->size());
    Digest answer = Digest::Of(absl::StrCat(req.nonce(), *data));
    out.add_answers(std::string(answer.Raw()));
  }
  out.set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  for (v1::AuditEvent& e : check.events) RETURN_IF_ERROR(node_->Record(std::move(e)));
  if (!check.meta.empty()) RETURN_IF_ERROR(PutMeta(std::move(check.meta), std::nullopt));
  return out;
}

}  // namespace custody
