#include "server/audit/audited_write.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace custody {

absl::Status AuditedIndexWrite(Committer* committer, AuditLog* audit,
                               std::optional<v1::AuditEvent> event,
                               const std::function<void(rocksdb::WriteBatch*)>& writes) {
  WriteRequest r;
  r.index_only = true;
  r.on_index = [&](rocksdb::WriteBatch* b, const WriteResult&) {
    if (writes) writes(b);
    if (event && audit != nullptr) audit->Append(b, std::move(*event));
  };
  return committer->Write(std::move(r)).status();
}

absl::Status AuditTrail::Append(v1::AuditEvent event, bool hold) {
  absl::Status s;
  bool behind = false;    // held events are still waiting: this one waits behind them
  if (holding_.load()) {  // rare: the disk was full; concurrent Records otherwise
    absl::MutexLock l(&held_mu_);
    s = AppendHeld();
    behind = !s.ok();
    holding_.store(!held_.empty() || dropped_ > 0);
  }
  if (s.ok()) {
    // Write consumes the event; one that may be held is kept for that.
    s = hold ? Write(v1::AuditEvent(event)) : Write(std::move(event));
  }
  if (!hold || s.ok() || (!behind && !absl::IsResourceExhausted(s))) return s;
  absl::MutexLock l(&held_mu_);
  const std::string action = event.action();
  if (held_.size() < kMaxHeld) {
    held_.push_back(std::move(event));
  } else {
    ++dropped_;
  }
  holding_.store(true);
  LOG(ERROR) << "audit event " << action << " held in memory until there is room (" << held_.size()
             << " held, " << dropped_ << " dropped): " << s;
  return s;
}

absl::Status AuditTrail::AppendHeld() {
  while (!held_.empty()) {
    v1::AuditEvent e = held_.front();
    RETURN_IF_ERROR(Write(std::move(e)));
    held_.pop_front();
  }
  if (dropped_ > 0) {
    v1::AuditEvent lost = NewEvent("audit.events-dropped", "node", "custodyd");
    AddDetail(&lost, "count", absl::StrCat(dropped_));
    AddDetail(&lost, "why", "the disk was full and more events waited than could be held");
    RETURN_IF_ERROR(Write(std::move(lost)));
    dropped_ = 0;
  }
  return absl::OkStatus();
}

void AuditTrail::Enqueue(v1::AuditEvent event) {
  absl::MutexLock l(&held_mu_);
  if (held_.size() < kMaxHeld) {
    held_.push_back(std::move(event));
  } else {
    ++dropped_;
  }
  holding_.store(true);
}

absl::Status AuditTrail::Flush() {
  absl::MutexLock l(&held_mu_);
  absl::Status s = AppendHeld();
  holding_.store(!held_.empty() || dropped_ > 0);
  return s;
}

size_t AuditTrail::held() const {
  absl::MutexLock l(&held_mu_);
  return held_.size();
}

uint64_t AuditTrail::dropped() const {
  absl::MutexLock l(&held_mu_);
  return dropped_;
}

absl::StatusOr<std::string> AuditTrail::SignCheckpointNow() {
  if (audit_ == nullptr) return absl::FailedPreconditionError("this store keeps no audit log");
  absl::StatusOr<std::string> note = absl::UnknownError("not signed");
  WriteRequest r;
  r.index_only = true;
  r.on_index = [this, &note](rocksdb::WriteBatch* b, const WriteResult&) {
    note = audit_->SignCheckpoint(b);
  };
  absl::Status s = committer_->Write(std::move(r)).status();
  if (!s.ok()) return s;
  return note;
}

}  // namespace custody
