#include "common/process.h"

#include <malloc.h>

namespace custody {

void TuneMalloc() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  // Buffers are allocated on one thread and freed on another; few arenas
  // keep them reusable instead of stranded per thread (peak RSS of a 2 GiB
  // ingest: 247 MiB with the default, 204 MiB with 2).
  mallopt(M_ARENA_MAX, 2);
}

}  // namespace custody
