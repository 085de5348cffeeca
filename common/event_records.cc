#include "common/event_records.h"

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

}  // namespace custody
