// custody_micro_bench: Google Benchmark micro-benchmarks of the node's two
// hot paths while ingesting:
//   * SHA-256 of chunk-sized buffers (custody::Digest::Of, custody::Sha256);
//   * the volume FileWriter (io_uring vs pwrite, O_DIRECT vs buffered),
//     writing groups of 4 MiB entries each followed by the fdatasync that
//     WriteAndSync does, as the Committer does for one group commit.
// The writer benchmarks append to a scratch file in $CUSTODY_BENCH_DIR
// (default ./bench-tmp; keep it off tmpfs, which refuses O_DIRECT).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "server/storage/file_writer.h"
#include "server/storage/volume_format.h"

namespace custody {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kChunkBytes = 4 * kMiB;
// Bytes one chunk entry takes in a volume: header, payload, padding.
const uint64_t kEntryBytes = EntryHeader::Span(kChunkBytes);
// The scratch file is truncated once the next group would pass this.
constexpr uint64_t kMaxFileBytes = uint64_t{512} * kMiB;

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<char, FreeDeleter>;

// A kAlign-aligned buffer of `n` bytes (rounded up), filled with a
// non-zero pattern so every page is touched before timing starts.
AlignedBuffer TouchedBuffer(size_t n) {
  size_t size = AlignUp(n);
  AlignedBuffer buf(static_cast<char*>(std::aligned_alloc(kAlign, size)));
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < size; i += sizeof(x)) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(buf.get() + i, &x, sizeof(x));
  }
  return buf;
}

// ---------------------------------------------------------------- SHA-256

void BM_DigestOf(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  AlignedBuffer buf = TouchedBuffer(n);
  const absl::string_view data(buf.get(), n);
  for (auto _ : state) {
    Digest d = Digest::Of(data);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_DigestOf)->Arg(1 * kMiB)->Arg(4 * kMiB)->Unit(benchmark::kMicrosecond);

// One 4 MiB chunk hashed incrementally in pieces of range(0) bytes (1 MiB
// is the size of an upload message), as the node hashes what it receives.
void BM_Sha256Chunk(benchmark::State& state) {
  const size_t piece = static_cast<size_t>(state.range(0));
  AlignedBuffer buf = TouchedBuffer(kChunkBytes);
  for (auto _ : state) {
    Sha256 h;
    for (size_t off = 0; off < kChunkBytes; off += piece) h.Update(buf.get() + off, piece);
    Digest d = h.Finish();
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunkBytes));
}
BENCHMARK(BM_Sha256Chunk)->Arg(1 * kMiB)->Arg(4 * kMiB)->Unit(benchmark::kMicrosecond);

// ------------------------------------------------------------- FileWriter

enum class Backend { kUring, kPwrite };
enum class Layout {
  kOneOp,       // the whole group in one contiguous write (the Committer's way)
  kOpPerEntry,  // one WriteOp per entry
};

struct WriterCase {
  Backend backend;
  bool direct;
  Layout layout;
  int entries;
};

std::string BenchDir() {
  const char* env = std::getenv("CUSTODY_BENCH_DIR");
  return env != nullptr && *env != '\0' ? env : "./bench-tmp";
}

absl::StatusOr<std::unique_ptr<FileWriter>> MakeWriter(Backend b) {
  if (b == Backend::kPwrite) return NewPwriteFileWriter();
  return NewUringFileWriter(64);
}

// The group's ops for the group starting at `start`.
std::vector<WriteOp> GroupOps(int fd, char* buf, const WriterCase& c, uint64_t start) {
  const uint64_t group = kEntryBytes * static_cast<uint64_t>(c.entries);
  if (c.layout == Layout::kOneOp) return {WriteOp{fd, start, {{buf, group}}}};
  std::vector<WriteOp> ops;
  for (int i = 0; i < c.entries; ++i) {
    const uint64_t off = kEntryBytes * static_cast<uint64_t>(i);
    ops.push_back(WriteOp{fd, start + off, {{buf + off, kEntryBytes}}});
  }
  return ops;
}

// Drops the file's blocks outside the timing, so that every timed group is
// a true append to fresh blocks, as in a volume; syncs the truncation.
bool Restart(int fd, uint64_t* end) {
  *end = kFirstEntryOffset;
  return ftruncate(fd, 0) == 0 && fsync(fd) == 0;
}

// Opens the scratch volume; the returned path is unlinked by the caller.
int OpenScratch(bool direct, std::string* path) {
  std::error_code ec;
  std::filesystem::create_directories(BenchDir(), ec);
  *path = absl::StrCat(BenchDir(), "/micro-", getpid(), ".vol");
  int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (direct ? O_DIRECT : 0);
  return open(path->c_str(), flags, 0644);
}

void BM_FileWriter(benchmark::State& state, WriterCase c) {
  absl::StatusOr<std::unique_ptr<FileWriter>> writer = MakeWriter(c.backend);
  std::string path;
  const int fd = OpenScratch(c.direct, &path);
  if (!writer.ok() || fd < 0) {
    std::string why = !writer.ok() ? writer.status().ToString()
                                   : absl::StrCat("open ", path, ": ", std::strerror(errno));
    state.SkipWithError(why.c_str());
    return;
  }
  const uint64_t group = kEntryBytes * static_cast<uint64_t>(c.entries);
  AlignedBuffer buf = TouchedBuffer(group);
  const int sync_fds[] = {fd};
  uint64_t end = kFirstEntryOffset;
  // One untimed group warms the ring, the file system and the device.
  absl::Status s = (*writer)->WriteAndSync(GroupOps(fd, buf.get(), c, end), sync_fds);
  if (s.ok() && !Restart(fd, &end)) s = absl::InternalError("truncating the scratch file");
  for (auto _ : state) {
    if (!s.ok()) break;
    if (end + group > kMaxFileBytes) {
      state.PauseTiming();
      if (!Restart(fd, &end)) s = absl::InternalError("truncating the scratch file");
      state.ResumeTiming();
    }
    if (s.ok()) s = (*writer)->WriteAndSync(GroupOps(fd, buf.get(), c, end), sync_fds);
    end += group;
  }
  if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * group));
  state.counters["entries"] = c.entries;
  close(fd);
  unlink(path.c_str());
}

std::string CaseName(const WriterCase& c) {
  return absl::StrCat("BM_FileWriter/", c.backend == Backend::kUring ? "io_uring" : "pwrite",
                      c.direct ? "/direct" : "/buffered",
                      c.layout == Layout::kOneOp ? "/one_op" : "/op_per_entry",
                      "/entries:", c.entries);
}

void RegisterFileWriterBenchmarks() {
  for (Backend b : {Backend::kUring, Backend::kPwrite}) {
    for (bool direct : {true, false}) {
      for (int entries : {1, 4, 16}) {
        for (Layout layout : {Layout::kOneOp, Layout::kOpPerEntry}) {
          // With one entry both layouts are the same single write.
          if (entries == 1 && layout == Layout::kOpPerEntry) continue;
          WriterCase c{b, direct, layout, entries};
          benchmark::RegisterBenchmark(CaseName(c).c_str(), BM_FileWriter, c)
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
        }
      }
    }
  }
}

}  // namespace
}  // namespace custody

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  custody::RegisterFileWriterBenchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
