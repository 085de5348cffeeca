#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>

#include "common/units.h"

namespace custody {
namespace {
std::atomic<int> min_severity{0};
}  // namespace

void SetMinLogSeverity(LogSeverity s) { min_severity = static_cast<int>(s); }

LogMessage::LogMessage(LogSeverity s, const char* file, int line) {
  static const char kLetters[] = {'I', 'W', 'E'};
  const char* base = std::strrchr(file, '/');
  if (static_cast<int>(s) < min_severity) out_.setstate(std::ios::badbit);
  out_ << kLetters[static_cast<int>(s)] << ' ' << FormatUnixNanos(NowUnixNanos()) << ' '
       << (base ? base + 1 : file) << ':' << line << "] ";
}

LogMessage::~LogMessage() {
  if (out_.bad()) return;
  out_ << '\n';
  std::string s = out_.str();
  ssize_t n = write(STDERR_FILENO, s.data(), s.size());
  (void)n;
}

}  // namespace custody
