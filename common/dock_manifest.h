// Dock manifests (doc/records.md, "Dock manifests"): what a device's folder
// at a docking station held when the device was docked, as the ledger
// fields the station signs (custody-ingestd) and every node checks and folds
// (server/records). One function makes the fields on both sides, so the
// station signs exactly what the node stores.
//
// The fields of a device.docked entry about "dock:ID":
//   device     the device's id (its folder's name)
//   station    custody-ingestd --station
//   docked_at  the station's clock, decimal Unix nanoseconds
//   files      a JSON array, one object per file in name order:
//              {"name","size","mtime","start","sequence"} (times in Unix
//              nanoseconds, 0 = unknown; sequence 0 = none)
//
// All functions are thread-safe.
#ifndef CUSTODY_COMMON_DOCK_MANIFEST_H_
#define CUSTODY_COMMON_DOCK_MANIFEST_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "custody/v1/records.pb.h"

namespace custody {

inline constexpr char kDockedKind[] = "device.docked";
inline constexpr size_t kMaxDockedFiles = 10000;

// "dock-" + 16 lowercase hex digits.
bool ValidDockId(const std::string& id);
// A fresh dock id from the system's random source.
std::string NewDockId();

// INVALID_ARGUMENT naming the first problem: a bad id or device, no files or
// more than kMaxDockedFiles, a name that is empty, longer than 255 bytes,
// not UTF-8, holds '/' or a control character, or is listed twice.
absl::Status CheckDock(const v1::DockRequest& dock);
// The ledger fields of `dock` (its signature aside); files in name order.
std::map<std::string, std::string> DockFields(const v1::DockRequest& dock);
// The manifest the fields of a device.docked entry about `subject`
// ("dock:ID") describe; INVALID_ARGUMENT if they do not parse or fail
// CheckDock.
absl::StatusOr<v1::DockRequest> DockFromFields(const std::string& subject,
                                               const std::map<std::string, std::string>& fields);

// What a note on a missing file names: "file:NAME/SIZE" of `device`,
// "seq:N" (the first number of a gap) or "truncated:OBJECT-ID"; kept with the note, so that the
// note stays with its file when the record's numbering changes.
std::string MissingKey(const v1::MissingFile& m);

}  // namespace custody

#endif  // CUSTODY_COMMON_DOCK_MANIFEST_H_
