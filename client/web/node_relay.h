// The web console's calls to the cluster (doc/console.md). The console is a
// client like the CLI: it calls the nodes' gRPC API over TLS with its own
// certificate ("console:NAME") and, with every call, the credentials of the
// person it calls for: their signed session or their token. The nodes decide
// everything; the console only relays, so what a person may do through it is
// exactly what they may do with the CLI.
#ifndef CUSTODY_CLIENT_WEB_NODE_RELAY_H_
#define CUSTODY_CLIENT_WEB_NODE_RELAY_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "custody/v1/custody.grpc.pb.h"

namespace custody::web {

// Whom a call is for: exactly one of the two is set.
struct CallerCredentials {
  std::string session;  // a serialized v1::SessionAssertion
  std::string token;    // a bearer token
};

// Thread-safe.
class NodeRelay {
 public:
  // `servers`: "host:port" of nodes, tried in order when one is down.
  // Channels use the credentials CustodyClient::UseTls was given.
  explicit NodeRelay(std::vector<std::string> servers);

  // Whether the console relays `method` ("custody.v1.Records/List"): the
  // reads and decisions people make, not maintenance or uploads.
  static bool Relays(const std::string& method);
  // Calls unary `method` with the request given as JSON (proto3 JSON, field
  // names as in the .proto) and returns the response as JSON. The node's
  // refusal comes back as its status, message unchanged.
  absl::StatusOr<std::string> CallJson(const std::string& method, const std::string& request_json,
                                       const CallerCredentials& who);
  // Calls unary `method` ("custody.v1.Audit/Export") with typed messages,
  // on the first node that answers. For the console's own pages; not limited
  // to Relays().
  absl::Status Call(const std::string& method, const google::protobuf::Message& request,
                    google::protobuf::Message* response, const CallerCredentials& who);
  // Reads [offset, offset + length) of object `id` (length 0: to the end)
  // for a playback; `sink` gets the bytes in order and returns false to
  // stop. `info` gets the object's info before the first byte. The node
  // checks the grant and verifies every chunk before it sends it.
  absl::Status Read(const std::string& id, uint64_t offset, uint64_t length,
                    const std::string& playback, const CallerCredentials& who, v1::ObjectInfo* info,
                    const std::function<bool(const char* data, size_t n)>& sink);

 private:
  void Prepare(grpc::ClientContext* ctx, const CallerCredentials& who, int timeout_s) const;
  std::vector<std::string> servers_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace custody::web

#endif  // CUSTODY_CLIENT_WEB_NODE_RELAY_H_
