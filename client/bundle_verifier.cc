#include "client/bundle_verifier.h"

#include <google/protobuf/stubs/logging.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "client/shown_time.h"
#include "common/ed25519.h"
#include "common/export_manifest.h"
#include "common/merkle.h"
#include "common/units.h"

namespace custody {
namespace {

bool HasUnknownFields(const google::protobuf::Message& m) {
  return !m.GetReflection()->GetUnknownFields(m).empty();
}

// Checks one entry's event and inclusion proof against the checkpoint.
void VerifyEntry(const v1::AuditBundle& b, int i, BundleReport* r) {
  const v1::AuditBundleEntry& e = b.entries(i);
  auto fail = [&](absl::string_view what) {
    r->problems.push_back(absl::StrCat("entry ", i, " (event ", e.index(), "): ", what));
  };
  v1::AuditEvent ev;
  if (HasUnknownFields(e) || !ev.ParseFromString(e.event()) || HasUnknownFields(ev)) {
    return fail("the event's bytes do not parse as an event");
  }
  if (ev.seq() != e.index()) return fail("the event says it is another event");
  if (ev.subject() != b.subject()) return fail("the event is about another subject");
  std::vector<Digest> proof;
  for (const std::string& p : e.proof()) {
    absl::StatusOr<Digest> d = Digest::FromRaw(p);
    if (!d.ok()) return fail("a proof hash is not 32 bytes");
    proof.push_back(*d);
  }
  absl::Status s = merkle::VerifyInclusion(e.index(), r->checkpoint.size,
                                           merkle::HashLeaf(e.event()), proof, r->checkpoint.root);
  if (!s.ok()) return fail(absl::StrCat("not in the signed log: ", s.message()));
  r->events.push_back(std::move(ev));
}

// The same JSON value whatever the order of its objects' keys.
nlohmann::json Unordered(const nlohmann::ordered_json& v) {
  return nlohmann::json::parse(v.dump(), nullptr, false);
}

// Each of `facts` must be in `given` (an export's manifest.json) as signed,
// in any key order (a protobuf map's order differs from one process to the
// next).
void CompareFacts(const nlohmann::ordered_json& given, const nlohmann::ordered_json& facts,
                  BundleReport* r) {
  for (const auto& [k, v] : facts.items()) {
    if (!given.contains(k) || Unordered(given[k]) != Unordered(v)) {
      r->problems.push_back(absl::StrCat("manifest.json says ", k, " = ",
                                         given.contains(k) ? given[k].dump() : "(nothing)",
                                         " but the node signed ", v.dump()));
    }
  }
}

// Checks the node's signature of the bundle's manifest and, when given, an
// export's manifest.json (parsed: `given`) against it.
void VerifyManifest(const v1::AuditBundle& b, const std::string& key,
                    const nlohmann::ordered_json* given, BundleReport* r) {
  if (b.manifest().empty()) {
    if (given != nullptr) {
      r->problems.push_back("the bundle carries no signed manifest to check manifest.json against");
    }
    return;
  }
  absl::Status sig =
      Ed25519Verify(key, ExportManifestMessage(b.subject(), b.manifest()), b.manifest_signature());
  v1::ObjectManifest m;
  if (!sig.ok()) return r->problems.push_back("the manifest's signature does not verify");
  if (!m.ParseFromString(b.manifest()) || HasUnknownFields(m)) {
    return r->problems.push_back("the signed manifest does not parse");
  }
  absl::StatusOr<Digest> id = Digest::FromRaw(m.sha256());
  if (!id.ok() || id->ToString() != b.subject()) {
    return r->problems.push_back("the signed manifest is another object's");
  }
  if (given == nullptr) return;
  size_t before = r->problems.size();
  CompareFacts(*given, ManifestFacts(m), r);
  r->manifest_checked = r->problems.size() == before;
}

// Likewise for the export's context (records, grant): manifest.json may
// state none of it unless the node signed it.
void VerifyContext(const v1::AuditBundle& b, const std::string& key,
                   const nlohmann::ordered_json* given, BundleReport* r) {
  if (b.export_context().empty()) {
    for (const char* k : {"exported_by", "records", "grant"}) {
      if (given != nullptr && given->contains(k)) {
        return r->problems.push_back(absl::StrCat(
            "manifest.json states ", k, " but the bundle carries no signed export context"));
      }
    }
    return;
  }
  v1::ExportContext c;
  if (!Ed25519Verify(key, ExportContextMessage(b.subject(), b.export_context()),
                     b.export_context_signature())
           .ok()) {
    return r->problems.push_back("the export context's signature does not verify");
  }
  if (!c.ParseFromString(b.export_context()) || HasUnknownFields(c)) {
    return r->problems.push_back("the signed export context does not parse");
  }
  if (given == nullptr) return;
  size_t before = r->problems.size();
  CompareFacts(*given, ExportContextFacts(c), r);
  r->context_checked = r->problems.size() == before;
}

// manifest.json checked against what the node signed, when given.
void VerifyExportFacts(const v1::AuditBundle& b, const std::string& key,
                       const std::string& manifest_json, BundleReport* r) {
  nlohmann::ordered_json given;
  if (!manifest_json.empty()) {
    given = nlohmann::ordered_json::parse(manifest_json, nullptr, false);
    if (given.is_discarded() || !given.is_object()) {
      return r->problems.push_back("manifest.json is not a JSON object");
    }
  }
  const nlohmann::ordered_json* g = manifest_json.empty() ? nullptr : &given;
  VerifyManifest(b, key, g, r);
  VerifyContext(b, key, g, r);
}

}  // namespace

nlohmann::ordered_json ExportContextFacts(const v1::ExportContext& c) {
  using json = nlohmann::ordered_json;
  json records = json::array();
  for (const v1::ExportRecord& r : c.records()) {
    records.push_back(
        json{{"id", r.id()}, {"archive_number", r.archive_number()}, {"agency", r.agency()}});
  }
  json grant = nullptr;  // exported by an auditor's role, under no grant
  if (c.has_grant()) {
    const v1::ExportGrant& g = c.grant();
    json approvers = json::array();
    for (const v1::ExportApproval& a : g.approvals()) {
      approvers.push_back(
          json{{"name", a.by()}, {"role", a.role()}, {"time", ShownTime(a.time_unix_nanos())}});
    }
    grant = json::object();
    grant["request"] = g.request_id();
    grant["requester"] = g.requester();
    grant["record"] = g.record_id();  // "" for a grant on the object alone
    grant["purpose"] = g.purpose();
    grant["reason"] = g.reason();
    grant["requested_at"] = ShownTime(g.requested_unix_nanos());
    grant["approvers"] = approvers;
    grant["expires_at"] = ShownTime(g.expires_unix_nanos());
  }
  return json{{"exported_by", c.exported_by()},
              {"exported_at", ShownTime(c.exported_unix_nanos())},
              {"records", records},
              {"grant", grant}};
}

nlohmann::ordered_json ManifestFacts(const v1::ObjectManifest& m) {
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  for (const auto& [k, v] :
       std::map<std::string, std::string>(m.metadata().begin(), m.metadata().end())) {
    meta[k] = v;  // by key: the same manifest.json from every process
  }
  absl::StatusOr<Digest> id = Digest::FromRaw(m.sha256());
  return nlohmann::ordered_json{{"id", id.ok() ? id->ToString() : ""},
                                {"size", m.size()},
                                {"file_name", m.file_name()},
                                {"media_type", m.media_type()},
                                {"stored_at", ShownTime(m.stored_at_unix_nanos())},
                                {"metadata", meta}};
}

BundleReport VerifyBundleBytes(const std::string& bytes, const BundleVerifyOptions& options) {
  BundleReport r;
  v1::AuditBundle b;
  google::protobuf::LogSilencer quiet;  // damaged input is reported below, not logged
  if (!b.ParseFromString(bytes) || HasUnknownFields(b)) {
    r.problems.push_back("the file is not an audit bundle (it does not parse)");
    return r;
  }
  std::string pem = options.public_key_pem.empty() ? b.public_key_pem() : options.public_key_pem;
  absl::StatusOr<std::string> key = Ed25519PublicFromPem(pem);
  if (!key.ok()) {
    r.problems.push_back(absl::StrCat("public key: ", key.status().message()));
    return r;
  }
  if (Ed25519PublicToPem(*key) != pem) {
    r.problems.push_back("the public key is not in canonical PEM form");
    return r;
  }
  if (!options.public_key_pem.empty() && pem != b.public_key_pem()) {
    r.problems.push_back("the bundle names another public key than the one given");
  }
  absl::StatusOr<Checkpoint> c = VerifyCheckpoint(b.checkpoint(), *key);
  if (!c.ok()) {
    r.problems.push_back(absl::StrCat("checkpoint: ", c.status().message()));
    return r;
  }
  r.checkpoint = *c;
  r.attestation = CheckAttestations(b.checkpoint(), *c, b.timestamp_token(),
                                    options.witness_key_pem, options.tsa_cert_pem);
  r.problems.insert(r.problems.end(), r.attestation.problems.begin(), r.attestation.problems.end());
  if (b.entries_size() == 0) r.problems.push_back("the bundle holds no events");
  for (int i = 0; i < b.entries_size(); ++i) VerifyEntry(b, i, &r);
  VerifyExportFacts(b, *key, options.manifest_json, &r);
  if (!options.file.empty()) {
    absl::StatusOr<Digest> got = Digest::OfFile(options.file);
    if (!got.ok()) {
      r.problems.push_back(std::string(got.status().message()));
    } else if (got->ToString() != b.subject()) {
      r.problems.push_back(
          absl::StrCat(options.file, " hashes to ", got->ToString(), ", not to ", b.subject()));
    }
  }
  return r;
}

}  // namespace custody
