// The catalog of enforcement matters that must be recorded (the
// regulation's attachment, deploy/catalog/matters.csv). The 13 matters ship
// built in; an agency loads its own file with `custodyd --catalog FILE`.
// Immutable once loaded; safe for concurrent readers.
#ifndef CUSTODY_SERVER_RECORDS_CATALOG_H_
#define CUSTODY_SERVER_RECORDS_CATALOG_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "custody/v1/records.pb.h"

namespace custody {

class Catalog {
 public:
  static Catalog BuiltIn();
  // A CSV file with the header of matters.csv (no,category,matter,...).
  static absl::StatusOr<Catalog> Load(const std::string& path);
  static absl::StatusOr<Catalog> Parse(const std::string& csv, const std::string& source);

  const v1::Matter* Find(uint32_t number) const;
  const std::map<uint32_t, v1::Matter>& matters() const { return matters_; }
  const std::string& source() const { return source_; }

 private:
  std::map<uint32_t, v1::Matter> matters_;
  std::string source_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_CATALOG_H_
