#include "server/event_groups.h"

#include <limits>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "server/index.h"

namespace custody {

void AppendEventRecord(std::string* group, absl::string_view event) {
  uint32_t n = static_cast<uint32_t>(event.size());
  while (n >= 0x80) {
    group->push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  group->push_back(static_cast<char>(n));
  group->append(event.data(), event.size());
}

bool DecodeEventGroup(absl::string_view group, std::vector<absl::string_view>* events) {
  events->clear();
  size_t i = 0;
  while (i < group.size()) {
    uint32_t n = 0;
    int shift = 0;
    for (;;) {
      if (i >= group.size() || shift > 28) return false;
      uint8_t b = static_cast<uint8_t>(group[i++]);
      n |= static_cast<uint32_t>(b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    if (n > group.size() - i) return false;
    events->push_back(group.substr(i, n));
    i += n;
  }
  return true;
}

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
    return Stop(absl::StrCat("events from ", key, " are stored twice: their group overlaps "
                             "the one before, which ends at event ", expect - 1));
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
