// One unary gRPC call from the CLI: a fresh stub on a channel to the node
// (plaintext or TLS, see CustodyClient::UseTls), a 60 s deadline, and the
// answer as an absl::Status. Given several nodes (comma-separated), a node
// that is down hands the call to the next (ServerPool::EachNodeOnce).
#ifndef CUSTODY_CLIENT_UNARY_CALL_H_
#define CUSTODY_CLIENT_UNARY_CALL_H_

#include <grpcpp/client_context.h>

#include <chrono>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "client/client.h"
#include "client/server_pool.h"
#include "common/grpc_status.h"

namespace custody {

// Calls `method` of a new `Stub` talking to `server`, e.g.
//   UnaryCall(a.server, &v1::Access::Stub::WhoAmI, v1::WhoAmIRequest(), &principal);
// Long work (an offsite sync, a restore) passes a longer `deadline`.
template <typename Stub, typename Req, typename Resp>
absl::Status UnaryCall(const std::string& server,
                       grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                       const std::type_identity_t<Req>& req, Resp* resp,
                       std::chrono::seconds deadline = std::chrono::seconds(60)) {
  absl::StatusOr<std::vector<std::string>> servers = ParseServers({server});
  if (!servers.ok()) return servers.status();
  ServerPool pool(*std::move(servers));
  return pool.Call(ServerPool::EachNodeOnce(), [&](const ServerPool::Server& node) {
    Stub stub(node.channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    return FromGrpcStatus((stub.*method)(&ctx, req, resp));
  });
}

}  // namespace custody

#endif  // CUSTODY_CLIENT_UNARY_CALL_H_
