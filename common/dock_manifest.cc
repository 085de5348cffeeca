#include "common/dock_manifest.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/utf8.h"
#include "nlohmann/json.hpp"

namespace custody {

namespace {

using json = nlohmann::json;

bool ValidDevice(const std::string& d) {
  if (d.empty() || d.size() > 64) return false;
  for (char c : d) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

absl::Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > 255 || !IsValidUtf8(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a listed file's name must be 1-255 bytes of UTF-8: \"",
                     EscapeInvalidUtf8(name.substr(0, 255)), "\""));
  }
  for (unsigned char c : name) {
    if (c == '/' || c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("a listed file's name holds '/' or a control character: \"",
                       EscapeInvalidUtf8(name), "\""));
    }
  }
  return absl::OkStatus();
}

// A JSON number the fields hold as an unsigned 64-bit integer.
bool Unsigned(const json& o, const char* key, uint64_t* out) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_unsigned()) return false;
  *out = it->get<uint64_t>();
  return true;
}

bool Signed(const json& o, const char* key, int64_t* out) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_integer()) return false;
  *out = it->get<int64_t>();
  return true;
}

absl::StatusOr<v1::DockedFile> FileOf(const json& o) {
  v1::DockedFile f;
  uint64_t size = 0, sequence = 0;
  int64_t mtime = 0, start = 0;
  auto name = o.is_object() ? o.find("name") : o.end();
  if (name == o.end() || !name->is_string() || !Unsigned(o, "size", &size) ||
      !Signed(o, "mtime", &mtime) || !Signed(o, "start", &start) ||
      !Unsigned(o, "sequence", &sequence) || o.size() != 5) {
    return absl::InvalidArgumentError(
        "each listed file is {\"name\",\"size\",\"mtime\",\"start\",\"sequence\"}, integers "
        "but the name");
  }
  f.set_name(name->get<std::string>());
  f.set_size(size);
  f.set_mtime_unix_nanos(mtime);
  f.set_start_unix_nanos(start);
  f.set_sequence(sequence);
  return f;
}

}  // namespace

bool ValidDockId(const std::string& id) {
  if (id.size() != 21 || !absl::StartsWith(id, "dock-")) return false;
  return std::all_of(id.begin() + 5, id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string NewDockId() {
  absl::StatusOr<std::string> hex = RandomHex(8, "a dock id");
  return hex.ok() ? "dock-" + *hex : "";
}

absl::Status CheckDock(const v1::DockRequest& dock) {
  if (!ValidDockId(dock.dock_id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("dock id \"", dock.dock_id(), "\" is not \"dock-\" and 16 hex digits"));
  }
  if (!ValidDevice(dock.device())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a docked device's id is 1-64 of [A-Za-z0-9._-], not \"", dock.device(), "\""));
  }
  if (dock.files().empty() || dock.files_size() > static_cast<int>(kMaxDockedFiles)) {
    return absl::InvalidArgumentError(absl::StrCat("a dock manifest lists 1 to ", kMaxDockedFiles,
                                                   " files, not ", dock.files_size()));
  }
  std::set<std::string> names;
  for (const v1::DockedFile& f : dock.files()) {
    RETURN_IF_ERROR(CheckName(f.name()));
    if (!names.insert(f.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat("\"", f.name(), "\" is listed twice"));
    }
  }
  return absl::OkStatus();
}

std::map<std::string, std::string> DockFields(const v1::DockRequest& dock) {
  std::vector<const v1::DockedFile*> files;
  for (const v1::DockedFile& f : dock.files()) files.push_back(&f);
  std::sort(files.begin(), files.end(),
            [](const v1::DockedFile* a, const v1::DockedFile* b) { return a->name() < b->name(); });
  json list = json::array();
  for (const v1::DockedFile* f : files) {
    list.push_back(json{{"name", f->name()},
                        {"size", f->size()},
                        {"mtime", f->mtime_unix_nanos()},
                        {"start", f->start_unix_nanos()},
                        {"sequence", f->sequence()}});
  }
  return {{"device", dock.device()},
          {"station", dock.station()},
          {"docked_at", std::to_string(dock.docked_unix_nanos())},
          {"files", list.dump(-1, ' ', false, json::error_handler_t::replace)}};
}

absl::StatusOr<v1::DockRequest> DockFromFields(const std::string& subject,
                                               const std::map<std::string, std::string>& fields) {
  auto field = [&fields](const char* k) {
    auto it = fields.find(k);
    return it == fields.end() ? std::string() : it->second;
  };
  v1::DockRequest dock;
  if (!absl::StartsWith(subject, "dock:")) {
    return absl::InvalidArgumentError("a dock manifest is about \"dock:ID\"");
  }
  dock.set_dock_id(subject.substr(5));
  dock.set_device(field("device"));
  dock.set_station(field("station"));
  int64_t at = 0;
  if (!absl::SimpleAtoi(field("docked_at"), &at)) {
    return absl::InvalidArgumentError("a dock manifest's docked_at is not a number");
  }
  dock.set_docked_unix_nanos(at);
  json list = json::parse(field("files"), nullptr, /*allow_exceptions=*/false);
  if (list.is_discarded() || !list.is_array()) {
    return absl::InvalidArgumentError("a dock manifest's files are not a JSON array");
  }
  for (const json& o : list) {
    ASSIGN_OR_RETURN(*dock.add_files(), FileOf(o));
  }
  RETURN_IF_ERROR(CheckDock(dock));
  return dock;
}

std::string MissingKey(const v1::MissingFile& m) {
  if (m.reason() == "sequence-gap") return absl::StrCat("seq:", m.sequence());
  if (m.reason() == "truncated") return absl::StrCat("truncated:", m.object_id());
  return absl::StrCat("file:", m.name(), "/", m.size());
}

}  // namespace custody
