#include "replication/etcd/etcd_client.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/grpc_status.h"

namespace custody {

namespace pb = etcdserverpb;

absl::StatusOr<std::vector<std::string>> EtcdClient::ParseEndpoints(const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view e : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    std::vector<std::string> hp = absl::StrSplit(e, absl::MaxSplits(':', 1));
    int port = 0;
    if (hp.size() != 2 || hp[0].empty() || !absl::SimpleAtoi(hp[1], &port) || port <= 0 ||
        port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("--etcd: \"", e, "\" is not HOST:PORT (e.g. 127.0.0.1:2379)"));
    }
    out.emplace_back(e);
  }
  if (out.empty()) return absl::InvalidArgumentError("--etcd needs HOST:PORT,...");
  return out;
}

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(EtcdOptions options) {
  if (options.endpoints.empty()) return absl::InvalidArgumentError("no etcd endpoints");
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(options)));
}

EtcdClient::EtcdClient(EtcdOptions options) : options_(std::move(options)) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto creds = options_.credentials ? options_.credentials : grpc::InsecureChannelCredentials();
  for (const std::string& e : options_.endpoints) {
    channels_.push_back(grpc::CreateCustomChannel(e, creds, args));
  }
}

absl::Status EtcdClient::OnAnyEndpoint(
    const std::function<grpc::Status(const std::shared_ptr<grpc::Channel>&, grpc::ClientContext*)>&
        call) {
  size_t start;
  {
    absl::MutexLock l(&mu_);
    start = current_;
  }
  std::vector<std::string> tried;
  for (size_t i = 0; i < channels_.size(); ++i) {
    const size_t at = (start + i) % channels_.size();
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineAfter(options_.timeout));
    grpc::Status s = call(channels_[at], &ctx);
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
        s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      {
        absl::MutexLock l(&mu_);
        current_ = at;
      }
      if (s.ok()) return Note(absl::OkStatus());
      absl::Status st = FromGrpcStatus(s);
      return Note(absl::Status(st.code(),
                               absl::StrCat("etcd ", options_.endpoints[at], ": ", st.message())));
    }
    tried.push_back(absl::StrCat(options_.endpoints[at], ": ", s.error_message()));
  }
  return Note(absl::UnavailableError(
      absl::StrCat("etcd did not answer (", absl::StrJoin(tried, "; "),
                   "): the cluster's control actions (archive numbers, holds, purges, map "
                   "changes) wait for a quorum of etcd")));
}

absl::Status EtcdClient::Note(absl::Status s) {
  absl::MutexLock l(&mu_);
  last_ = {s.ok() ? std::string("ok") : s.ToString(), absl::Now()};
  return s;
}

EtcdClient::Outcome EtcdClient::last_outcome() const {
  absl::MutexLock l(&mu_);
  return last_;
}

absl::StatusOr<std::optional<EtcdValue>> EtcdClient::Get(const std::string& key) {
  pb::RangeRequest req;
  req.set_key(key);
  pb::RangeResponse resp;
  absl::Status s = OnAnyEndpoint([&](const auto& ch, grpc::ClientContext* ctx) {
    return pb::KV::NewStub(ch)->Range(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  if (resp.kvs_size() == 0) return std::nullopt;
  const mvccpb::KeyValue& kv = resp.kvs(0);
  return EtcdValue{kv.key(),     kv.value(), kv.mod_revision(), kv.create_revision(),
                   kv.version(), kv.lease()};
}

absl::StatusOr<std::vector<EtcdValue>> EtcdClient::List(const std::string& prefix) {
  pb::RangeRequest req;
  req.set_key(prefix);
  req.set_range_end(PrefixEnd(prefix));
  pb::RangeResponse resp;
  absl::Status s = OnAnyEndpoint([&](const auto& ch, grpc::ClientContext* ctx) {
    return pb::KV::NewStub(ch)->Range(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  std::vector<EtcdValue> out;
  for (const mvccpb::KeyValue& kv : resp.kvs()) {
    out.push_back(
        {kv.key(), kv.value(), kv.mod_revision(), kv.create_revision(), kv.version(), kv.lease()});
  }
  return out;
}

absl::StatusOr<int64_t> EtcdClient::Put(const std::string& key, const std::string& value,
                                        int64_t lease) {
  pb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_lease(lease);
  pb::PutResponse resp;
  absl::Status s = OnAnyEndpoint([&](const auto& ch, grpc::ClientContext* ctx) {
    return pb::KV::NewStub(ch)->Put(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp.header().revision();
}

absl::StatusOr<pb::TxnResponse> EtcdClient::Txn(const pb::TxnRequest& txn) {
  pb::TxnResponse resp;
  absl::Status s = OnAnyEndpoint([&](const auto& ch, grpc::ClientContext* ctx) {
    return pb::KV::NewStub(ch)->Txn(ctx, txn, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<int64_t> EtcdClient::GrantLease(absl::Duration ttl) {
  pb::LeaseGrantRequest req;
  req.set_ttl(std::max<int64_t>(1, absl::ToInt64Seconds(ttl)));
  pb::LeaseGrantResponse resp;
  absl::Status s = OnAnyEndpoint([&](const auto& ch, grpc::ClientContext* ctx) {
    return pb::Lease::NewStub(ch)->LeaseGrant(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  if (!resp.error().empty()) return absl::UnavailableError("etcd lease: " + resp.error());
  return resp.id();
}

absl::Status EtcdClient::KeepAlive(int64_t lease) {
  pb::LeaseKeepAliveResponse resp;
  absl::Status s = OnAnyEndpoint([&](const auto& ch, grpc::ClientContext* ctx) {
    auto stream = pb::Lease::NewStub(ch)->LeaseKeepAlive(ctx);
    pb::LeaseKeepAliveRequest req;
    req.set_id(lease);
    if (!stream->Write(req) || !stream->Read(&resp)) return stream->Finish();
    stream->WritesDone();
    ctx->TryCancel();
    stream->Finish();  // CANCELLED: the answer was read
    return grpc::Status::OK;
  });
  if (!s.ok()) return s;
  if (resp.ttl() <= 0) return absl::NotFoundError(absl::StrCat("etcd lease ", lease, " expired"));
  return absl::OkStatus();
}

absl::Status EtcdClient::RevokeLease(int64_t lease) {
  pb::LeaseRevokeRequest req;
  req.set_id(lease);
  pb::LeaseRevokeResponse resp;
  return OnAnyEndpoint([&](const auto& ch, grpc::ClientContext* ctx) {
    return pb::Lease::NewStub(ch)->LeaseRevoke(ctx, req, &resp);
  });
}

pb::Compare EtcdClient::ModRevisionIs(const std::string& key, int64_t revision) {
  pb::Compare c;
  c.set_key(key);
  c.set_target(pb::Compare::MOD);
  c.set_result(pb::Compare::EQUAL);
  c.set_mod_revision(revision);
  return c;
}

pb::Compare EtcdClient::ValueIs(const std::string& key, const std::string& value) {
  pb::Compare c;
  c.set_key(key);
  c.set_target(pb::Compare::VALUE);
  c.set_result(pb::Compare::EQUAL);
  c.set_value(value);
  return c;
}

pb::RequestOp EtcdClient::PutOp(const std::string& key, const std::string& value, int64_t lease) {
  pb::RequestOp op;
  pb::PutRequest* p = op.mutable_request_put();
  p->set_key(key);
  p->set_value(value);
  p->set_lease(lease);
  return op;
}

pb::RequestOp EtcdClient::DeleteOp(const std::string& key) {
  pb::RequestOp op;
  op.mutable_request_delete_range()->set_key(key);
  return op;
}

std::string EtcdClient::PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

}  // namespace custody
