#include "server/audit/event_groups.h"

#include <limits>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "server/storage/index.h"

namespace custody {

EventCursor::EventCursor(Index* index, const rocksdb::ReadOptions& ro)
    : it_(index->db()->NewIterator(ro, index->events())) {}

void EventCursor::Stop(std::string problem) {
  valid_ = false;
  if (problem_.empty()) problem_ = std::move(problem);
}

void EventCursor::Seek(uint64_t position) {
  constexpr uint64_t kAnyStart = std::numeric_limits<uint64_t>::max();
  std::string key(8, '\0');
  absl::big_endian::Store64(key.data(), position);
  it_->SeekForPrev(key);
  if (it_->Valid()) {
    LoadGroup(kAnyStart);
    if (!valid_) return;
    if (position - key_ < events_.size()) {
      at_ = position - key_;
      return;
    }
    it_->Next();  // the group before ends short of `position`
  } else {
    it_->Seek(key);
  }
  LoadGroup(kAnyStart);
  if (valid_ && key_ != position) {
    Stop(absl::StrCat("event ", position, " is missing: the log jumps to event ", key_));
  }
}

void EventCursor::Next() {
  if (!valid_) return;
  if (++at_ < events_.size()) return;
  at_ = events_.size() - 1;
  NextGroup();
}

void EventCursor::NextGroup() {
  if (!valid_) return;
  uint64_t expect = key_ + events_.size();
  it_->Next();
  LoadGroup(expect);
}

void EventCursor::LoadGroup(uint64_t expect) {
  events_.clear();
  at_ = 0;
  valid_ = false;
  if (!it_->Valid()) {
    if (!it_->status().ok()) Stop("the stored events cannot be read: " + it_->status().ToString());
    return;  // the end of the log
  }
  if (it_->key().size() != 8) return Stop("a stored event group has a malformed key");
  uint64_t key = absl::big_endian::Load64(it_->key().data());
  absl::string_view value(it_->value().data(), it_->value().size());
  if (expect != std::numeric_limits<uint64_t>::max() && key != expect) {
    if (key > expect) {
      return Stop(absl::StrCat("event ", expect, " is missing: the log jumps to event ", key));
    }
    return Stop(absl::StrCat("events from ", key,
                             " are stored twice: their group overlaps "
                             "the one before, which ends at event ",
                             expect - 1));
  }
  if (!DecodeEventGroup(value, &events_) || events_.empty()) {
    events_.clear();
    return Stop(absl::StrCat("the events stored from event ", key,
                             " on are damaged: a record runs past the end of its group"));
  }
  key_ = key;
  valid_ = true;
}

}  // namespace custody
