// The record book's part of the ledger fold (server/security/ledger_fold.h,
// doc/records.md): records ("record:ID"), devices ("device:ID"), purges
// ("purge:ID"), offsite snapshots ("snapshot:ID") and dock manifests
// ("dock:ID"), each the replay of its
// own entries in time order. A correction is a new entry that keeps the old
// value beside the new; nothing is rewritten.
#ifndef CUSTODY_SERVER_RECORDS_RECORD_FOLD_H_
#define CUSTODY_SERVER_RECORDS_RECORD_FOLD_H_

#include <map>
#include <string>
#include <vector>

#include "server/security/ledger.h"
#include "server/security/ledger_fold.h"

namespace custody {

// Derived keys (doc/ledger_fold.md); each ends with the record, purge or
// snapshot that adds it.
inline constexpr char kObjectRecordKeys[] = "or/";   // or/<object>\0<record>
inline constexpr char kCreatedKeys[] = "rc/";        // rc/<created time><record>
inline constexpr char kStartKeys[] = "rs/";          // rs/<start time><record>
inline constexpr char kArchiveNumberKeys[] = "an/";  // an/<number>\0<record>
inline constexpr char kSequenceKeys[] = "as/";       // as/<prefix>\0<sequence><record>
inline constexpr char kOpenByDeviceKeys[] = "od/";   // od/<device>\0<record>, not archived
inline constexpr char kPurgedObjectKeys[] = "po/";   // po/<object>\0<order><purge> -> purge
inline constexpr char kOffsiteKeys[] = "off/";       // off/<object>\0<snapshot group>
// Dock manifests (doc/records.md, "Dock manifests"): the files docks listed,
// the files records hold (by device, name and size), and the camera file
// numbers either names (big-endian, so that they sort).
inline constexpr char kDockListingKeys[] = "dl/";   // dl/<device>\0<name>\0<size>\0<dock>
inline constexpr char kFiledFileKeys[] = "df/";     // df/<device>\0<name>\0<size>\0<record>
inline constexpr char kSequenceSeenKeys[] = "sq/";  // sq/<device>\0<number><group>

// Thread-safe.
class BookRules : public FoldRules {
 public:
  // Decisions are checked with `ledger`'s verifier.
  explicit BookRules(const Ledger* ledger) : ledger_(ledger) {}

  std::vector<std::string> Prefixes() const override {
    return {"record:", "device:", "purge:", "snapshot:", "dock:"};
  }
  std::string GroupOf(const Digest& id, const v1::LedgerEntry& e) const override;
  absl::Status Apply(const Digest& id, const std::string& key, const v1::LedgerEntry& e,
                     FoldReader* reader, internal::v1::FoldGroup* g) const override;
  void Derived(const std::string& group, const internal::v1::FoldGroup& g,
               std::map<std::string, std::string>* out) const override;

 private:
  const Ledger* ledger_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_RECORD_FOLD_H_
