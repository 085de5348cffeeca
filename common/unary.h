// Running a unary callback RPC's work on a worker pool.
#ifndef CUSTODY_COMMON_UNARY_H_
#define CUSTODY_COMMON_UNARY_H_

#include <grpcpp/grpcpp.h>

#include "common/grpc_status.h"
#include "common/thread_pool.h"

namespace custody {

// Runs `work(finish)` on `pool`; `work` calls `finish(status)` exactly once,
// then or later from another thread (e.g. a committer callback), so a call
// waiting for the disk holds no worker.
template <typename Work>
grpc::ServerUnaryReactor* RunUnaryAsync(grpc::CallbackServerContext* ctx, ThreadPool* pool,
                                        Work work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  pool->Schedule([reactor, work = std::move(work)]() mutable {
    work([reactor](const absl::Status& s) { reactor->Finish(ToGrpcStatus(s)); });
  });
  return reactor;
}

// Runs `work` (returning absl::Status) on `pool`, never on a gRPC thread,
// and finishes the call with its status.
template <typename Work>
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* ctx, ThreadPool* pool, Work work) {
  return RunUnaryAsync(ctx, pool,
                       [work = std::move(work)](auto finish) mutable { finish(work()); });
}

}  // namespace custody

#endif  // CUSTODY_COMMON_UNARY_H_
