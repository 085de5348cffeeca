#include "server/services/records_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unary.h"
#include "server/objects/live_upload.h"
#include "server/records/record_checks.h"
#include "server/records/record_query.h"

namespace custody {

namespace {

bool IsRuleRefusal(const absl::Status& s) {
  return absl::IsPermissionDenied(s) || absl::IsFailedPrecondition(s) || absl::IsAlreadyExists(s);
}

std::string Subject(const std::string& record_id) { return "record:" + record_id; }

}  // namespace

RecordsService::Reactor* RecordsService::Run(Ctx* ctx, Action action, const std::string& subject,
                                             Work work) {
  return RunUnary(ctx, node_->read_pool(), [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Principal p, node_->Authorize(*ctx, action, subject));
    absl::Status s = work(p);
    if (IsRuleRefusal(s)) return node_->Refuse(p.name(), action, subject, s);
    return s;
  });
}

absl::StatusOr<v1::Record> RecordsService::Visible(const v1::Principal& p, const std::string& id,
                                                   Action action, bool write) {
  ASSIGN_OR_RETURN(v1::Record r, keeper_->Get(id));
  if (!Cleared(p, r.classification())) {
    (void)node_->Refuse(
        p.name(), action, Subject(id),
        absl::PermissionDeniedError(absl::StrCat("the record is classified ", r.classification(),
                                                 ", above the caller's clearance")));
    return RecordNotFound(id);
  }
  if (!write && !SeesAgency(p, r.agency())) {
    (void)node_->Refuse(
        p.name(), action, Subject(id),
        absl::PermissionDeniedError(absl::StrCat(
            "the record belongs to agency \"", r.agency(), "\"; ", p.name(), " sees ",
            p.agency().empty() ? "no agency's records" : "agency \"" + p.agency() + "\" only")));
    return RecordNotFound(id);
  }
  if (write && !p.agency().empty() && p.agency() != r.agency()) {
    return absl::PermissionDeniedError(absl::StrCat("record ", id, " belongs to agency \"",
                                                    r.agency(), "\"; ", p.name(), " is of \"",
                                                    p.agency(), "\""));
  }
  Redact(p, &r);
  return r;
}

void RecordsService::Redact(const v1::Principal& p, v1::Record* r) {
  std::set<std::string> hidden;
  auto* segments = r->mutable_segments();
  for (auto it = segments->begin(); it != segments->end();) {
    std::string level = it->classification();
    if (level.empty()) {  // attached before segments kept their object's level
      absl::StatusOr<Digest> id = Digest::Parse(it->object_id());
      absl::StatusOr<v1::ObjectManifest> m =
          id.ok() ? node_->FindManifest(*id) : absl::StatusOr<v1::ObjectManifest>(id.status());
      if (!m.ok()) {
        level = "state-secret";  // unknown level: shown only to those cleared for any
      } else {
        auto l = m->metadata().find("classification");
        level = l == m->metadata().end() ? "internal" : l->second;
      }
    }
    if (Cleared(p, level)) {
      ++it;
      continue;
    }
    hidden.insert(it->object_id());
    it = segments->erase(it);
  }
  for (v1::Gap& g : *r->mutable_gaps()) {
    const std::string& e = g.explained_by();
    if (e.rfind("audio: ", 0) == 0 && hidden.count(e.substr(7))) {
      g.set_explained_by("audio: (an object above your clearance)");
    }
  }
}

RecordsService::Reactor* RecordsService::Catalog(Ctx* ctx, const v1::CatalogRequest*,
                                                 v1::CatalogResponse* out) {
  return Run(ctx, Action::kRecordRead, "catalog", [=, this](const v1::Principal&) {
    for (const auto& [n, m] : keeper_->catalog().matters()) *out->add_matters() = m;
    out->set_source(keeper_->catalog().source());
    return absl::OkStatus();
  });
}

RecordsService::Reactor* RecordsService::Create(Ctx* ctx, const v1::CreateRecordRequest* req,
                                                v1::Record* out) {
  return Run(
      ctx, Action::kRecordWrite, "record:new", [=, this](const v1::Principal& p) -> absl::Status {
        if (!p.agency().empty() && p.agency() != req->agency()) {
          return absl::PermissionDeniedError(absl::StrCat(p.name(), " is of agency \"", p.agency(),
                                                          "\" and makes no records for \"",
                                                          req->agency(), "\""));
        }
        if (!req->classification().empty() && !Cleared(p, req->classification())) {
          return absl::PermissionDeniedError(
              "a record may not be classified above its maker's clearance");
        }
        ASSIGN_OR_RETURN(*out, keeper_->Create(p.name(), *req));
        return absl::OkStatus();
      });
}

RecordsService::Reactor* RecordsService::Attach(Ctx* ctx, const v1::AttachRequest* req,
                                                v1::Record* out) {
  return Run(ctx, Action::kRecordWrite, Subject(req->record_id()),
             [=, this](const v1::Principal& p) -> absl::Status {
               RETURN_IF_ERROR(Visible(p, req->record_id(), Action::kRecordWrite, true).status());
               absl::StatusOr<Digest> id = Digest::Parse(req->object_id());
               if (!id.ok()) return id.status();
               ASSIGN_OR_RETURN(v1::ObjectManifest m,
                                node_->VisibleManifest(p, *id, Action::kRecordWrite));
               ASSIGN_OR_RETURN(*out, keeper_->Attach(p.name(), *req, m));
               return absl::OkStatus();
             });
}

RecordsService::Reactor* RecordsService::Show(Ctx* ctx, const v1::RecordRef* req, v1::Record* out) {
  return Run(ctx, Action::kRecordRead, Subject(req->record_id()),
             [=, this](const v1::Principal& p) -> absl::Status {
               ASSIGN_OR_RETURN(std::string id, keeper_->Resolve(req->record_id()));
               ASSIGN_OR_RETURN(*out, Visible(p, id, Action::kRecordRead, false));
               return AddLive(out);
             });
}

absl::Status RecordsService::AddLive(v1::Record* r) {
  if (node_->live() == nullptr) return absl::OkStatus();
  const std::set<std::string> devices(r->devices().begin(), r->devices().end());
  const int64_t from = r->start_unix_nanos() - absl::ToInt64Nanoseconds(absl::Minutes(1));
  return node_->live()->ForEach(
      [&](const v1::LiveInfo& i) {
        if (i.state() != "recording" || devices.count(i.device()) == 0) return;
        if (i.opened_unix_nanos() < from ||
            (r->end_unix_nanos() != 0 && i.opened_unix_nanos() > r->end_unix_nanos())) {
          return;
        }
        v1::RecordLive* l = r->add_live();
        l->set_live_id(i.live_id());
        l->set_device(i.device());
        l->set_file_name(i.file_name());
        l->set_held(i.held());
        l->set_opened_unix_nanos(i.opened_unix_nanos());
        l->set_last_segment_unix_nanos(i.last_segment_unix_nanos());
      },
      /*held_sha256=*/false);
}

RecordsService::Reactor* RecordsService::List(Ctx* ctx, const v1::ListRecordsRequest* req,
                                              v1::ListRecordsResponse* out) {
  return Run(ctx, Action::kRecordRead, "records", [=, this](const v1::Principal& p) {
    ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, keeper_->book());
    const absl::Time now = absl::Now();
    auto shown = [&](const FoldedRecord& f) -> absl::StatusOr<std::optional<v1::Record>> {
      // Above the caller's clearance or of another agency: not listed.
      if (!Cleared(p, f.record.classification()) || !SeesAgency(p, f.record.agency())) {
        return std::nullopt;
      }
      ASSIGN_OR_RETURN(v1::Record r, Evaluate(f, *b, keeper_->rules(), now));
      if (!RecordMatches(r, *req)) return std::nullopt;  // before redaction, as ever
      Redact(p, &r);
      return r;
    };
    return ListRecords(*b, *req, shown, out);
  });
}

RecordsService::Reactor* RecordsService::Change(Ctx* ctx, Action action, const std::string& id,
                                                v1::Record* out, RecordChange change) {
  return Run(ctx, action, Subject(id), [=, this](const v1::Principal& p) -> absl::Status {
    RETURN_IF_ERROR(Visible(p, id, action, true).status());
    ASSIGN_OR_RETURN(*out, change(p));
    return absl::OkStatus();
  });
}

RecordsService::Reactor* RecordsService::Correct(Ctx* ctx, const v1::CorrectRequest* req,
                                                 v1::Record* out) {
  return Change(ctx, Action::kRecordWrite, req->record_id(), out,
                [=, this](const v1::Principal& p) { return keeper_->Correct(p, *req); });
}

RecordsService::Reactor* RecordsService::Archive(Ctx* ctx, const v1::RecordRef* req,
                                                 v1::Record* out) {
  return Change(ctx, Action::kArchive, req->record_id(), out, [=, this](const v1::Principal& p) {
    return keeper_->Archive(p.name(), req->record_id());
  });
}

RecordsService::Reactor* RecordsService::Note(Ctx* ctx, const v1::NoteRequest* req,
                                              v1::Record* out) {
  return Change(ctx, Action::kRecordWrite, req->record_id(), out,
                [=, this](const v1::Principal& p) { return keeper_->Note(p.name(), *req); });
}

RecordsService::Reactor* RecordsService::ApproveExemption(Ctx* ctx, const v1::RecordRef* req,
                                                          v1::Record* out) {
  return Change(ctx, Action::kApproveExemption, req->record_id(), out,
                [=, this](const v1::Principal& p) {
                  return keeper_->ApproveExemption(p, req->record_id(), req->signed_());
                });
}

RecordsService::Reactor* RecordsService::Retain(Ctx* ctx, const v1::RetainRequest* req,
                                                v1::Record* out) {
  return Change(ctx, Action::kRetain, req->record_id(), out,
                [=, this](const v1::Principal& p) { return keeper_->Retain(p, *req); });
}

RecordsService::Reactor* RecordsService::Hold(Ctx* ctx, const v1::HoldRequest* req,
                                              v1::Record* out) {
  return Change(ctx, Action::kHold, req->record_id(), out,
                [=, this](const v1::Principal& p) { return keeper_->Hold(p, *req); });
}

RecordsService::Reactor* RecordsService::Late(Ctx* ctx, const v1::LateRequest* req,
                                              v1::Record* out) {
  return Change(ctx, Action::kRecordWrite, req->record_id(), out,
                [=, this](const v1::Principal& p) { return keeper_->Late(p.name(), *req); });
}

RecordsService::Reactor* RecordsService::ApproveLate(Ctx* ctx, const v1::RecordRef* req,
                                                     v1::Record* out) {
  return Change(ctx, Action::kApproveExemption, req->record_id(), out,
                [=, this](const v1::Principal& p) {
                  return keeper_->ApproveLate(p, req->record_id(), req->signed_());
                });
}

RecordsService::Reactor* RecordsService::Exempt(Ctx* ctx, const v1::ExemptRequest* req,
                                                v1::Record* out) {
  const std::string subject = req->record_id().empty() ? "record:new" : Subject(req->record_id());
  return Run(ctx, Action::kRecordWrite, subject, [=, this](const v1::Principal& p) -> absl::Status {
    if (!req->record_id().empty()) {
      RETURN_IF_ERROR(Visible(p, req->record_id(), Action::kRecordWrite, true).status());
    } else if (!p.agency().empty() && p.agency() != req->create().agency()) {
      return absl::PermissionDeniedError(absl::StrCat(p.name(), " is of agency \"", p.agency(),
                                                      "\" and makes no records for \"",
                                                      req->create().agency(), "\""));
    }
    ASSIGN_OR_RETURN(*out, keeper_->Exempt(p.name(), *req));
    return absl::OkStatus();
  });
}

RecordsService::Reactor* RecordsService::DeviceAdd(Ctx* ctx, const v1::DeviceAddRequest* req,
                                                   v1::Device* out) {
  return Run(ctx, Action::kDevices, "device:" + req->id(),
             [=, this](const v1::Principal& p) -> absl::Status {
               ASSIGN_OR_RETURN(*out, keeper_->DeviceAdd(p.name(), *req));
               return absl::OkStatus();
             });
}

RecordsService::Reactor* RecordsService::DeviceList(Ctx* ctx, const v1::DeviceListRequest*,
                                                    v1::DeviceListResponse* out) {
  return Run(ctx, Action::kDevices, "devices", [=, this](const v1::Principal&) {
    ASSIGN_OR_RETURN(std::shared_ptr<const RecordBook> b, keeper_->book());
    return b->ForEachDevice([&](const v1::Device& d) {
      if (!d.id().empty()) *out->add_devices() = d;
    });
  });
}

RecordsService::Reactor* RecordsService::DeviceCheckout(Ctx* ctx,
                                                        const v1::DeviceCheckoutRequest* req,
                                                        v1::Device* out) {
  return Run(ctx, Action::kDevices, "device:" + req->id(),
             [=, this](const v1::Principal& p) -> absl::Status {
               ASSIGN_OR_RETURN(*out, keeper_->Checkout(p.name(), *req));
               return absl::OkStatus();
             });
}

RecordsService::Reactor* RecordsService::DeviceCheckin(Ctx* ctx, const v1::DeviceRef* req,
                                                       v1::Device* out) {
  return Run(ctx, Action::kDevices, "device:" + req->id(),
             [=, this](const v1::Principal& p) -> absl::Status {
               ASSIGN_OR_RETURN(*out, keeper_->Checkin(p.name(), req->id()));
               return absl::OkStatus();
             });
}

RecordsService::Reactor* RecordsService::MakeReport(Ctx* ctx, const v1::ReportRequest* req,
                                                    v1::Report* out) {
  return Run(ctx, Action::kReport, "report:" + req->agency(),
             [=, this](const v1::Principal& p) -> absl::Status {
               if (!SeesAgency(p, req->agency())) {
                 return absl::PermissionDeniedError(absl::StrCat(
                     p.name(), " reports on ",
                     p.agency().empty() ? "no agency" : "agency \"" + p.agency() + "\" only"));
               }
               ASSIGN_OR_RETURN(*out, keeper_->MakeReport(*req, [&p](const std::string& level) {
                 return Cleared(p, level);
               }));
               return absl::OkStatus();
             });
}

namespace {

// The node's first checkpoint signed at or after `to`: the spot check's
// seed. When the period has ended and none is signed yet, one is signed
// now; from then on it is the first, for every later draw.
absl::StatusOr<std::string> SeedCheckpoint(Node* node, int64_t to) {
  ASSIGN_OR_RETURN(std::string note, node->audit()->FirstCheckpointAfter(to));
  if (!note.empty()) return note;
  if (absl::FromUnixNanos(to) > absl::Now()) {
    return absl::FailedPreconditionError(
        "the period has not ended: a spot check draws with a checkpoint signed after it");
  }
  RETURN_IF_ERROR(node->SignCheckpointNow().status());
  ASSIGN_OR_RETURN(note, node->audit()->FirstCheckpointAfter(to));
  if (note.empty()) return absl::UnavailableError("no checkpoint after the period; try again");
  return note;
}

}  // namespace

RecordsService::Reactor* RecordsService::Sample(Ctx* ctx, const v1::SampleRequest* req,
                                                v1::SampleResponse* out) {
  return Run(ctx, Action::kReport, "report:" + req->agency(),
             [=, this](const v1::Principal& p) -> absl::Status {
               if (req->agency().empty())
                 return absl::InvalidArgumentError("a sample needs --agency");
               if (!SeesAgency(p, req->agency())) {
                 return absl::PermissionDeniedError(
                     absl::StrCat(p.name(), " may not sample agency \"", req->agency(), "\""));
               }
               if (req->to_unix_nanos() <= req->from_unix_nanos()) {
                 return absl::InvalidArgumentError("--to must be after --from");
               }
               if (req->n() == 0 || req->n() > 1000) {
                 return absl::InvalidArgumentError("--n must be between 1 and 1000");
               }
               ASSIGN_OR_RETURN(std::string note, SeedCheckpoint(node_, req->to_unix_nanos()));
               ASSIGN_OR_RETURN(Checkpoint c, VerifyCheckpoint(note, node_->audit()->public_raw()));
               out->set_agency(req->agency());
               out->set_from_unix_nanos(req->from_unix_nanos());
               out->set_to_unix_nanos(req->to_unix_nanos());
               out->set_n(req->n());
               out->set_checkpoint(note);
               out->set_public_key_pem(node_->audit()->public_key_pem());
               RETURN_IF_ERROR(keeper_->Sample(
                   *req, c, [&p](const std::string& level) { return Cleared(p, level); }, out));
               v1::AuditEvent e = NewEvent("report.sampled", "report:" + req->agency(), p.name());
               AddDetail(&e, "checkpoint_size", absl::StrCat(c.size));
               AddDetail(&e, "seed", out->seed());
               AddDetail(&e, "population", absl::StrCat(out->population_size()));
               std::string drawn;
               for (const v1::SampledRecord& s : out->sampled())
                 absl::StrAppend(&drawn, drawn.empty() ? "" : ",", s.id());
               AddDetail(&e, "sampled", drawn);
               return node_->Record(std::move(e));
             });
}

RecordsService::Reactor* RecordsService::PurgeCandidates(Ctx* ctx,
                                                         const v1::PurgeCandidatesRequest*,
                                                         v1::PurgeCandidatesResponse* out) {
  return Run(ctx, Action::kRecordRead, "purge", [=, this](const v1::Principal& p) {
    ASSIGN_OR_RETURN(v1::PurgeCandidatesResponse all, keeper_->PurgeCandidates());
    for (v1::Record& r : *all.mutable_records()) {
      if (Cleared(p, r.classification())) *out->add_records() = std::move(r);
    }
    *out->mutable_objects() = all.objects();
    *out->mutable_requests() = all.requests();
    return absl::OkStatus();
  });
}

RecordsService::Reactor* RecordsService::RequestPurge(Ctx* ctx, const v1::PurgeRequestRequest* req,
                                                      v1::PurgePlan* out) {
  return Run(ctx, Action::kPurge, "purge", [=, this](const v1::Principal& p) -> absl::Status {
    ASSIGN_OR_RETURN(*out, keeper_->RequestPurge(p.name(), req->reason(),
                                                 {req->records().begin(), req->records().end()}));
    return absl::OkStatus();
  });
}

RecordsService::Reactor* RecordsService::ApprovePurge(Ctx* ctx, const v1::PurgeRef* req,
                                                      v1::PurgePlan* out) {
  return Run(ctx, Action::kApprovePurge, "purge:" + req->request_id(),
             [=, this](const v1::Principal& p) -> absl::Status {
               ASSIGN_OR_RETURN(*out, keeper_->ApprovePurge(p, req->request_id(), req->signed_()));
               return absl::OkStatus();
             });
}

RecordsService::Reactor* RecordsService::ExecutePurge(Ctx* ctx, const v1::PurgeRef* req,
                                                      v1::PurgeResult* out) {
  return Run(ctx, Action::kPurge, "purge:" + req->request_id(),
             [=, this](const v1::Principal& p) -> absl::Status {
               ASSIGN_OR_RETURN(*out, keeper_->ExecutePurge(p.name(), req->request_id()));
               return absl::OkStatus();
             });
}

}  // namespace custody
