// Offline verification of an audit bundle (`custody audit verify`): no
// server, and none of the node's code — only the RFC 9162 verifiers, the
// checkpoint signature check and SHA-256 in common/.
#ifndef CUSTODY_CLIENT_BUNDLE_VERIFIER_H_
#define CUSTODY_CLIENT_BUNDLE_VERIFIER_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/attestation_check.h"
#include "common/checkpoint.h"
#include "custody/v1/audit.pb.h"
#include "custody/v1/manifest.pb.h"

namespace custody {

struct BundleReport {
  std::vector<std::string> problems;  // empty when everything holds
  Checkpoint checkpoint;
  std::vector<v1::AuditEvent> events;  // the verified events, in order
  bool manifest_checked = false;       // manifest.json matched the signed manifest
  bool context_checked = false;        // and its records and grant the signed context
  AttestationReport attestation;       // its witness and TSA (client/attestation_check.h)
  bool ok() const { return problems.empty(); }
};

struct BundleVerifyOptions {
  std::string public_key_pem;  // trust this key instead of the bundle's own
  std::string file;            // also check that this file hashes to the subject
  // The contents of an export's manifest.json: also check its object facts
  // against the manifest the node signed in the bundle.
  std::string manifest_json;
  std::string witness_key_pem;  // require this witness's cosignature
  std::string tsa_cert_pem;     // require a time-stamp token by this TSA
};

// The object facts an export's manifest.json states (id, size, file_name,
// media_type, stored_at, metadata), from the node-signed manifest.
nlohmann::ordered_json ManifestFacts(const v1::ObjectManifest& m);
// The export facts it states besides (exported_by, exported_at, records,
// grant), from the node-signed export context.
nlohmann::ordered_json ExportContextFacts(const v1::ExportContext& c);

// Parses the bundle file's bytes (a serialized AuditBundle; unknown fields
// are refused) and checks every signature and proof.
BundleReport VerifyBundleBytes(const std::string& bytes, const BundleVerifyOptions& options);

}  // namespace custody

#endif  // CUSTODY_CLIENT_BUNDLE_VERIFIER_H_
