// Footage that should be in a record and is not (issue 31; doc/records.md,
// "Dock manifests"), derived at the time of an answer from the fold:
//
//  - not-received: a file a docking station listed when its device was
//    docked (a signed dock manifest) that no record holds, matched by
//    device, name and size. It belongs to the record that holds the file
//    listed next to it in time in the same dock (the one before it, else
//    the one after); a dock none of whose files arrived shows in no record.
//  - sequence-gap: numbers of the camera's own file numbering that no dock
//    listed and no record holds, below a number this record holds or misses
//    and above the lowest number the device ever showed.
//  - truncated: a live upload sealed as truncated (doc/live.md) that this
//    record holds and no docked file here extends: the rest of that
//    recording.
//
// Pure functions over a RecordBook; nothing here writes.
#ifndef CUSTODY_SERVER_RECORDS_RECORD_MISSING_H_
#define CUSTODY_SERVER_RECORDS_RECORD_MISSING_H_

#include <vector>

#include "absl/status/statusor.h"
#include "custody/v1/records.pb.h"
#include "server/records/record_book.h"

namespace custody {

// What is missing from `r`, in time order, numbered from 1, without
// explanations.
absl::StatusOr<std::vector<v1::MissingFile>> FindMissing(const v1::Record& r,
                                                         const RecordBook& book);

// Sets each missing file's explanation: a note about it in `f`, else the
// record's approved exemption.
void ExplainMissing(const FoldedRecord& f, v1::Record* r);

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_RECORD_MISSING_H_
