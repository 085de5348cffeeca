// `custody catalog list`, `custody record create|attach|show|list|overdue|
// correct|archive|note|exempt|approve-exemption|retain|late|approve-late` and
// `custody hold set|release|list`: records of enforcement activities (records.proto). The
// device and report commands (device_cli.h, report_cli.h) take the same
// arguments.
#ifndef CUSTODY_CLIENT_RECORD_CLI_H_
#define CUSTODY_CLIENT_RECORD_CLI_H_

#include <cstdint>
#include <string>
#include <vector>

namespace custody {

struct RecordArgs {
  std::string server;
  bool json = false;
  std::string record;  // REC
  std::string object;  // attach: OBJ
  std::string agency, target, stage, classification;
  uint32_t matter = 0;                         // 0: not given
  std::vector<std::string> officers, devices;  // create, exempt
  std::string officer, device;                 // list filters, attach, device commands
  std::string start, end, from, to, until;     // times as typed (record_text.h)
  std::string kind, flag, field, value, reason, details;
  uint32_t gap = 0;      // attach: note_for_gap; note: the gap
  uint32_t missing = 0;  // note: the missing file
  bool permanent = false;
  std::string model, battery, storage, clock;  // device add, checkout
  std::string format;                          // report: table json csv; "" = table
  std::string hold, authority;                 // hold set|release
  std::string text;                            // list: free text
  bool held = false;                           // list: only held records
  uint32_t page_size = 0;                      // list: 0 = all
  std::string page;                            // list: the page token
};

// Each returns the exit code: 0, or 1 after printing why.
int CatalogListCommand(const RecordArgs& a);
int RecordCreateCommand(const RecordArgs& a);
int RecordAttachCommand(const RecordArgs& a);
int RecordShowCommand(const RecordArgs& a);
int RecordListCommand(const RecordArgs& a, bool overdue);
int RecordCorrectCommand(const RecordArgs& a);
int RecordArchiveCommand(const RecordArgs& a);
int RecordNoteCommand(const RecordArgs& a);
int RecordExemptCommand(const RecordArgs& a);
int RecordApproveExemptionCommand(const RecordArgs& a);
int RecordRetainCommand(const RecordArgs& a);
// hold_cli.cc
int HoldCommand(const RecordArgs& a, bool release);
int HoldListCommand(const RecordArgs& a);
int RecordLateCommand(const RecordArgs& a);
int RecordApproveLateCommand(const RecordArgs& a);

}  // namespace custody

#endif  // CUSTODY_CLIENT_RECORD_CLI_H_
