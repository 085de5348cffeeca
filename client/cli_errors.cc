#include "client/cli_errors.h"

#include <iostream>
#include <string>

namespace custody {

int PrintFailure(const absl::Status& s) {
  std::string msg(s.message());
  for (char& c : msg) {
    if (c == '\n') c = ' ';
  }
  std::cerr << "custody: " << absl::StatusCodeToString(s.code()) << ": " << msg << "\n";
  return 1;
}

}  // namespace custody
