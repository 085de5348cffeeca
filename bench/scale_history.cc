#include "bench/scale_history.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace custody::bench {

double MemoryMiB(const char* field, int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/status")
                            : absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v = line;
    uint64_t kb = 0;
    if (absl::ConsumePrefix(&v, field) && absl::ConsumePrefix(&v, ":") &&
        absl::ConsumeSuffix(&v, "kB") && absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &kb)) {
      return static_cast<double>(kb) / 1024.0;
    }
  }
  return 0;
}

Stats Of(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  if (ms.empty()) return {};
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]};
}

double Ms(absl::Time t) { return absl::ToDoubleMilliseconds(absl::Now() - t); }

v1::CreateRecordRequest NewBenchRecord() {
  v1::CreateRecordRequest c;
  c.set_agency("SH-MKT");
  c.set_matter(3);
  c.set_target("bench");
  c.set_stage("inspection");
  c.add_officers("o1");
  c.add_devices("dev-bench");
  c.set_start_unix_nanos(absl::ToUnixNanos(absl::Now()) - 3600000000000LL);
  return c;
}

absl::Status History::Append(const std::string& kind, const std::string& subject,
                             const std::string& actor, std::map<std::string, std::string> fields) {
  v1::LedgerEntry e;
  e.set_kind(kind);
  e.set_subject(subject);
  e.set_actor(actor);
  for (auto& [k, v] : fields) (*e.mutable_fields())[k] = std::move(v);
  v1::AuditEvent event = EventOf(e, subject);
  ASSIGN_OR_RETURN(Ledger::Appended a, node_->ledger()->Append(std::move(e), std::move(event)));
  ++entries_;
  last_id_ = a.id.Hex();
  return Forward(a.id);
}

absl::Status History::Record() {
  const uint64_t n = records_.size();
  const std::string id = absl::StrCat("rec-", absl::Hex(n, absl::kZeroPad12));
  const int64_t start = t0_ + static_cast<int64_t>(n) * 60000000000LL;
  const std::string device = absl::StrCat("dev-", n % 200);
  const std::string rec = "record:" + id;
  RETURN_IF_ERROR(Append("record.created", rec, "user:officer",
                         {{"agency", "SH-MKT"},
                          {"matter", "3"},
                          {"target", absl::StrCat("shop-", n % 5000)},
                          {"stage", "inspection"},
                          {"officers", "o1,o2"},
                          {"devices", device},
                          {"start", absl::StrCat(start)},
                          {"end", absl::StrCat(start + 1200000000000LL)},
                          {"classification", "internal"}}));
  for (int s = 0; s < 2; ++s) {
    const std::string object = Digest::Of(absl::StrCat(id, "/", s)).ToString();
    RETURN_IF_ERROR(Append("record.attached", rec, "user:officer",
                           {{"object", object},
                            {"kind", "video"},
                            {"classification", "internal"},
                            {"device", device},
                            {"start", absl::StrCat(start + s * 600000000000LL)},
                            {"end", absl::StrCat(start + (s + 1) * 600000000000LL)}}));
    last_object_ = object;
  }
  const std::string prefix = absl::StrCat("SH-MKT-", start / kDay, "-#");
  RETURN_IF_ERROR(Append("record.archived", rec, "user:archivist",
                         {{"number", absl::StrCat(prefix, n)},
                          {"prefix", prefix},
                          {"sequence", absl::StrCat(n + 1)},
                          {"retention_until", absl::StrCat(start + 3650 * kDay)}}));
  records_.push_back(id);
  if (n % 10 == 0) {
    RETURN_IF_ERROR(Request(id));
    const std::string request = last_id_;
    for (const char* who : {"user:head", "user:leader"}) {
      RETURN_IF_ERROR(Append("access.approved", "request:" + request, who, {{"request", request}}));
    }
  }
  return absl::OkStatus();
}

absl::Status History::Request(const std::string& id) {
  return Append("access.requested", "record:" + id, "user:viewer",
                {{"record", id},
                 {"agency", "SH-MKT"},
                 {"classification", "internal"},
                 {"purpose", "view"},
                 {"reason", "case review"},
                 {"seconds", "864000000"}});
}

absl::Status History::Forward(const Digest& id) {
  if (peers_.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, node_->ledger()->Get(id));
  if (!bytes) return absl::InternalError("an appended entry is not there");
  for (custody::Node* peer : peers_) {
    const absl::Time t = absl::Now();
    RETURN_IF_ERROR(peer->ledger()->Receive(id, *bytes, node_->node_id()));
    if (timing_) peer_ms_.push_back(Ms(t));
  }
  return absl::OkStatus();
}

}  // namespace custody::bench
