// RecordKeeper: the device registry, its hand-over register (articles 11
// and 20), and the docking stations' dock manifests (issue 31).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dock_manifest.h"
#include "common/status_macros.h"
#include "server/records/record_checks.h"
#include "server/records/record_keeper.h"
#include "server/security/decisions.h"
#include "server/security/ledger.h"

namespace custody {

namespace {

absl::StatusOr<v1::Device> FindDevice(const RecordBook& b, const std::string& id) {
  ASSIGN_OR_RETURN(std::optional<v1::Device> d, b.Device(id));
  if (!d || d->id().empty()) {
    return absl::NotFoundError(absl::StrCat("no device ", id, " (custody device add)"));
  }
  return std::move(*d);
}

}  // namespace

absl::StatusOr<v1::Device> RecordKeeper::DeviceAdd(const Actor& by,
                                                   const v1::DeviceAddRequest& req) {
  if (req.id().empty() || !CheckIdList("device", req.id()).ok()) {
    return absl::InvalidArgumentError("a device id is 1 to 64 of [A-Za-z0-9._-]");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  if (FindDevice(*b, req.id()).ok()) {
    return absl::AlreadyExistsError(absl::StrCat("device ", req.id(), " is registered"));
  }
  RETURN_IF_ERROR(Append(by, "device.added", "device:" + req.id(),
                         {{"agency", req.agency()}, {"model", req.model()}}));
  ASSIGN_OR_RETURN(b, book());
  return FindDevice(*b, req.id());
}

absl::StatusOr<v1::Device> RecordKeeper::Checkout(const Actor& by,
                                                  const v1::DeviceCheckoutRequest& req) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  ASSIGN_OR_RETURN(v1::Device d, FindDevice(*b, req.id()));
  RETURN_IF_ERROR(CheckIdList("officer", req.officer()));
  if (req.officer().empty()) return absl::InvalidArgumentError("checkout needs --officer");
  if (!d.held_by().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("device ", d.id(), " is checked out to ", d.held_by(), "; check it in first"));
  }
  std::vector<std::string> failed;
  for (const auto& [name, v] : {std::pair<std::string, std::string>{"battery", req.battery()},
                                {"storage", req.storage()},
                                {"clock", req.clock()}}) {
    if (v != "OK") failed.push_back(absl::StrCat(name, "=", v.empty() ? "unchecked" : v));
  }
  if (!failed.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "device ", d.id(), " fails its pre-use check (article 11): ", absl::StrJoin(failed, ", ")));
  }
  RETURN_IF_ERROR(
      Append(by, "device.checked-out", "device:" + d.id(),
             {{"officer", req.officer()}, {"check", "battery=OK storage=OK clock=OK"}}));
  ASSIGN_OR_RETURN(b, book());
  return FindDevice(*b, req.id());
}

absl::StatusOr<v1::Device> RecordKeeper::Checkin(const Actor& by, const std::string& id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  ASSIGN_OR_RETURN(v1::Device d, FindDevice(*b, id));
  if (d.held_by().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("device ", id, " is not checked out"));
  }
  RETURN_IF_ERROR(Append(by, "device.checked-in", "device:" + id, {{"officer", d.held_by()}}));
  ASSIGN_OR_RETURN(b, book());
  RETURN_IF_ERROR(EndIngestRecords(by, *b, id, "device " + id + " checked in"));
  return FindDevice(*b, id);
}

absl::StatusOr<v1::DockResponse> RecordKeeper::Docked(const v1::Principal& by,
                                                      const v1::DockRequest& req) {
  RETURN_IF_ERROR(CheckDock(req));
  const std::map<std::string, std::string> fields = DockFields(req);
  const std::string subject = "dock:" + req.dock_id();
  ASSIGN_OR_RETURN(v1::LedgerEntry e, Signed(by, req.signed_(), kDockedKind, subject, fields));
  ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, book());
  ASSIGN_OR_RETURN(std::optional<v1::Device> device, b->Device(req.device()));
  const v1::Principal signer = d_.ledger->verifier().Signer(e);
  if (device && !device->agency().empty() && !signer.agency().empty() &&
      device->agency() != signer.agency()) {
    return absl::PermissionDeniedError(absl::StrCat("device ", req.device(), " belongs to agency ",
                                                    device->agency(), "; ", signer.name(),
                                                    " docks for agency ", signer.agency()));
  }
  v1::DockResponse out;
  out.set_dock_id(req.dock_id());
  ASSIGN_OR_RETURN(std::optional<Dock> known, b->FindDock(req.dock_id()));
  if (known) {
    if (DockFields(known->manifest) != fields) {
      return absl::AlreadyExistsError(
          absl::StrCat(req.dock_id(), " has another manifest on record; nothing is replaced"));
    }
    out.set_already_recorded(true);
    return out;
  }
  RETURN_IF_ERROR(AppendDecision(std::move(e)));
  return out;
}

}  // namespace custody
