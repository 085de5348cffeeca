#include "replication/offsite/snapshot_source.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/snapshot_format.h"
#include "common/status_macros.h"
#include "server/audit/event_groups.h"
#include "server/node.h"

namespace custody {

namespace {

// Whether a purge removed any of `m`'s chunks here.
absl::StatusOr<bool> AnyPurged(Node* node, const v1::ObjectManifest& m) {
  for (const std::string& raw : m.chunks()) {
    ASSIGN_OR_RETURN(Digest d, Digest::FromRaw(raw));
    ASSIGN_OR_RETURN(bool purged, node->purger()->IsPurged(d));
    if (purged) return true;
  }
  return false;
}

// Reads events [first, end) of the log in order into `page`.
absl::Status ReadEvents(Node* node, uint64_t first, uint64_t end, std::string* page) {
  EventCursor cursor(node->index(), rocksdb::ReadOptions());
  cursor.Seek(first);
  for (uint64_t at = first; at < end; ++at, cursor.Next()) {
    if (!cursor.Valid() || cursor.position() != at) {
      return absl::DataLossError(absl::StrCat(
          "audit event ", at, " cannot be read",
          cursor.problem().empty() ? ": the log ends before it" : ": " + cursor.problem()));
    }
    AppendEventRecord(page, cursor.event());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<internal::v1::ListObjectsResponse> ListLocalObjects(Node* node,
                                                                   const std::string& after,
                                                                   uint32_t limit) {
  if (limit == 0 || limit > 1000) limit = 1000;
  Index* index = node->index();
  std::unique_ptr<rocksdb::Iterator> it(
      index->db()->NewIterator(rocksdb::ReadOptions(), index->objects()));
  if (after.empty()) {
    it->SeekToFirst();
  } else {
    it->Seek(after);
    if (it->Valid() && it->key() == after) it->Next();
  }
  internal::v1::ListObjectsResponse resp;
  for (; it->Valid() && resp.objects_size() < static_cast<int>(limit); it->Next()) {
    v1::ObjectManifest m;
    if (!m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a stored manifest does not parse");
    }
    v1::SnapshotObject* o = resp.add_objects();
    o->set_id(m.sha256());
    o->set_manifest_sha256(std::string(Digest::Of(DeterministicBytes(m)).Raw()));
    o->set_size(m.size());
    ASSIGN_OR_RETURN(bool purged, AnyPurged(node, m));
    o->set_purged(purged);
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "listing objects"));
  resp.set_more(it->Valid());
  return resp;
}

absl::StatusOr<v1::SnapshotAuditLog> LocalAuditLog(Node* node) {
  ASSIGN_OR_RETURN(std::string note, node->SignCheckpointNow());
  ASSIGN_OR_RETURN(Checkpoint c, VerifyCheckpoint(note, node->audit()->public_raw()));
  v1::SnapshotAuditLog log;
  log.set_node_id(node->node_id());
  log.set_public_key(node->audit()->public_raw());
  log.set_checkpoint(note);
  for (uint64_t page = 0; page * kAuditPageEvents < c.size; ++page) {
    ASSIGN_OR_RETURN(std::string bytes, LocalAuditPage(node, page, c.size));
    log.add_pages(std::string(Digest::Of(bytes).Raw()));
  }
  return log;
}

absl::StatusOr<std::string> LocalAuditPage(Node* node, uint64_t page, uint64_t upto) {
  if (upto > node->audit()->size()) {
    return absl::InvalidArgumentError(absl::StrCat("this node's audit log has only ",
                                                   node->audit()->size(), " events, not ", upto));
  }
  uint64_t first = page * kAuditPageEvents;
  if (first >= upto) return absl::OutOfRangeError(absl::StrCat("no audit page ", page));
  std::string bytes;
  RETURN_IF_ERROR(ReadEvents(node, first, std::min(upto, first + kAuditPageEvents), &bytes));
  return bytes;
}

}  // namespace custody
