#include "replication/cluster/node_reads.h"

#include "absl/strings/str_cat.h"
#include "server/audit/audit_log.h"

namespace custody {

namespace {

const char* KindName(int kind) {
  switch (kind) {
    case internal::v1::CHUNK:
      return "chunk";
    case internal::v1::MANIFEST:
      return "manifest";
    case internal::v1::LEDGER:
      return "ledger";
  }
  return "other";
}

}  // namespace

std::optional<v1::AuditEvent> NodeReads::Count(const std::string& peer, internal::v1::BlobKind kind,
                                               uint64_t bytes, absl::Time now) {
  Since since;
  {
    absl::MutexLock l(&mu_);
    ++reads_[{peer, kind}];
    bytes_[peer] += bytes;
    Since& s = since_[peer];
    (kind == internal::v1::CHUNK      ? s.chunks
     : kind == internal::v1::MANIFEST ? s.manifests
                                      : s.ledger) += 1;
    s.bytes += bytes;
    if (!throttle_.Admit(peer, now)) return std::nullopt;
    since = s;
    s = Since();
  }
  v1::AuditEvent e = NewEvent("replica.read", "node", "node:" + peer);
  AddDetail(&e, "chunks", absl::StrCat(since.chunks));
  AddDetail(&e, "manifests", absl::StrCat(since.manifests));
  AddDetail(&e, "ledger_entries", absl::StrCat(since.ledger));
  AddDetail(&e, "bytes", absl::StrCat(since.bytes));
  return e;
}

std::string NodeReads::Render() const {
  std::string out =
      "# HELP custody_peer_reads_total Blobs other nodes read from this one (Replica.GetBlob).\n"
      "# TYPE custody_peer_reads_total counter\n";
  absl::MutexLock l(&mu_);
  for (const auto& [key, n] : reads_) {
    absl::StrAppend(&out, "custody_peer_reads_total{peer=\"", key.first, "\",kind=\"",
                    KindName(key.second), "\"} ", n, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP custody_peer_read_bytes_total Bytes other nodes read from this one.\n"
                  "# TYPE custody_peer_read_bytes_total counter\n");
  for (const auto& [peer, n] : bytes_) {
    absl::StrAppend(&out, "custody_peer_read_bytes_total{peer=\"", peer, "\"} ", n, "\n");
  }
  return out;
}

}  // namespace custody
