#include "server/objects/manifest_guard.h"

#include <google/protobuf/util/message_differencer.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/deterministic_bytes.h"
#include "common/log.h"
#include "server/audit/audit_log.h"

namespace custody {

namespace {

constexpr size_t kRememberedRefusals = 10000;

// The differences that change what an object is or who may see it: its
// bytes and its metadata. Two honest uploads of the same file differ in
// when, where and by whom they were taken, and as whom they were named;
// the first manifest is kept either way.
std::string Conflicting(const std::string& differences) {
  std::vector<std::string> out;
  for (absl::string_view d : absl::StrSplit(differences, ',', absl::SkipEmpty())) {
    if (d == "stored_at" || d == "file_name" || d == "media_type" || d == "uploaded_by" ||
        d == "coordinator") {
      continue;
    }
    out.emplace_back(d);
  }
  return absl::StrJoin(out, ",");
}

}  // namespace

std::string ManifestGuard::Differences(const v1::ObjectManifest& a, const v1::ObjectManifest& b) {
  std::vector<std::string> out;
  if (a.size() != b.size()) out.push_back("size");
  if (a.file_name() != b.file_name()) out.push_back("file_name");
  if (a.media_type() != b.media_type()) out.push_back("media_type");
  if (a.stored_at_unix_nanos() != b.stored_at_unix_nanos()) out.push_back("stored_at");
  if (a.chunk_size() != b.chunk_size() || a.chunks_size() != b.chunks_size()) {
    out.push_back("chunks");
  } else {
    for (int i = 0; i < a.chunks_size(); ++i) {
      if (a.chunks(i) != b.chunks(i)) {
        out.push_back("chunks");
        break;
      }
    }
  }
  std::set<std::string> keys;
  for (const auto& [k, v] : a.metadata()) keys.insert(k);
  for (const auto& [k, v] : b.metadata()) keys.insert(k);
  for (const std::string& k : keys) {
    auto x = a.metadata().find(k);
    auto y = b.metadata().find(k);
    if (x == a.metadata().end() || y == b.metadata().end() || x->second != y->second) {
      out.push_back("metadata." + k);
    }
  }
  if (a.uploaded_by() != b.uploaded_by()) out.push_back("uploaded_by");
  if (a.coordinator() != b.coordinator()) out.push_back("coordinator");
  if (out.empty() && !google::protobuf::util::MessageDifferencer::Equals(a, b)) {
    out.push_back("other fields");
  }
  return absl::StrJoin(out, ",");
}

absl::Status ManifestGuard::CheckNew(const Digest& id, const v1::ObjectManifest& sent,
                                     const std::string& from) {
  if (placement_ == nullptr) return absl::OkStatus();
  const int r = placement_->map().replication_factor();
  std::vector<const NodeInfo*> rank = placement_->map().Rank(id);
  for (int i = 0; i < r && i < static_cast<int>(rank.size()); ++i) {
    const std::string& home = rank[i]->id;
    if (home == placement_->self() || home == from) continue;
    absl::StatusOr<std::string> held = placement_->peer(home)->GetManifest(id);
    if (!held.ok()) continue;  // not held there, or unreachable
    v1::ObjectManifest theirs;
    if (!theirs.ParseFromString(*held)) continue;
    std::string differs = Conflicting(Differences(theirs, sent));
    if (!differs.empty()) return Refuse(id, sent, from, home, differs);
  }
  return absl::OkStatus();
}

absl::Status ManifestGuard::CheckHeld(const Digest& id, const v1::ObjectManifest& sent,
                                      const v1::ObjectManifest& held, const std::string& from) {
  std::string differs = Conflicting(Differences(held, sent));
  if (differs.empty()) return absl::OkStatus();
  return Refuse(id, sent, from, placement_ ? placement_->self() : "this node", differs);
}

absl::Status ManifestGuard::Refuse(const Digest& id, const v1::ObjectManifest& sent,
                                   const std::string& from, const std::string& holder,
                                   const std::string& differs) {
  absl::Status why = absl::PermissionDeniedError(absl::StrCat(
      "the manifest of ", id.ToString(), " sent by node ", from, " differs from the one node ",
      holder, " holds (", differs, "); an object's manifest is fixed by its first upload"));
  std::string bytes = DeterministicBytes(sent);
  {
    absl::MutexLock l(&mu_);
    if (refused_.size() >= kRememberedRefusals) refused_.clear();
    if (!refused_.insert(Digest::Of(bytes).Hex()).second) return why;
  }
  LOG(WARNING) << why;
  v1::AuditEvent e = NewEvent("manifest.refused", id.ToString(), "custodyd");
  AddDetail(&e, "from_node", from);
  AddDetail(&e, "held_by", holder);
  AddDetail(&e, "differs_in", differs);
  AddDetail(&e, "manifest_base64", absl::Base64Escape(bytes));
  if (absl::Status s = record_(std::move(e)); !s.ok()) {
    LOG(ERROR) << "could not log the refusal of a manifest of " << id.ToString() << ": " << s;
  }
  return why;
}

}  // namespace custody
