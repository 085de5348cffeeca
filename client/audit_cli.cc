#include "client/audit_cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/audit_text.h"
#include "client/bundle_verifier.h"
#include "client/cli_errors.h"
#include "client/client.h"
#include "client/package_digests.h"
#include "client/shown_time.h"
#include "common/cosignature.h"
#include "common/ed25519.h"
#include "common/files.h"
#include "common/grpc_status.h"
#include "common/merkle.h"
#include "common/timestamp_token.h"
#include "common/units.h"
#include "custody/v1/audit.grpc.pb.h"

namespace custody {
namespace {

using json = nlohmann::ordered_json;

int Fail(const absl::Status& s) { return custody::PrintFailure(s); }

std::unique_ptr<v1::Audit::Stub> Stub(const std::string& server) {
  return v1::Audit::NewStub(CustodyClient::ChannelToAnyOf(server));
}

std::string ReadAll(const std::string& path, bool* ok) {
  std::ifstream f(path, std::ios::binary);
  *ok = static_cast<bool>(f);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

json AttestationJson(const AttestationReport& a, const Checkpoint& c) {
  return json{
      {"cosignatures", a.cosignatures},
      {"witness", a.witness},
      {"witness_time", a.witness.empty() ? "" : ShownTime(a.witness_unix_seconds * 1000000000)},
      {"timestamped", a.timestamped},
      {"tsa_checked", a.tsa_checked},
      {"tsa", a.tsa},
      {"node_time", ShownTime(c.time_unix_nanos)},
      {"tsa_time", a.timestamped && a.problems.empty() && a.tsa_time != absl::InfinitePast()
                       ? ShownTime(absl::ToUnixNanos(a.tsa_time))
                       : ""},
      {"warnings", a.warnings}};
}

// What the witness and the TSA vouch for, after a bundle verified of
// checkpoint `c`: the TSA's time beside the node's.
void PrintAttestation(const AttestationReport& a, const Checkpoint& c) {
  if (!a.witness.empty()) {
    std::cout << "witnessed: cosigned by " << a.witness << " at "
              << ShownTime(a.witness_unix_seconds * 1000000000) << "\n";
  } else if (a.cosignatures > 0) {
    std::cout << "the checkpoint carries " << a.cosignatures
              << " witness cosignature(s), not checked: give --witness-key\n";
  }
  if (a.tsa_time == absl::InfinitePast()) return;
  std::cout << (a.tsa_checked ? "timestamped: " : "timestamp (not checked: give --tsa-cert): ")
            << ShownTime(absl::ToUnixNanos(a.tsa_time)) << " by " << a.tsa
            << "; the node signed the checkpoint at " << ShownTime(c.time_unix_nanos)
            << " by its own clock\n";
}

}  // namespace

int AuditCheckpointCommand(const AuditArgs& a) {
  grpc::ClientContext ctx;
  v1::AuditCheckpointRequest req;
  req.set_fresh(a.fresh);
  v1::AuditCheckpointResponse resp;
  absl::Status s = FromGrpcStatus(Stub(a.server)->LatestCheckpoint(&ctx, req, &resp));
  if (!s.ok()) return Fail(s);
  absl::StatusOr<std::string> key = Ed25519PublicFromPem(resp.public_key_pem());
  absl::StatusOr<Checkpoint> c =
      key.ok() ? VerifyCheckpoint(resp.checkpoint(), *key) : key.status();
  if (!c.ok()) return Fail(c.status());
  absl::StatusOr<TimestampFacts> stamp = ReadTimestampToken(resp.timestamp_token());
  std::string timestamp = resp.timestamp_state();
  if (!resp.timestamp_token().empty()) {
    timestamp = stamp.ok()
                    ? absl::StrCat("timestamped at ", ShownTime(absl::ToUnixNanos(stamp->time)),
                                   " by ", stamp->tsa)
                    : absl::StrCat("unreadable token: ", stamp.status().message());
  }
  if (!a.json) {
    std::cout << resp.checkpoint();  // the note alone, to keep as a file
    for (const std::string& line : {resp.witness_state(), timestamp}) {
      if (!line.empty()) std::cerr << line << "\n";
    }
    return 0;
  }
  std::cout << json{{"origin", c->origin},
                    {"size", c->size},
                    {"root", c->root.ToString()},
                    {"time", ShownTime(c->time_unix_nanos)},
                    {"note", resp.checkpoint()},
                    {"public_key_pem", resp.public_key_pem()},
                    {"cosignatures", NoteSignatureLines(resp.checkpoint()).size() - 1},
                    {"witness_state", resp.witness_state()},
                    {"timestamped", !resp.timestamp_token().empty()},
                    {"timestamp", timestamp},
                    {"timestamp_token", absl::Base64Escape(resp.timestamp_token())}}
                   .dump()
            << "\n";
  return 0;
}

int AuditExportCommand(const AuditArgs& a) {
  absl::StatusOr<Digest> id = Digest::Parse(a.id);
  if (!id.ok()) return Fail(id.status());
  // Before asking the node: an export that cannot be written must not be
  // logged as one.
  std::error_code ec;
  std::filesystem::path out(a.output);
  if (std::filesystem::exists(out, ec)) {
    return Fail(absl::AlreadyExistsError(
        absl::StrCat(a.output, " exists; custody never overwrites a file")));
  }
  std::filesystem::path parent = out.has_parent_path() ? out.parent_path() : ".";
  if (!std::filesystem::is_directory(parent, ec)) {
    return Fail(absl::NotFoundError(absl::StrCat("no folder ", parent.string())));
  }
  absl::StatusOr<v1::AuditBundle> bundle = WriteAuditBundle(a.server, *id, a.output);
  if (!bundle.ok()) return Fail(bundle.status());
  std::cerr << "exported " << bundle->entries_size() << " event(s) of " << id->ToString()
            << " with proofs to " << a.output << "\n";
  return 0;
}

absl::StatusOr<v1::AuditBundle> WriteAuditBundle(const std::string& server, const Digest& id,
                                                 const std::string& path) {
  grpc::ClientContext ctx;
  v1::AuditExportRequest req;
  req.set_subject(id.ToString());
  v1::AuditBundle bundle;
  absl::Status s = FromGrpcStatus(Stub(server)->Export(&ctx, req, &bundle));
  if (s.ok()) s = WriteNewFile(path, bundle.SerializeAsString());
  if (!s.ok()) return s;
  return bundle;
}

int AuditVerifyCommand(const AuditArgs& a) {
  bool ok = false;
  std::string bytes = ReadAll(a.bundle, &ok);
  if (!ok) return Fail(absl::NotFoundError(absl::StrCat("cannot read ", a.bundle)));
  BundleVerifyOptions opts;
  opts.file = a.file;
  std::string manifest = a.manifest;
  if (manifest.empty()) {  // an export folder: check its manifest.json too
    std::string beside = (std::filesystem::path(a.bundle).parent_path() / "manifest.json").string();
    absl::StatusOr<bool> there = PathExists(beside);
    if (!there.ok()) return Fail(there.status());
    if (*there) manifest = beside;
  }
  if (!manifest.empty()) {
    opts.manifest_json = ReadAll(manifest, &ok);
    if (!ok) return Fail(absl::NotFoundError(absl::StrCat("cannot read ", manifest)));
  }
  for (auto [path, out] : {std::pair{&a.pubkey, &opts.public_key_pem},
                           std::pair{&a.witness_key, &opts.witness_key_pem},
                           std::pair{&a.tsa_cert, &opts.tsa_cert_pem}}) {
    if (path->empty()) continue;
    *out = ReadAll(*path, &ok);
    if (!ok) return Fail(absl::NotFoundError(absl::StrCat("cannot read ", *path)));
  }
  BundleReport r = VerifyBundleBytes(bytes, opts);
  // An export folder: every file on both SHA-256 and SM3 (DIGESTS.txt).
  const std::string digests =
      (std::filesystem::path(a.bundle).parent_path() / kPackageDigests).string();
  absl::StatusOr<bool> listed = PathExists(digests);
  DigestsCheck digests_checked;
  if (listed.ok() && *listed) {
    absl::StatusOr<DigestsCheck> d = CheckPackageDigests(digests);
    if (!d.ok()) return Fail(d.status());
    digests_checked = *d;
    r.problems.insert(r.problems.end(), d->problems.begin(), d->problems.end());
  }
  if (a.json) {
    json events = json::array();
    for (const auto& e : r.events) events.push_back(EventJson(e));
    std::cout << json{{"ok", r.ok()},
                      {"problems", r.problems},
                      {"checkpoint_size", r.checkpoint.size},
                      {"checkpoint_origin", r.checkpoint.origin},
                      {"manifest_checked", r.manifest_checked},
                      {"context_checked", r.context_checked},
                      {"digests_checked", digests_checked.files},
                      {"attestation", AttestationJson(r.attestation, r.checkpoint)},
                      {"events", events}}
                     .dump()
              << "\n";
  } else if (r.ok()) {
    PrintEvents(r.events);
    std::cout << "verified: " << r.events.size() << " event(s), each proven in the log of "
              << r.checkpoint.origin << " at size " << r.checkpoint.size
              << " under its signed checkpoint"
              << (a.file.empty() ? "" : "; the file hashes to the id")
              << (r.manifest_checked ? "; manifest.json matches the manifest the node signed" : "")
              << (r.context_checked ? ", and the records and grant it signed" : "")
              << (digests_checked.files > 0
                      ? absl::StrCat("; the ", digests_checked.files, " files ", kPackageDigests,
                                     " lists match on SHA-256 and SM3")
                      : "")
              << "\n";
    PrintAttestation(r.attestation, r.checkpoint);
  }
  for (const std::string& w : r.attestation.warnings)
    std::cerr << "custody: WARNING: " << w << "\n";
  for (const std::string& p : r.problems) std::cerr << "custody: FAILED: " << p << "\n";
  return r.ok() ? 0 : 1;
}

// Checks here, not on the node, that the node's latest checkpoint extends
// the one the auditor kept: both signed by the node's key (which the kept
// note pins), and the RFC 9162 consistency proof between them holds.
std::string CheckConsistencyHere(const std::string& server, const std::string& kept,
                                 const v1::AuditVerifyNodeResponse& resp) {
  grpc::ClientContext ctx;
  v1::AuditCheckpointResponse key_resp;
  absl::Status s =
      FromGrpcStatus(Stub(server)->LatestCheckpoint(&ctx, v1::AuditCheckpointRequest(), &key_resp));
  absl::StatusOr<std::string> key =
      s.ok() ? Ed25519PublicFromPem(key_resp.public_key_pem()) : absl::StatusOr<std::string>(s);
  if (!key.ok()) return absl::StrCat("cannot get the node's key: ", key.status().message());
  absl::StatusOr<Checkpoint> old = VerifyCheckpoint(kept, *key);
  if (!old.ok()) return "the kept checkpoint is not signed by the node's key";
  absl::StatusOr<Checkpoint> now = VerifyCheckpoint(resp.latest_checkpoint(), *key);
  if (!now.ok()) return "the node's latest checkpoint is not validly signed";
  std::vector<Digest> proof;
  for (const std::string& p : resp.consistency_proof()) {
    absl::StatusOr<Digest> d = Digest::FromRaw(p);
    if (!d.ok()) return "a consistency proof hash is not 32 bytes";
    proof.push_back(*d);
  }
  absl::Status c = merkle::VerifyConsistency(old->size, now->size, old->root, now->root, proof);
  if (!c.ok()) {
    return absl::StrCat("the log at size ", now->size,
                        " does not extend the kept checkpoint at "
                        "size ",
                        old->size, ": ", c.message());
  }
  return "";
}

int AuditVerifyNodeCommand(const AuditArgs& a) {
  grpc::ClientContext ctx;
  v1::AuditVerifyNodeRequest req;
  if (!a.since.empty()) {
    bool ok = false;
    std::string note = ReadAll(a.since, &ok);
    if (!ok) return Fail(absl::NotFoundError(absl::StrCat("cannot read ", a.since)));
    size_t body_end = note.find("\n\n");
    if (body_end == std::string::npos ||
        !Checkpoint::ParseBody(note.substr(0, body_end + 1)).ok()) {
      return Fail(UsageError(absl::StrCat(
          a.since, " is not a signed checkpoint (save the output of `custody audit checkpoint`)")));
    }
    req.set_since_checkpoint(note);
  }
  req.set_since_last_verified(a.since_last_verified);
  v1::AuditVerifyNodeResponse resp;
  absl::Status s = FromGrpcStatus(Stub(a.server)->VerifyNode(&ctx, req, &resp));
  if (!s.ok()) return Fail(s);
  if (resp.ok() && !a.since.empty()) {
    std::string problem = CheckConsistencyHere(a.server, req.since_checkpoint(), resp);
    if (!problem.empty()) {
      resp.set_ok(false);
      resp.set_first_problem(problem);
    }
  }
  if (a.json) {
    json restored = json::array();
    for (const v1::RestoredLogCheck& c : resp.restored_logs()) {
      restored.push_back(json{
          {"node", c.node_id()}, {"events", c.events()}, {"ok", c.ok()}, {"problem", c.problem()}});
    }
    std::cout << json{{"ok", resp.ok()},
                      {"events", resp.events()},
                      {"checkpoints", resp.checkpoints()},
                      {"first_problem", resp.first_problem()},
                      {"seconds", resp.seconds()},
                      {"verified_from", resp.verified_from()},
                      {"verified_checkpoint", resp.verified_checkpoint()},
                      {"restored_logs", restored}}
                     .dump()
              << "\n";
  } else if (resp.ok()) {
    std::cout << "the audit log holds " << resp.events() << " events and matches all "
              << resp.checkpoints() << " signed checkpoints (" << resp.seconds() << " s)\n";
    if (resp.verified_from() > 0) {
      std::cout << "read events " << resp.verified_from() << " to " << resp.events() - 1
                << "; the ones before are those of the signed checkpoint of size "
                << resp.verified_from() << ", checked against the stored tree\n";
    }
    for (const v1::RestoredLogCheck& c : resp.restored_logs()) {
      std::cout << "restored log of earlier node " << c.node_id() << ": " << c.events()
                << " events match the checkpoint it signed\n";
    }
    if (!a.since.empty()) {
      std::cout << "checked here: the node's latest checkpoint extends the kept one "
                   "(RFC 9162 consistency proof)\n";
    }
  }
  if (!resp.ok()) std::cerr << "custody: FAILED: " << resp.first_problem() << "\n";
  return resp.ok() ? 0 : 1;
}

}  // namespace custody
