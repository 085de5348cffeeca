#include "client/record_commands.h"

#include "client/device_cli.h"
#include "client/record_call.h"
#include "client/report_cli.h"

namespace custody {

namespace {

// Numbers from 1, in a uint32.
CLI::Range Positive() { return CLI::Range(1u, 4294967295u); }

// Once parsed, purge's own flags against its subcommands: without one it
// needs --expired; --confirm REQ, never empty, goes only without one.
void CheckPurgeUsage(const CLI::App& purge, const CLI::Option& confirm, const PurgeArgs& p) {
  bool sub = !purge.get_subcommands().empty();
  if (sub && confirm.count() > 0) {
    throw CLI::ValidationError("--confirm",
                               "executes an approved request: give it without a subcommand");
  }
  if (!sub && !p.expired) {
    throw CLI::ValidationError(
        "purge needs --expired (a dry run; with --confirm REQ the purge) or a subcommand: "
        "request, approve");
  }
  if (confirm.count() > 0 && p.confirm.empty()) {
    throw CLI::ValidationError("--confirm", "needs the id of an approved purge request");
  }
}

}  // namespace

RecordCommands::RecordCommands(CommandSet* set) : set_(set) {
  CLI::App* app = set->app();
  AddCatalog(app);
  CLI::App* record = set->AddGroup(app, "record", "records of enforcement activities");
  AddCreate(record);
  AddAttachAndShow(record);
  AddList(record);
  AddChanges(record);
  AddExemptions(record);
  AddRetain(record);
  AddHold(app);
  AddDevice(app);
  AddReport(app);
  AddPurge(app);
}

CLI::App* RecordCommands::Add(CLI::App* parent, const std::string& name, const std::string& help,
                              Command command) {
  // REC may be an id, a unique prefix of one or an archive number: the
  // command (and anything it signs) gets the id.
  Command resolved = [command = std::move(command)](const RecordArgs& a) {
    if (a.record.empty() || IsRecordId(a.record)) return command(a);
    absl::StatusOr<v1::Record> r = ShowRecord(a.server, a.record);
    if (!r.ok()) return PrintFailure(r.status());
    RecordArgs with_id = a;
    with_id.record = r->id();
    return command(with_id);
  };
  CLI::App* c = set_->Add(parent, name, help, WithGlobals(&args_, std::move(resolved)));
  set_->AddJsonFlag(c);
  return c;
}

void RecordCommands::AddCatalog(CLI::App* app) {
  CLI::App* catalog =
      set_->AddGroup(app, "catalog", "the matter catalog: what must be recorded, and how");
  Add(catalog, "list", "every matter: number, category, matter, record class", CatalogListCommand);
}

void RecordCommands::AddRecordFlags(CLI::App* c, bool required) {
  std::vector<CLI::Option*> options = {
      c->add_option("--agency", args_.agency, "the agency"),
      c->add_option("--matter", args_.matter, "the matter's number (custody catalog list)")
          ->check(Positive()),
      c->add_option("--target", args_.target, "whom or what the activity concerns"),
      c->add_option("--stage", args_.stage, "the stage of the procedure"),
      AddTimeFlag(c, {"--start", &args_.start, "when it began"})};
  c->add_option("--officer", args_.officers, "an officer's id (repeatable)")->required(required);
  AddTimeFlag(c, {"--end", &args_.end, "when it ended"});
  c->add_option("--classification", args_.classification,
                "public internal privacy trade-secret state-secret");
  for (CLI::Option* o : options) o->required(required);
}

void RecordCommands::AddCreate(CLI::App* record) {
  CLI::App* create = Add(record, "create", "open a record; prints its id", RecordCreateCommand);
  AddRecordFlags(create, true);
  create->add_option("--device", args_.devices, "a recorder's id (repeatable)")->required();
}

void RecordCommands::AddAttachAndShow(CLI::App* record) {
  CLI::App* attach = Add(record, "attach", "add a stored object to a record", RecordAttachCommand);
  attach->add_option("REC", args_.record)->required();
  attach->add_option("OBJ", args_.object, "the object's id (sha256:...)")->required();
  attach->add_option("--kind", args_.kind, "what it is")
      ->required()
      ->check(CLI::IsMember({"video", "audio", "photo", "document"}));
  attach->add_option("--device", args_.device, "the recorder (else the object's metadata)");
  AddTimeRange(attach, {"--start", &args_.start, "start (else the metadata)"},
               {"--end", &args_.end, "end (else the metadata)"});
  attach->add_option("--gap", args_.gap, "this audio note explains gap N")->check(Positive());
  CLI::App* show = Add(record, "show", "a record in full", RecordShowCommand);
  show->add_option("REC", args_.record, "its id, a unique start of it, or its archive number")
      ->required();
}

void RecordCommands::AddList(CLI::App* record) {
  CLI::App* list = Add(record, "list", "records, one a line",
                       [](const RecordArgs& a) { return RecordListCommand(a, false); });
  list->add_option("--agency", args_.agency, "only this agency's");
  list->add_option("--matter", args_.matter, "only this matter's")->check(Positive());
  list->add_option("--officer", args_.officer, "only those with this officer");
  list->add_option("--device", args_.device, "only those with this recorder");
  AddTimeRange(list, {"--from", &args_.from, "only those from"},
               {"--to", &args_.to, "only those until"});
  list->add_option("--flag", args_.flag,
                   "only those flagged so: overdue archived-late unexplained-gap "
                   "missing-footage time-mismatch clock-skew exemption-pending late-pending "
                   "ended-idle")
      ->check(CLI::IsMember({"overdue", "archived-late", "unexplained-gap", "missing-footage",
                             "time-mismatch", "clock-skew", "exemption-pending", "late-pending",
                             "ended-idle"}));
  list->add_option("--target", args_.target, "only those whose target contains this");
  list->add_option("--text", args_.text,
                   "only those mentioning this (target, stage, officers, devices, archive "
                   "number, notes, corrections, holds)");
  list->add_flag("--held", args_.held, "only those under a legal hold");
  list->add_option("--limit", args_.page_size, "at most this many (a page)")->check(Positive());
  list->add_option("--page", args_.page, "the page the last listing named (with --limit)");
  CLI::App* overdue = Add(record, "overdue", "records not archived in time",
                          [](const RecordArgs& a) { return RecordListCommand(a, true); });
  overdue->add_option("--agency", args_.agency, "only this agency's");
}

void RecordCommands::AddChanges(CLI::App* record) {
  CLI::App* correct =
      Add(record, "correct", "correct a field, keeping the old value", RecordCorrectCommand);
  correct->add_option("REC", args_.record)->required();
  correct->add_option("--field", args_.field, "target stage start end officers devices")
      ->check(CLI::IsMember({"target", "stage", "start", "end", "officers", "devices"}))
      ->required();
  correct->add_option("--value", args_.value, "the new value")->required();
  correct->add_option("--reason", args_.reason, "why")->required();
  CLI::App* archive =
      Add(record, "archive", "give a record its archive number", RecordArchiveCommand);
  archive->add_option("REC", args_.record)->required();
  CLI::App* note =
      Add(record, "note", "explain a gap or a missing file in writing", RecordNoteCommand);
  note->add_option("REC", args_.record)->required();
  CLI::Option* gap = note->add_option("--gap", args_.gap, "the gap's number (custody record show)")
                         ->check(Positive());
  CLI::Option* missing = note->add_option("--missing", args_.missing,
                                          "the missing file's number (custody record show)")
                             ->check(Positive());
  gap->excludes(missing);
  note->add_option("--reason", args_.reason, "why nothing was recorded, or the file is not here")
      ->required();
}

void RecordCommands::AddExemptions(CLI::App* record) {
  CLI::App* exempt = Add(record, "exempt",
                         "exempt a record from recording, or make a work record without "
                         "footage (no REC); prints its id",
                         RecordExemptCommand);
  exempt->add_option("REC", args_.record, "an existing record (else the flags describe a new one)");
  exempt->add_option("--reason", args_.reason, "why there is no footage")
      ->required()
      ->check(CLI::IsMember({"explosion-zone", "secret", "emergency", "objective"}));
  exempt->add_option("--details", args_.details, "what happened")->required();
  AddRecordFlags(exempt, false);
  CLI::App* approve = Add(record, "approve-exemption", "approve an exemption (a leader)",
                          RecordApproveExemptionCommand);
  approve->add_option("REC", args_.record)->required();
  CLI::App* late = Add(record, "late",
                       "report that footage is handed over late (continuous duty, travel, "
                       "weather); due 24 h after --until once a leader approves (article 17)",
                       RecordLateCommand);
  late->add_option("REC", args_.record)->required();
  late->add_option("--reason", args_.reason, "why it could not be handed over in time")->required();
  AddTimeFlag(late, {"--until", &args_.until, "when the officer is back"})->required();
  CLI::App* approve_late =
      Add(record, "approve-late", "approve a late hand-over (a leader)", RecordApproveLateCommand);
  approve_late->add_option("REC", args_.record)->required();
}

void RecordCommands::AddRetain(CLI::App* record) {
  CLI::App* retain = Add(record, "retain", "set how long a record is kept", RecordRetainCommand);
  retain->add_option("REC", args_.record)->required();
  CLI::Option_group* when = retain->add_option_group("retention", "exactly one of these");
  when->add_flag("--permanent", args_.permanent, "keep it for ever");
  AddTimeFlag(when, {"--until", &args_.until, "keep it until"});
  when->require_option(1);
  retain->add_option("--reason", args_.reason, "why")->required();
}

void RecordCommands::AddHold(CLI::App* app) {
  CLI::App* hold = set_->AddGroup(app, "hold", "legal holds: a record held is never purged");
  CLI::App* set = Add(hold, "set", "put a legal hold on a record",
                      [](const RecordArgs& a) { return HoldCommand(a, false); });
  CLI::App* release = Add(hold, "release", "release a legal hold",
                          [](const RecordArgs& a) { return HoldCommand(a, true); });
  for (CLI::App* c : {set, release}) {
    c->add_option("REC", args_.record)->required();
    c->add_option("--reason", args_.reason, "why")->required();
  }
  set->add_option("--authority", args_.authority, "who asked for it (court, case number)");
  set->add_option("--hold", args_.hold, "its id (default: a new hold-XXXXXXXX)");
  release->add_option("--hold", args_.hold, "which hold (needed when several are in force)");
  CLI::App* list = Add(hold, "list", "legal holds in force, one a line", HoldListCommand);
  list->add_option("--agency", args_.agency, "only this agency's records");
}

void RecordCommands::AddDevice(CLI::App* app) {
  CLI::App* device = set_->AddGroup(app, "device", "recorders and who holds them");
  CLI::App* add = Add(device, "add", "register a recorder", DeviceAddCommand);
  add->add_option("--agency", args_.agency, "the agency that owns it (its footage is filed there)")
      ->required();
  add->add_option("--model", args_.model, "its make and model");
  Add(device, "list", "every recorder and who holds it", DeviceListCommand);
  CLI::App* out = Add(device, "checkout", "hand a recorder to an officer, after checking it",
                      DeviceCheckoutCommand);
  out->add_option("--officer", args_.officer, "who takes it")->required();
  for (CLI::Option* o : {out->add_option("--battery", args_.battery, "the battery: OK or FAIL"),
                         out->add_option("--storage", args_.storage, "the storage: OK or FAIL"),
                         out->add_option("--clock", args_.clock, "the clock: OK or FAIL")}) {
    o->required()->check(CLI::IsMember({"OK", "FAIL"}));
  }
  CLI::App* in = Add(device, "checkin", "take a recorder back into store", DeviceCheckinCommand);
  for (CLI::App* c : {add, out, in}) c->add_option("DEV", args_.device)->required();
}

void RecordCommands::AddReport(CLI::App* app) {
  CLI::App* report =
      Add(app, "report", "an agency's compliance report over a period", ReportCommand);
  // Given with a subcommand (sample), the subcommand runs instead.
  report->require_subcommand(0, 1);
  report->add_option("--agency", args_.agency, "the agency (required)");
  AddTimeRange(report, {"--from", &args_.from, "start of the period (required)"},
               {"--to", &args_.to, "end of the period (required)"});
  report->add_option("--format", args_.format, "table (default), json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  CLI::App* sample = Add(report, "sample",
                         "a spot check: N of the period's records, drawn with a seed from a "
                         "checkpoint signed after the period ended",
                         [this](const RecordArgs& a) { return SampleCommand(a, sample_); });
  sample->add_option("--agency", args_.agency, "the agency");
  AddTimeRange(sample, {"--from", &args_.from, "start of the period"},
               {"--to", &args_.to, "end of the period"});
  sample->add_option("--n", sample_.n, "how many records to draw (default 20)")
      ->check(CLI::Range(1, 1000));
  CLI::Option* verify =
      sample
          ->add_option("--verify", sample_.verify,
                       "reproduce a draw saved with --json, offline: its checkpoint, seed and "
                       "records")
          ->check(CLI::ExistingFile);
  set_->OfflineWith(sample, verify);
  sample->add_option("--pubkey", sample_.pubkey, "with --verify: the node's PEM key to trust");
}

void RecordCommands::AddPurge(CLI::App* app) {
  // Given with a subcommand, the subcommand runs instead (command_set.h).
  CLI::App* purge = set_->Add(
      app, "purge", "purge records whose retention has ended (a dry run unless --confirm)",
      WithGlobals(&args_, [this](const RecordArgs& a) { return PurgeCommand(a, purge_); }));
  purge->require_subcommand(0, 1);
  purge->add_flag("--expired", purge_.expired,
                  "the records whose retention has ended, none held or permanent");
  CLI::Option* confirm = purge->add_option("--confirm", purge_.confirm,
                                           "purge them now under this approved request (pur-...)");
  confirm->type_name("REQ");
  set_->AddJsonFlag(purge);
  CLI::App* request =
      Add(purge, "request", "ask to purge every record that could go; prints its id",
          [this](const RecordArgs& a) { return PurgeRequestCommand(a, purge_); });
  request->add_option("--reason", args_.reason, "why")->required();
  request->add_option("--record", purge_.records,
                      "only this record (repeat it); each must be one that could go");
  CLI::App* approve =
      Add(purge, "approve", "approve a purge request (an archive-head, not its requester)",
          [this](const RecordArgs& a) { return PurgeApproveCommand(a, purge_); });
  approve->add_option("REQ", purge_.request, "the request's id (pur-...)")->required();
  purge->callback([this, purge, confirm] { CheckPurgeUsage(*purge, *confirm, purge_); });
}

}  // namespace custody
