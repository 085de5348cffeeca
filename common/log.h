// Minimal logging to stderr: LOG(INFO) << "..."; (our Abseil predates
// absl/log). Thread-safe: each message is written with one write(2).
#ifndef CUSTODY_COMMON_LOG_H_
#define CUSTODY_COMMON_LOG_H_

#include <sstream>

namespace custody {

enum class LogSeverity { kInfo, kWarning, kError };

class LogMessage {
 public:
  LogMessage(LogSeverity s, const char* file, int line);
  ~LogMessage();
  std::ostream& stream() { return out_; }

 private:
  std::ostringstream out_;
};

// Messages below this severity are dropped (default: kInfo).
void SetMinLogSeverity(LogSeverity s);

}  // namespace custody

#define CUSTODY_LOG_INFO ::custody::LogSeverity::kInfo
#define CUSTODY_LOG_WARNING ::custody::LogSeverity::kWarning
#define CUSTODY_LOG_ERROR ::custody::LogSeverity::kError
#define LOG(sev) ::custody::LogMessage(CUSTODY_LOG_##sev, __FILE__, __LINE__).stream()

#endif  // CUSTODY_COMMON_LOG_H_
