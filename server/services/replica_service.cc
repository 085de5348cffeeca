#include "server/services/replica_service.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "common/unary.h"
#include "replication/cluster/peer_metadata.h"
#include "replication/offsite/snapshot_source.h"
#include "server/objects/manifest_writer.h"
#include "server/storage/manifest_scan.h"

namespace custody {

namespace {

// The node id a verified "node:ID" certificate names; on a plaintext node
// (no certificates) "local".
std::string PeerNodeIdOr(const std::string& caller) {
  return caller.rfind("node:", 0) == 0 ? caller.substr(5) : caller.empty() ? "local" : caller;
}

absl::StatusOr<Digest> Key(const std::string& raw) {
  absl::StatusOr<Digest> d = Digest::FromRaw(raw);
  if (!d.ok()) return absl::InvalidArgumentError("a blob key must be a raw 32-byte SHA-256");
  return d;
}

}  // namespace

absl::Status ReplicaService::Audited(const absl::Status& peer, const std::string& caller,
                                     const char* method) {
  if (!absl::IsPermissionDenied(peer)) return peer;
  return node_->RefusePeer(caller.empty() ? "unauthenticated" : caller, method, peer);
}

// A chunk read for a download or an offsite sync is on record: the first
// for each node, object and reader at once, then one event a minute with
// the count (common/event_throttle.h).
void ReplicaService::RecordRelayed(const std::string& caller,
                                   const internal::v1::GetBlobRequest& req) {
  if (req.purpose() == internal::v1::READ_REPAIR) return;
  const char* purpose = req.purpose() == internal::v1::READ_DOWNLOAD ? "download" : "offsite";
  std::optional<uint64_t> n = relayed_.Admit(
      absl::StrCat(caller, "\n", purpose, "\n", req.object_id(), "\n", req.reader()));
  if (!n) return;
  v1::AuditEvent e = NewEvent("replica.relayed-read", req.object_id(), caller);
  AddDetail(&e, "purpose", purpose);
  if (!req.reader().empty()) AddDetail(&e, "reader", req.reader());
  if (!req.grant_purpose().empty()) AddDetail(&e, "grant_purpose", req.grant_purpose());
  AddDetail(&e, "chunk_reads", absl::StrCat(*n));
  absl::Status s = node_->Record(std::move(e));
  if (!s.ok()) LOG(ERROR) << "recording a relayed read: " << s;
}

// Stores a chunk through the verifying store: bytes that do not hash to the
// key are refused.
absl::Status ReplicaService::PutChunk(const Digest& key, std::string data, bool* held) {
  ASSIGN_OR_RETURN(std::vector<Digest> missing, node_->chunks()->FindMissing({key}));
  *held = missing.empty();
  if (*held) {  // still refuse bytes that are not what the key names
    if (Digest::Of(data) != key) {
      return absl::InvalidArgumentError(
          absl::StrCat("chunk named ", key.ToString(), " was sent with other bytes"));
    }
    return absl::OkStatus();
  }  // else the verifying store checks the bytes as it stores them
  absl::Notification done;
  absl::Status status;
  node_->chunks()->Put(key, std::move(data), [&](absl::Status s) {
    status = s;
    done.Notify();
  });
  done.WaitForNotification();
  return status;
}

// Stores a manifest placed here by a coordinator, with its audit event.
absl::Status ReplicaService::PutManifest(const Digest& key,
                                         const internal::v1::PutBlobRequest& request,
                                         const std::string& from, bool* held) {
  v1::ObjectManifest m;
  if (!m.ParseFromString(request.data()) || m.sha256() != request.key()) {
    return absl::InvalidArgumentError("the manifest does not parse or names another object");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> have, node_->index()->GetObject(key));
  if (have) {
    v1::ObjectManifest held;
    if (!held.ParseFromString(*have))
      return absl::DataLossError("the held manifest does not parse");
    RETURN_IF_ERROR(guard_.CheckHeld(key, m, held, from));
  } else {
    RETURN_IF_ERROR(guard_.CheckNew(key, m, from));
  }
  auto event = [&](bool existed) {
    const char* action = existed            ? "object.stored-again"
                         : request.repair() ? "object.repaired"
                                            : "object.stored";
    v1::AuditEvent e = NewEvent(action, key.ToString(), "node:" + from);
    AddDetail(&e, "size", absl::StrCat(m.size()));
    AddDetail(&e, "file_name", m.file_name());
    AddDetail(&e, "role", request.handoff_for().empty() ? "replica" : "handoff");
    if (!request.handoff_for().empty()) AddDetail(&e, "handoff_for", request.handoff_for());
    AddDetail(&e, "from_node", from);
    return e;
  };
  ASSIGN_OR_RETURN(*held, WriteManifest(node_->committer(), node_->index(), node_->audit(), key,
                                        request.data(), event));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ReplicaService::PutBlob(grpc::CallbackServerContext* ctx,
                                                  const internal::v1::PutBlobRequest* request,
                                                  internal::v1::PutBlobResponse* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  std::string from = PeerNodeId(ctx);
  // A peer's ledger entry is stored here and waits for nobody: on its own
  // pool, it never queues behind local work that waits for that peer (two
  // nodes archiving at once each waited for the other's read pool).
  ThreadPool* pool =
      request->kind() == internal::v1::LEDGER ? node_->ledger_pool() : node_->read_pool();
  return RunUnary(ctx, pool, [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "PutBlob"));
    ASSIGN_OR_RETURN(Digest key, Key(request->key()));
    bool held = false;
    if (request->kind() == internal::v1::CHUNK) {
      ASSIGN_OR_RETURN(bool purged, node_->purger()->IsPurged(key));
      if (purged) {  // a peer that has not applied the purge yet: keep nothing
        return absl::FailedPreconditionError(
            absl::StrCat("chunk ", key.ToString(), " was purged here (retention ended)"));
      }
      RETURN_IF_ERROR(PutChunk(key, request->data(), &held));
    } else if (request->kind() == internal::v1::MANIFEST) {
      RETURN_IF_ERROR(PutManifest(key, *request, from, &held));
    } else if (request->kind() == internal::v1::LEDGER) {
      RETURN_IF_ERROR(node_->ledger()->Receive(key, request->data(), from));
    } else {
      return absl::InvalidArgumentError("PutBlob needs kind CHUNK, MANIFEST or LEDGER");
    }
    response->set_already_held(held);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaService::GetBlob(grpc::CallbackServerContext* ctx,
                                                  const internal::v1::GetBlobRequest* request,
                                                  internal::v1::GetBlobResponse* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "GetBlob"));
    ASSIGN_OR_RETURN(Digest key, Key(request->key()));
    if (request->kind() == internal::v1::CHUNK) {
      if (node_->options().tls) {  // nodes are not readers: say why
        absl::Status why = reads_.Check(PeerNodeIdOr(caller), key, *request);
        if (!why.ok()) return node_->RefusePeer(caller, "GetBlob", why);
      }
      ASSIGN_OR_RETURN(std::string data, node_->chunks()->Get(key));  // verified
      if (node_->options().tls) RecordRelayed(caller, *request);
      node_->CountPeerRead(PeerNodeIdOr(caller), internal::v1::CHUNK, data.size());
      response->set_data(std::move(data));
      return absl::OkStatus();
    }
    if (request->kind() == internal::v1::LEDGER) {
      ASSIGN_OR_RETURN(std::optional<std::string> e, node_->ledger()->Get(key));
      if (!e) return absl::NotFoundError(absl::StrCat("no ledger entry ", key.ToString()));
      node_->CountPeerRead(PeerNodeIdOr(caller), internal::v1::LEDGER, e->size());
      response->set_data(std::move(*e));
      return absl::OkStatus();
    }
    if (request->kind() != internal::v1::MANIFEST) {
      return absl::InvalidArgumentError("GetBlob needs kind CHUNK, MANIFEST or LEDGER");
    }
    ASSIGN_OR_RETURN(v1::ObjectManifest m, node_->objects()->GetManifest(key));
    response->set_data(m.SerializeAsString());
    node_->CountPeerRead(PeerNodeIdOr(caller), internal::v1::MANIFEST, response->data().size());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaService::FindMissing(
    grpc::CallbackServerContext* ctx, const internal::v1::FindMissingRequest* request,
    internal::v1::FindMissingResponse* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "FindMissing"));
    std::vector<Digest> keys;
    for (const std::string& raw : request->keys()) {
      ASSIGN_OR_RETURN(Digest d, Key(raw));
      keys.push_back(d);
    }
    if (request->kind() == internal::v1::CHUNK) {
      ASSIGN_OR_RETURN(std::vector<Digest> missing, node_->chunks()->FindMissing(keys));
      for (const Digest& d : missing) response->add_missing(std::string(d.Raw()));
      return absl::OkStatus();
    }
    for (const Digest& d : keys) {
      bool has = false;
      if (request->kind() == internal::v1::LEDGER) {
        ASSIGN_OR_RETURN(std::optional<std::string> e, node_->ledger()->Get(d));
        has = e.has_value();
      } else {
        ASSIGN_OR_RETURN(has, node_->index()->HasObject(d));
      }
      if (!has) response->add_missing(std::string(d.Raw()));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaService::Buckets(grpc::CallbackServerContext* ctx,
                                                  const internal::v1::BucketsRequest* request,
                                                  internal::v1::BucketsResponse* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  std::string from = PeerNodeId(ctx);
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "Buckets"));
    if (node_->anti_entropy() == nullptr) {
      return absl::FailedPreconditionError("this node is a cluster of one");
    }
    ASSIGN_OR_RETURN(BucketTable t, node_->anti_entropy()->TableFor(request->kind(), from));
    response->set_xors(t.xors());
    for (uint64_t c : t.counts()) response->add_counts(c);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaService::RunRepair(grpc::CallbackServerContext* ctx,
                                                    const internal::v1::RunRepairRequest*,
                                                    v1::RepairReport* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  return RunUnary(ctx, node_->maintenance_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "RunRepair"));
    if (node_->anti_entropy() == nullptr) {
      return absl::FailedPreconditionError("this node is a cluster of one");
    }
    *response = node_->anti_entropy()->RunNow();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaService::RunScrub(grpc::CallbackServerContext* ctx,
                                                   const internal::v1::RunScrubRequest*,
                                                   v1::ScrubReport* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  return RunUnary(ctx, node_->maintenance_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "RunScrub"));
    *response = node_->scrubber()->RunNow();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaService::ArchiveRecord(
    grpc::CallbackServerContext* ctx, const internal::v1::ArchiveRecordRequest* request,
    v1::Record* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "ArchiveRecord"));
    ASSIGN_OR_RETURN(*response,
                     node_->records()->ArchiveHere(request->actor(), request->record_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaService::ChunksInUse(
    grpc::CallbackServerContext* ctx, const internal::v1::ChunksInUseRequest* request,
    internal::v1::ChunksInUseResponse* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  return RunUnary(ctx, node_->maintenance_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "ChunksInUse"));
    std::vector<Digest> chunks;
    for (const std::string& raw : request->chunks()) {
      ASSIGN_OR_RETURN(Digest d, Digest::FromRaw(raw));
      chunks.push_back(d);
    }
    std::set<std::string> exclude(request->exclude_objects().begin(),
                                  request->exclude_objects().end());
    if (request->name_objects()) {  // the scrubber: whose history a chunk event goes in
      std::set<std::string> wanted(request->chunks().begin(), request->chunks().end());
      ASSIGN_OR_RETURN(auto users, ObjectsUsingChunks(*node_->index(), wanted));
      for (const auto& [object, unused] : users) response->add_objects(object);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(std::vector<Digest> used, node_->purger()->InUse(chunks, exclude));
    for (const Digest& d : used) response->add_chunks(std::string(d.Raw()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaService::ListObjects(
    grpc::CallbackServerContext* ctx, const internal::v1::ListObjectsRequest* request,
    internal::v1::ListObjectsResponse* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "ListObjects"));
    ASSIGN_OR_RETURN(*response, ListLocalObjects(node_, request->after(), request->limit()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaService::AuditSnapshot(grpc::CallbackServerContext* ctx,
                                                        const internal::v1::AuditSnapshotRequest*,
                                                        v1::SnapshotAuditLog* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  return RunUnary(ctx, node_->maintenance_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "AuditSnapshot"));
    ASSIGN_OR_RETURN(*response, LocalAuditLog(node_));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaService::AuditPage(grpc::CallbackServerContext* ctx,
                                                    const internal::v1::AuditPageRequest* request,
                                                    internal::v1::AuditPageResponse* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "AuditPage"));
    ASSIGN_OR_RETURN(std::string page, LocalAuditPage(node_, request->page(), request->upto()));
    response->set_data(std::move(page));
    return absl::OkStatus();
  });
}

// Live uploads (server/objects/live_mirror.h): on the read pool, apart from
// the live pool whose streams wait for these calls on other nodes.
grpc::ServerUnaryReactor* ReplicaService::MirrorLive(grpc::CallbackServerContext* ctx,
                                                     const internal::v1::LiveMirrorRequest* request,
                                                     internal::v1::LiveMirrorResponse* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  std::string from = PeerNodeId(ctx);
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "MirrorLive"));
    ASSIGN_OR_RETURN(*response, node_->live()->ApplyMirror(*request, from));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaService::HandOffLive(
    grpc::CallbackServerContext* ctx, const internal::v1::LiveHandOffRequest* request,
    internal::v1::LiveHandOffResponse* response) {
  absl::Status peer = CheckPeer(ctx, node_->cluster());
  std::string caller = PeerIdentity(*ctx);
  std::string from = PeerNodeId(ctx);
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    RETURN_IF_ERROR(Audited(peer, caller, "HandOffLive"));
    ASSIGN_OR_RETURN(*response->mutable_record(),
                     node_->live()->HandOff(request->live_id(), from, request->held()));
    return absl::OkStatus();
  });
}

}  // namespace custody
