// Helpers of the live upload tests (tests/integration/live_*_test.cc).
#ifndef CUSTODY_TESTS_INTEGRATION_LIVE_UTIL_H_
#define CUSTODY_TESTS_INTEGRATION_LIVE_UTIL_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/process.h"
#include "tests/test_util.h"

namespace custody::testing {

// A camera: appends `bytes_per_tick` random bytes to `path` every 125 ms
// for `seconds` (8 Mbit/s with 125,000 bytes a tick). Returns once the file
// exists (a loaded machine may start the shell late), so that a client
// started next finds it.
inline std::unique_ptr<Subprocess> Camera(const TempDir& dir, const std::string& path, int seconds,
                                          int bytes_per_tick = 125000) {
  std::string script =
      absl::StrCat("for i in $(seq ", seconds * 8, "); do head -c ", bytes_per_tick,
                   " /dev/urandom >> '", path, "'; sleep 0.125; done");
  auto camera = std::make_unique<Subprocess>(std::vector<std::string>{"/bin/bash", "-c", script},
                                             dir / "camera.out", dir / "camera.err");
  for (int i = 0; i < 1000 && !std::filesystem::exists(path); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return camera;
}

// `custody ARGS` running in the background.
inline std::unique_ptr<Subprocess> Background(const TempDir& dir, const std::string& name,
                                              const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CUSTODY_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<Subprocess>(argv, dir / (name + ".out"), dir / (name + ".err"));
}

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_INTEGRATION_LIVE_UTIL_H_
