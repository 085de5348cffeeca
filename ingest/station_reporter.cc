#include "ingest/station_reporter.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "custody/v1/records.grpc.pb.h"
#include "ingest/quarantine.h"

namespace custody::ingest {
namespace {

constexpr size_t kMaxQuarantineListed = 100;

}  // namespace

StationReporter::StationReporter(std::string station, std::string watch_dir, std::string state_dir,
                                 std::vector<std::string> addresses,
                                 std::function<IngestStatus()> status)
    : station_(std::move(station)),
      watch_(std::move(watch_dir)),
      state_(std::move(state_dir)),
      servers_(std::move(addresses)),
      status_(std::move(status)) {}

v1::StationStatus StationReporter::Build() const {
  IngestStatus s = status_();
  v1::StationStatus out;
  out.set_station(station_);
  out.set_running(s.running);
  out.set_watch(s.watch_dir);
  out.set_server(s.server);
  out.set_done(s.done);
  out.set_quarantined(s.quarantined);
  out.set_not_filed(s.not_filed);
  out.set_in_flight(s.in_flight.size());
  out.set_sent_unix_nanos(absl::ToUnixNanos(absl::Now()));
  absl::StatusOr<std::vector<QuarantinedFile>> q = ListQuarantine(watch_);
  if (q.ok()) {
    for (const QuarantinedFile& f : *q) {
      if (static_cast<size_t>(out.quarantine_size()) >= kMaxQuarantineListed) break;
      v1::StationFile* x = out.add_quarantine();
      x->set_file(f.rel);
      x->set_reason(f.reason);
    }
  }
  for (const DoneFile& f : s.recent_done) {
    v1::StationFile* x = out.add_recent_done();
    x->set_file(f.path);
    x->set_id(f.id);
    x->set_record(f.record);
    x->set_filing_problem(f.filing_problem);
    x->set_time_unix_nanos(absl::ToUnixNanos(absl::FromUnixSeconds(f.time)));
  }
  return out;
}

void StationReporter::CarryOut(const v1::StationRetryRequest& retry) {
  std::vector<std::string> files(retry.files().begin(), retry.files().end());
  if (retry.all()) {
    absl::StatusOr<std::vector<QuarantinedFile>> q = ListQuarantine(watch_);
    if (q.ok()) {
      for (const QuarantinedFile& f : *q) files.push_back(f.rel);
    }
  }
  for (const std::string& file : files) {
    absl::Time now = absl::Now();
    absl::StatusOr<Retried> r = Retry(watch_, file, now);
    if (!r.ok()) {
      LOG(WARNING) << "retry of " << file << " asked by " << retry.requested_by() << ": "
                   << r.status();
      continue;
    }
    LOG(INFO) << "retried " << r->rel << ", asked by " << retry.requested_by()
              << " in the web console";
    if (absl::Status l = LogRetry(state_, *r, now); !l.ok()) {
      LOG(ERROR) << "retried " << r->rel << ", but could not log it: " << l;
    }
  }
}

absl::Status StationReporter::ReportOnce() {
  ServerPool::Server node = servers_.Current();
  auto stub = v1::Records::NewStub(node.channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::StationReportResponse resp;
  absl::Status s = FromGrpcStatus(stub->StationReport(&ctx, Build(), &resp));
  if (!s.ok()) {
    if (IsNodeDown(s)) servers_.FailOver(node.index, s);
    return s;
  }
  for (const v1::StationRetryRequest& r : resp.retries()) CarryOut(r);
  return absl::OkStatus();
}

void StationReporter::Run(const std::atomic<bool>* stop, absl::Duration interval) {
  std::string last_error;
  while (!stop->load()) {
    absl::Status s = ReportOnce();
    std::string e = s.ok() ? "" : std::string(s.message());
    if (e != last_error && !e.empty()) LOG(WARNING) << "reporting to the cluster: " << s;
    last_error = e;
    for (absl::Time end = absl::Now() + interval; absl::Now() < end && !stop->load();) {
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
}

}  // namespace custody::ingest
