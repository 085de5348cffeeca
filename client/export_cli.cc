#include "client/export_cli.h"

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/audit_cli.h"
#include "client/bundle_verifier.h"
#include "client/cli_errors.h"
#include "client/client.h"
#include "client/package_digests.h"
#include "client/shown_time.h"
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

constexpr char kNodeKey[] = "node-key.pem";

// Who exported the object under which grant, and its records, in words.
std::string ContextText(const v1::ExportContext& c) {
  std::string out =
      absl::StrCat("Exported by ", c.exported_by(), " at ", ShownTime(c.exported_unix_nanos()));
  if (c.has_grant()) {
    const v1::ExportGrant& g = c.grant();
    absl::StrAppend(&out, " under access request ", g.request_id(),
                    g.record_id().empty() ? "" : " for all of record " + g.record_id(),
                    ",\nrequested by ", g.requester(), " for \"", g.reason(), "\" (purpose ",
                    g.purpose(), "), approved by");
    for (const v1::ExportApproval& a : g.approvals()) {
      absl::StrAppend(&out, "\n  ", a.by(), " (", a.role(), ") at ",
                      ShownTime(a.time_unix_nanos()));
    }
  } else {
    absl::StrAppend(&out, " by the role to read the audit trail (no access grant)");
  }
  absl::StrAppend(&out, ".\n");
  for (const v1::ExportRecord& r : c.records()) {
    absl::StrAppend(
        &out, "It belongs to record ", r.id(), " of agency ", r.agency(), " (",
        r.archive_number().empty() ? "not archived yet" : "archive number " + r.archive_number(),
        ").\n");
  }
  if (c.records().empty()) absl::StrAppend(&out, "It belongs to no record.\n");
  return out;
}

// The same checks in Chinese, for the court and the archive (issue 30).
std::string VerifyTextChinese(const std::string& name, const std::string& id) {
  return absl::StrCat(
      "—— 中文说明 ——\n本文件夹由 custody 导出。", name, " 是证据文件，其标识为\n", id,
      "。\n文件夹内有 ", name, "、manifest.json、audit.bundle、", kNodeKey, "、VERIFY.txt 和 ",
      kPackageDigests, "。无需联网即可离线核验：\n\n  sha256sum ", name,
      "\n      输出的十六进制值须与上面的标识一致\n  custody audit verify audit.bundle --file ",
      name, " --pubkey ", kNodeKey,
      "\n      核验该文件的每一条审计事件均记入节点日志，并由节点签名的检查点证明；\n      ", name,
      " 的哈希与标识一致；manifest.json 所述的对象、案卷和授权与节点签名的内容一致；\n"
      "      并按 ",
      kPackageDigests, " 核对每个文件的 SHA-256 和 SM3 摘要。\n  openssl dgst -sm3 ", name,
      "\n      输出的 SM3 摘要（GB/T 32905-2016）须与 ", kPackageDigests, " 所列一致\n\n", kNodeKey,
      " 是审计包所指明的节点公钥。请将其指纹（sha256sum ", kNodeKey,
      "）与集群运营方公布的公钥核对。\n");
}

// VERIFY.txt: what the folder holds and how to check it with those files
// alone (it names no file that is not in the folder).
std::string VerifyText(const std::string& name, const std::string& id, const v1::ExportContext& c) {
  return absl::StrCat(
      "This folder was exported from custody: ", name, " is the object\n", id, ".\n",
      ContextText(c), "\nThe folder holds ", name, ", manifest.json, audit.bundle, ", kNodeKey,
      ", VERIFY.txt and ", kPackageDigests,
      ".\nCheck them offline (no server needed):\n\n  sha256sum ", name,
      "\n      must print the hex of the id above\n  custody audit verify audit.bundle --file ",
      name, " --pubkey ", kNodeKey,
      "\n      checks the object's audit events, each proven in the node's log under a\n"
      "      checkpoint the node signed; that ",
      name,
      " hashes to the id; and that manifest.json\n"
      "      states the object, its records and the grant as the node signed them.\n\n",
      kNodeKey,
      " is the public key the bundle names: the checkpoint, the object's manifest and\n"
      "the export's records and grant are signed by the holder of that key. To know it is\n"
      "the node's, compare it (sha256sum ",
      kNodeKey, ") with the key the cluster's operator publishes.\n\n", kPackageDigests,
      " lists every other file of the folder with its SHA-256 and its SM3 (the\n"
      "national standard GB/T 32905-2016); the verify command above checks both. By hand:\n\n"
      "  sha256sum ",
      name, "\n  openssl dgst -sm3 ", name, "\n      each must print the digest that ",
      kPackageDigests, " lists for it.\n\n", VerifyTextChinese(name, id));
}

absl::Status WritePackage(const ExportArgs& a, const std::string& name, const std::string& id,
                          const v1::AuditBundle& bundle, json* report) {
  v1::ObjectManifest m;
  v1::ExportContext c;
  // The object's facts and the export's as the node signed them, so that
  // `audit verify` can check manifest.json against the bundle.
  if (bundle.manifest().empty() || !m.ParseFromString(bundle.manifest()) ||
      bundle.export_context().empty() || !c.ParseFromString(bundle.export_context())) {
    return absl::FailedPreconditionError(
        "the node sent no signed manifest and export context with the audit bundle (a node "
        "older than this CLI?)");
  }
  *report = ManifestFacts(m);
  report->update(ExportContextFacts(c));
  (*report)["file"] = name;
  (*report)["exported_from"] = a.server;
  (*report)["audit_events"] = bundle.entries_size();
  (*report)["node_key"] = kNodeKey;
  RETURN_IF_ERROR(WriteNewFile(a.out + "/" + kNodeKey, bundle.public_key_pem()));
  RETURN_IF_ERROR(WriteNewFile(a.out + "/manifest.json", report->dump(2) + "\n"));
  RETURN_IF_ERROR(WriteNewFile(a.out + "/VERIFY.txt", VerifyText(name, id, c)));
  return WritePackageDigests(a.out,
                             {name, "manifest.json", "audit.bundle", kNodeKey, "VERIFY.txt"});
}

absl::Status Export(const ExportArgs& a, const Digest& id, json* report) {
  std::unique_ptr<CustodyClient> client = CustodyClient::Connect(a.server);
  ASSIGN_OR_RETURN(v1::ObjectInfo info, client->Stat(id.ToString()));
  const std::string name = SafeName(info.file_name());
  client->set_purpose("export");
  ASSIGN_OR_RETURN(GetResult got, client->Get(id.ToString(), a.out + "/" + name));
  (void)got;  // Get checked the bytes against the id
  ASSIGN_OR_RETURN(v1::AuditBundle bundle, WriteAuditBundle(a.server, id, a.out + "/audit.bundle"));
  return WritePackage(a, name, info.id(), bundle, report);
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
              << ", manifest.json, audit.bundle, " << kNodeKey << ", VERIFY.txt, "
              << kPackageDigests << ")\n";
  }
  return 0;
}

}  // namespace custody
