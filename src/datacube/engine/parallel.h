// "Run N tasks, keep the first error": the one helper every parallel loop of the engine and the
// transfer layer uses, on a pool of its own or on a pool the caller already has.
#pragma once

#include <cstddef>
#include <functional>
#include <stop_token>

#include "datacube/base/status.h"
#include "datacube/engine/thread_pool.h"

namespace datacube::engine {

// Runs fn(0) ... fn(n-1) on `pool` and waits for all of them (other work on the pool is not
// waited for). Returns OK or the first error in completion order; every task runs even after
// one failed, so callers see a consistent state. `pool` must not be the caller's own pool when
// called from one of its tasks (it could wait for itself).
Status RunAll(ThreadPool& pool, size_t n, const std::function<Status(size_t)>& fn);

// The same on a pool of min(jobs, n) threads made for the call, whose workers run under `stop`.
Status ParallelFor(size_t n, size_t jobs, std::stop_token stop,
                   const std::function<Status(size_t)>& fn);

}  // namespace datacube::engine
