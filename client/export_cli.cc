#include "client/export_cli.h"

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/audit_cli.h"
#include "client/bundle_verifier.h"
#include "client/cli_errors.h"
#include "client/client.h"
#include "client/package_digests.h"
#include "client/shown_time.h"
#include "common/cosignature.h"
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
constexpr char kCheckpoint[] = "checkpoint.txt";
constexpr char kCheckpointBody[] = "checkpoint-body.txt";
constexpr char kToken[] = "timestamp.tst";

// How to check the witness's cosignature and the TSA's token, in English
// and in Chinese; `token` when the bundle carries one.
std::string TrustText(const std::string& name, bool token) {
  std::string en = absl::StrCat(
      "\n", kCheckpoint,
      " is the checkpoint the bundle is proven against, with the\n"
      "cosignature of each witness that vouched for it: the witness saw this log grow\n"
      "without a fork or a rollback. With the witness's public key and the time-stamping\n"
      "authority's certificate, both taken from their operators (not from this folder):\n\n"
      "  custody audit verify audit.bundle --file ",
      name, " --pubkey ", kNodeKey,
      " \\\n      --witness-key WITNESS_KEY --tsa-cert TSA_CERT\n"
      "      also requires the witness's cosignature and the TSA's RFC 3161 token, and shows\n"
      "      the TSA's time beside the node's.\n");
  if (token) {
    absl::StrAppend(
        &en, "\n", kToken, " is the RFC 3161 token over SHA-256 of ", kCheckpointBody,
        " (the checkpoint\nwithout its signatures). By hand:\n\n"
        "  openssl ts -verify -token_in -in ",
        kToken, " -data ", kCheckpointBody,
        " -CAfile TSA_CERT -partial_chain\n"
        "  openssl ts -reply -token_in -in ",
        kToken,
        " -text\n"
        "      the first must print \"Verification: OK\"; the second shows the TSA's time.\n");
  }
  std::string zh = absl::StrCat(
      "\n", kCheckpoint,
      " 是审计包所依据的检查点，附有为其背书的见证方（witness）的联署签名：\n"
      "见证方确认该日志只增不改，没有分叉或回滚。请向见证方和时间戳机构（TSA）的运营方\n"
      "另行获取其公钥和证书（不要使用本文件夹中的文件），然后：\n\n"
      "  custody audit verify audit.bundle --file ",
      name, " --pubkey ", kNodeKey,
      " \\\n      --witness-key WITNESS_KEY --tsa-cert TSA_CERT\n"
      "      同时要求见证方的联署签名和 TSA 的 RFC 3161 时间戳，并并列显示 TSA 时间与节点时间。\n");
  if (token) {
    absl::StrAppend(&zh, "\n", kToken, " 是对 ", kCheckpointBody,
                    "（不含签名的检查点）的 SHA-256 所做的 RFC 3161 时间戳。手工核验：\n\n"
                    "  openssl ts -verify -token_in -in ",
                    kToken, " -data ", kCheckpointBody,
                    " -CAfile TSA_CERT -partial_chain\n"
                    "      须输出 \"Verification: OK\"\n");
  }
  return en + zh;
}

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
std::string VerifyTextChinese(const std::string& name, const std::string& id,
                              const std::vector<std::string>& files) {
  return absl::StrCat(
      "—— 中文说明 ——\n本文件夹由 custody 导出。", name, " 是证据文件，其标识为\n", id,
      "。\n文件夹内有 ", absl::StrJoin(files, "、"), "、VERIFY.txt 和 ", kPackageDigests,
      "。无需联网即可离线核验：\n\n  sha256sum ", name,
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
std::string VerifyText(const std::string& name, const std::string& id, const v1::ExportContext& c,
                       const std::vector<std::string>& files) {
  return absl::StrCat(
      "This folder was exported from custody: ", name, " is the object\n", id, ".\n",
      ContextText(c), "\nThe folder holds ", absl::StrJoin(files, ", "), ", VERIFY.txt and ",
      kPackageDigests, ".\nCheck them offline (no server needed):\n\n  sha256sum ", name,
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
      kPackageDigests, " lists for it.\n\n", VerifyTextChinese(name, id, files));
}

// The checkpoint, and the TSA's token with the bytes it stamps, as files
// that tools besides custody read.
absl::Status WriteCheckpointFiles(const std::string& out, const v1::AuditBundle& bundle,
                                  std::vector<std::string>* files) {
  RETURN_IF_ERROR(WriteNewFile(out + "/" + kCheckpoint, bundle.checkpoint()));
  files->push_back(kCheckpoint);
  if (bundle.timestamp_token().empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string body, NoteBody(bundle.checkpoint()));
  RETURN_IF_ERROR(WriteNewFile(out + "/" + kCheckpointBody, body));
  RETURN_IF_ERROR(WriteNewFile(out + "/" + kToken, bundle.timestamp_token()));
  files->insert(files->end(), {kCheckpointBody, kToken});
  return absl::OkStatus();
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
  std::vector<std::string> files = {name, "manifest.json", "audit.bundle", kNodeKey};
  RETURN_IF_ERROR(WriteCheckpointFiles(a.out, bundle, &files));
  RETURN_IF_ERROR(WriteNewFile(
      a.out + "/VERIFY.txt",
      VerifyText(name, id, c, files) + TrustText(name, !bundle.timestamp_token().empty())));
  files.push_back("VERIFY.txt");
  return WritePackageDigests(a.out, files);
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
              << ", manifest.json, audit.bundle, " << kNodeKey << ", " << kCheckpoint
              << ", VERIFY.txt, " << kPackageDigests << ")\n";
  }
  return 0;
}

}  // namespace custody
