// What a node signs when it exports an object's audit bundle: the object's
// manifest as it holds it, bound to the bundle's subject (doc/audit_log.md,
// "Exports"). Shared by the node that signs and the offline verifier.
#ifndef CUSTODY_COMMON_EXPORT_MANIFEST_H_
#define CUSTODY_COMMON_EXPORT_MANIFEST_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace custody {

inline std::string ExportManifestMessage(absl::string_view subject, absl::string_view manifest) {
  return absl::StrCat("custody export manifest v1\n", subject, "\n", manifest);
}

}  // namespace custody

#endif  // CUSTODY_COMMON_EXPORT_MANIFEST_H_
