#include "client/export_cli.h"

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/audit_cli.h"
#include "client/bundle_verifier.h"
#include "client/cli_errors.h"
#include "client/client.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/units.h"

namespace custody {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

// The object's file name, safe as one path component.
std::string SafeName(const std::string& name) {
  std::string out;
  for (char c : fs::path(name).filename().string()) {
    out += (isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "object.bin";
  return out;
}

absl::Status Export(const ExportArgs& a, const Digest& id, json* report) {
  std::unique_ptr<CustodyClient> client = CustodyClient::Connect(a.server);
  ASSIGN_OR_RETURN(v1::ObjectInfo info, client->Stat(id.ToString()));
  const std::string name = SafeName(info.file_name());
  client->set_purpose("export");
  ASSIGN_OR_RETURN(GetResult got, client->Get(id.ToString(), a.out + "/" + name));
  (void)got;  // Get checked the bytes against the id
  ASSIGN_OR_RETURN(v1::AuditBundle bundle, WriteAuditBundle(a.server, id, a.out + "/audit.bundle"));
  // The object's facts as the node signed them, so that `audit verify`
  // can check this file against the bundle.
  v1::ObjectManifest m;
  if (bundle.manifest().empty() || !m.ParseFromString(bundle.manifest())) {
    return absl::FailedPreconditionError(
        "the node sent no signed manifest with the audit bundle (a node older than this CLI?)");
  }
  *report = ManifestFacts(m);
  (*report)["file"] = name;
  (*report)["exported_at"] = FormatUnixNanos(absl::ToUnixNanos(absl::Now()));
  (*report)["exported_from"] = a.server;
  (*report)["audit_events"] = bundle.entries_size();
  RETURN_IF_ERROR(WriteNewFile(a.out + "/manifest.json", report->dump(2) + "\n"));
  return WriteNewFile(
      a.out + "/VERIFY.txt",
      absl::StrCat(
          "This folder was exported from custody: ", name, " is the object ", info.id(),
          ".\nCheck it offline (no server needed):\n\n  sha256sum ", name,
          "    # must print the hex of the id\n  custody audit verify audit.bundle --file ", name,
          " [--pubkey NODE_KEY.pem]\n\nThe bundle holds the object's audit events "
          "with inclusion proofs against a checkpoint signed by the node, and the\n"
          "object's manifest signed by the same key: verify also checks manifest.json "
          "against it.\n--pubkey pins the node's key obtained by other means "
          "(doc/audit_log.md).\n"));
}

}  // namespace

int ExportCommand(const ExportArgs& a) {
  absl::StatusOr<Digest> id = Digest::Parse(a.id);
  if (!id.ok()) return PrintFailure(id.status());
  std::error_code ec;
  if (fs::exists(a.out, ec)) {
    return PrintFailure(
        absl::AlreadyExistsError(absl::StrCat(a.out, " exists; an export goes into a new folder")));
  }
  if (!fs::create_directory(a.out, ec)) {
    return PrintFailure(
        absl::InternalError(absl::StrCat("cannot create ", a.out, ": ", ec.message())));
  }
  json report;
  absl::Status s = Export(a, *id, &report);
  if (!s.ok()) {
    fs::remove_all(a.out, ec);  // only what this command wrote
    return PrintFailure(absl::Status(
        s.code(), absl::StrCat(s.message(), " (the unfinished folder ", a.out, " was removed)")));
  }
  if (a.json) {
    std::cout << json{{"folder", a.out}, {"manifest", report}}.dump() << "\n";
  } else {
    std::cout << "exported " << a.id << " to " << a.out << " (" << report["file"].get<std::string>()
              << ", manifest.json, audit.bundle, VERIFY.txt)\n";
  }
  return 0;
}

}  // namespace custody
