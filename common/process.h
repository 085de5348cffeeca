// Process-wide settings every custody binary applies at start.
#ifndef CUSTODY_COMMON_PROCESS_H_
#define CUSTODY_COMMON_PROCESS_H_

namespace custody {

// Keeps freed buffers (1 MiB messages, 4 MiB chunks) in the heap instead of
// returning them to the kernel: on machines that reclaim idle memory, each
// fresh page costs a fault, and re-faulting every buffer halved throughput.
// Memory stays bounded by the program's own limits.
void TuneMalloc();

}  // namespace custody

#endif  // CUSTODY_COMMON_PROCESS_H_
