// The Records service (proto/custody/v1/records.proto): who may ask what,
// clearance, and the audit of every refusal. The rules themselves are in
// server/record_keeper.h. Work runs on the node's read pool, never on a gRPC
// thread.
#ifndef CUSTODY_SERVER_SERVICES_RECORDS_SERVICE_H_
#define CUSTODY_SERVER_SERVICES_RECORDS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "custody/v1/records.grpc.pb.h"
#include "server/node.h"
#include "server/records/record_keeper.h"
#include "server/services/station_board.h"

namespace custody {

class RecordsService final : public v1::Records::CallbackService {
 public:
  RecordsService(Node* node, RecordKeeper* keeper) : node_(node), keeper_(keeper) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  Reactor* Catalog(Ctx* ctx, const v1::CatalogRequest* req, v1::CatalogResponse* out) override;
  Reactor* Create(Ctx* ctx, const v1::CreateRecordRequest* req, v1::Record* out) override;
  Reactor* Attach(Ctx* ctx, const v1::AttachRequest* req, v1::Record* out) override;
  Reactor* Show(Ctx* ctx, const v1::RecordRef* req, v1::Record* out) override;
  Reactor* List(Ctx* ctx, const v1::ListRecordsRequest* req, v1::ListRecordsResponse* out) override;
  Reactor* Correct(Ctx* ctx, const v1::CorrectRequest* req, v1::Record* out) override;
  Reactor* Archive(Ctx* ctx, const v1::RecordRef* req, v1::Record* out) override;
  Reactor* Note(Ctx* ctx, const v1::NoteRequest* req, v1::Record* out) override;
  Reactor* Exempt(Ctx* ctx, const v1::ExemptRequest* req, v1::Record* out) override;
  Reactor* ApproveExemption(Ctx* ctx, const v1::RecordRef* req, v1::Record* out) override;
  Reactor* Retain(Ctx* ctx, const v1::RetainRequest* req, v1::Record* out) override;
  Reactor* Hold(Ctx* ctx, const v1::HoldRequest* req, v1::Record* out) override;
  Reactor* Late(Ctx* ctx, const v1::LateRequest* req, v1::Record* out) override;
  Reactor* ApproveLate(Ctx* ctx, const v1::RecordRef* req, v1::Record* out) override;
  Reactor* DeviceAdd(Ctx* ctx, const v1::DeviceAddRequest* req, v1::Device* out) override;
  Reactor* DeviceList(Ctx* ctx, const v1::DeviceListRequest* req,
                      v1::DeviceListResponse* out) override;
  Reactor* DeviceCheckout(Ctx* ctx, const v1::DeviceCheckoutRequest* req, v1::Device* out) override;
  Reactor* DeviceCheckin(Ctx* ctx, const v1::DeviceRef* req, v1::Device* out) override;
  Reactor* MakeReport(Ctx* ctx, const v1::ReportRequest* req, v1::Report* out) override;
  Reactor* Sample(Ctx* ctx, const v1::SampleRequest* req, v1::SampleResponse* out) override;
  Reactor* PurgeCandidates(Ctx* ctx, const v1::PurgeCandidatesRequest* req,
                           v1::PurgeCandidatesResponse* out) override;
  Reactor* RequestPurge(Ctx* ctx, const v1::PurgeRequestRequest* req, v1::PurgePlan* out) override;
  Reactor* ApprovePurge(Ctx* ctx, const v1::PurgeRef* req, v1::PurgePlan* out) override;
  Reactor* ExecutePurge(Ctx* ctx, const v1::PurgeRef* req, v1::PurgeResult* out) override;

  // Stations (server/services/station_rpcs.cc).
  Reactor* StationReport(Ctx* ctx, const v1::StationStatus* req,
                         v1::StationReportResponse* out) override;
  Reactor* Docked(Ctx* ctx, const v1::DockRequest* req, v1::DockResponse* out) override;
  Reactor* StationRetry(Ctx* ctx, const v1::StationRetryRequest* req,
                        v1::StationRetryResponse* out) override;
  Reactor* Stations(Ctx* ctx, const v1::StationsRequest* req, v1::StationsResponse* out) override;

 private:
  // The record's live uploads still recording on this node (RecordLive).
  absl::Status AddLive(v1::Record* r);
  using Work = std::function<absl::Status(const v1::Principal&)>;
  // Authorizes `action`, runs `work` on a worker and audits a refusal of a
  // rule (PERMISSION_DENIED, FAILED_PRECONDITION, ALREADY_EXISTS).
  Reactor* Run(Ctx* ctx, Action action, const std::string& subject, Work work);
  // A change to record `id`: it must be visible to the caller and of the
  // caller's agency; `change` makes it and returns the record after it.
  using RecordChange = std::function<absl::StatusOr<v1::Record>(const v1::Principal&)>;
  Reactor* Change(Ctx* ctx, Action action, const std::string& id, v1::Record* out,
                  RecordChange change);
  // Record `id` if `p` may see it (clearance); else the refusal is audited and
  // the answer is the one for a missing record. With `write`, `p` must also
  // belong to the record's agency (when it has one).
  absl::StatusOr<v1::Record> Visible(const v1::Principal& p, const std::string& id, Action action,
                                     bool write);
  // `r` as `p` may see it: without the segments of objects above `p`'s
  // clearance, and without their ids in gap explanations.
  void Redact(const v1::Principal& p, v1::Record* r);

  Node* node_;
  RecordKeeper* keeper_;
  StationBoard stations_;  // the stations that report to this node
};

}  // namespace custody

#endif  // CUSTODY_SERVER_SERVICES_RECORDS_SERVICE_H_
