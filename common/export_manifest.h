// What a node signs when it exports an object's audit bundle: the object's
// manifest as it holds it, and the export's context (records, grant), each
// bound to the bundle's subject (doc/audit_log.md, "Exports"). Shared by the
// node that signs and the offline verifier.
#ifndef CUSTODY_COMMON_EXPORT_MANIFEST_H_
#define CUSTODY_COMMON_EXPORT_MANIFEST_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace custody {

inline std::string ExportManifestMessage(absl::string_view subject, absl::string_view manifest) {
  return absl::StrCat("custody export manifest v1\n", subject, "\n", manifest);
}

// `context` is a serialized v1::ExportContext (audit.proto).
inline std::string ExportContextMessage(absl::string_view subject, absl::string_view context) {
  return absl::StrCat("custody export context v1\n", subject, "\n", context);
}

}  // namespace custody

#endif  // CUSTODY_COMMON_EXPORT_MANIFEST_H_
