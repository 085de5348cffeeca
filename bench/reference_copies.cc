#include "bench/reference_copies.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace custody::bench {
namespace {

namespace fs = std::filesystem;

using AlignedBuffer = std::unique_ptr<char, decltype(&std::free)>;

constexpr size_t kBuf = 4 << 20;           // a chunk: what the node reads at a time
constexpr uint64_t kSyncEvery = 32 << 20;  // the committer's largest group

// kBuf bytes, 4096-aligned, filled (not zeros, which a device might elide).
AlignedBuffer NewBuffer() {
  AlignedBuffer buf(static_cast<char*>(std::aligned_alloc(4096, kBuf)), &std::free);
  for (size_t i = 0; i < kBuf; ++i) buf.get()[i] = static_cast<char>(i * 2654435761u >> 13);
  return buf;
}

// Sends file `f` down socket `s` through `buf` (kBuf bytes, 4096-aligned),
// adding the bytes sent to `*bytes`; `cold`: read with O_DIRECT.
absl::Status SendFile(int s, const std::string& f, bool cold, char* buf, uint64_t* bytes) {
  int in = open(f.c_str(), O_RDONLY | (cold ? O_DIRECT : 0));
  if (in < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", f, cold ? " with O_DIRECT" : "",
                                            " for the TCP copy: ", std::strerror(errno)));
  }
  absl::Status st;
  ssize_t n;
  while (st.ok() && (n = read(in, buf, kBuf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = absl::InternalError(absl::StrCat("reading ", f, ": ", std::strerror(errno)));
      break;
    }
    for (ssize_t off = 0; off < n && st.ok();) {
      ssize_t w = write(s, buf + off, n - off);
      if (w <= 0)
        st = absl::InternalError(absl::StrCat("TCP send failed: ", std::strerror(errno)));
      else
        off += w;
    }
    *bytes += static_cast<uint64_t>(n);
  }
  close(in);
  return st;
}

}  // namespace

absl::StatusOr<double> TcpCopy(const std::vector<std::string>& files, const std::string& sink,
                               bool cold) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (bind(listener, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(listener);
    return absl::InternalError("cannot listen on 127.0.0.1 for the TCP copy");
  }
  absl::Status received;
  std::thread receiver([&] {
    int c = accept(listener, nullptr, nullptr);
    int out = open(sink.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::string buf(1 << 20, '\0');
    for (ssize_t n; (n = read(c, buf.data(), buf.size())) > 0;) {
      if (write(out, buf.data(), n) != n) received = absl::InternalError("short write");
    }
    if (fdatasync(out) != 0) received = absl::InternalError("fdatasync failed");
    close(out);
    close(c);
  });
  auto t0 = std::chrono::steady_clock::now();
  int s = socket(AF_INET, SOCK_STREAM, 0);
  absl::Status sent;
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    sent = absl::InternalError("cannot connect for the TCP copy");
    shutdown(listener, SHUT_RDWR);  // the receiver's accept returns
  }
  AlignedBuffer buf = NewBuffer();
  uint64_t bytes = 0, expected = 0;
  for (const std::string& f : files) {
    expected += fs::file_size(f);
    if (sent.ok()) sent = SendFile(s, f, cold, buf.get(), &bytes);
  }
  if (sent.ok() && bytes != expected) {
    sent = absl::InternalError(absl::StrCat("the TCP copy read ", bytes, " bytes of ", expected));
  }
  close(s);
  receiver.join();
  std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
  close(listener);
  fs::remove(sink);
  RETURN_IF_ERROR(sent);
  RETURN_IF_ERROR(received);
  return d.count();
}

namespace {

// Reads the files with O_DIRECT, a chunk at a time; returns the bytes read.
absl::StatusOr<uint64_t> ReadCold(const std::vector<std::string>& files) {
  AlignedBuffer buf = NewBuffer();
  uint64_t total = 0;
  for (const std::string& f : files) {
    int in = open(f.c_str(), O_RDONLY | O_DIRECT);
    if (in < 0)
      return absl::InternalError(absl::StrCat("cannot open ", f, ": ", std::strerror(errno)));
    ssize_t n;
    while ((n = read(in, buf.get(), kBuf)) > 0) total += static_cast<uint64_t>(n);
    int err = errno;
    close(in);
    if (n < 0) return absl::InternalError(absl::StrCat("reading ", f, ": ", std::strerror(err)));
  }
  return total;
}

// Writes `bytes` (rounded up to 4 KiB) to `sink` with O_DIRECT, fdatasyncing
// every kSyncEvery bytes and at the end.
absl::Status WriteDurably(const std::string& sink, uint64_t bytes) {
  AlignedBuffer buf = NewBuffer();
  int out = open(sink.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0600);
  if (out < 0)
    return absl::InternalError(absl::StrCat("cannot open ", sink, ": ", std::strerror(errno)));
  absl::Status st;
  for (uint64_t done = 0, unsynced = 0; st.ok() && done < bytes;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kBuf, (bytes - done + 4095) / 4096 * 4096));
    if (write(out, buf.get(), n) != static_cast<ssize_t>(n)) {
      st = absl::InternalError(absl::StrCat("writing ", sink, ": ", std::strerror(errno)));
    }
    done += n;
    unsynced += n;
    if (st.ok() && (unsynced >= kSyncEvery || done >= bytes)) {
      if (fdatasync(out) != 0)
        st = absl::InternalError(absl::StrCat("fdatasync ", sink, " failed"));
      unsynced = 0;
    }
  }
  close(out);
  return st;
}

}  // namespace

absl::StatusOr<double> DiskReadWhileWriting(const std::vector<std::string>& files,
                                            const std::string& sink) {
  uint64_t expected = 0;
  for (const std::string& f : files) expected += fs::file_size(f);
  auto t0 = std::chrono::steady_clock::now();
  absl::Status written;
  std::thread writer([&] { written = WriteDurably(sink, expected); });
  absl::StatusOr<uint64_t> read = ReadCold(files);
  writer.join();
  std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
  fs::remove(sink);
  RETURN_IF_ERROR(read.status());
  RETURN_IF_ERROR(written);
  if (*read != expected) {
    return absl::InternalError(absl::StrCat("read ", *read, " bytes of ", expected));
  }
  return d.count();
}

}  // namespace custody::bench
