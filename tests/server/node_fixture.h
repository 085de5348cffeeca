// Opening a node over a temporary folder and driving it without gRPC.
#ifndef CUSTODY_TESTS_SERVER_NODE_FIXTURE_H_
#define CUSTODY_TESTS_SERVER_NODE_FIXTURE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/node.h"

namespace custody::testing {

inline NodeOptions SmallNodeOptions(const std::string& dir) {
  NodeOptions o;
  o.data_dir = dir;
  o.chunk_size = 4096;
  o.max_volume_bytes = 1 << 20;
  o.min_free_bytes = 0;
  return o;
}

// Uploads `data` in pieces of `piece` bytes under `upload_id`.
inline absl::StatusOr<v1::UploadResponse> PutBytes(Node* node, const std::string& data,
                                                   const std::string& upload_id,
                                                   size_t piece = 1000) {
  v1::UploadHeader h;
  h.set_upload_id(upload_id);
  h.set_file_name(upload_id + ".bin");
  h.set_size(data.size());
  absl::StatusOr<std::unique_ptr<Upload>> up = node->uploads()->Begin(h);
  if (!up.ok()) return up.status();
  for (size_t i = 0; i < data.size(); i += piece) {
    absl::Status s = (*up)->Append(absl::string_view(data).substr(i, piece));
    if (!s.ok()) return s;
  }
  return (*up)->Finish(Digest::Of(data).ToString());
}

// Reads a whole object back through the verifying chunk store.
inline absl::StatusOr<std::string> ReadObject(Node* node, const std::string& id) {
  absl::StatusOr<Digest> d = Digest::Parse(id);
  if (!d.ok()) return d.status();
  absl::StatusOr<v1::ObjectManifest> m = node->objects()->GetManifest(*d);
  if (!m.ok()) return m.status();
  std::string out;
  for (const std::string& raw : m->chunks()) {
    absl::StatusOr<std::string> c = node->chunks()->Get(*Digest::FromRaw(raw));
    if (!c.ok()) return c.status();
    out += *c;
  }
  return out;
}

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_SERVER_NODE_FIXTURE_H_
