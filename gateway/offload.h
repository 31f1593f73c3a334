// Internal to gateway/: work that must not run on a network thread, and the waits for it.
#pragma once

#include <functional>
#include <string>

#include "gateway/net.h"

namespace serambi::gateway {

// Runs one job at a time on the offload pool while the connection's coroutine goes on (reading
// the next part of a body, say), so that decrypting TLS and hashing, sealing and writing use both
// cores. The job's completion is delivered back on the connection's own thread.
//
// Contract: whoever starts a job must co_await wait() before the Offload is destroyed; the job
// works on the caller's buffers, so it cannot be abandoned part-way.
class Offload {
  public:
    Offload(Executor home, net::thread_pool::executor_type pool) : home_(home), pool_(pool), timer_(home) {}
    Offload(const Offload&) = delete;
    Offload& operator=(const Offload&) = delete;

    bool busy() const noexcept { return busy_; }
    // A job that throws does not take the pool's thread (and the process) with it: failed()
    // says so once wait() returns, and the caller answers with an error.
    void start(std::function<void()> job);
    Awaitable<void> wait();
    bool failed() const noexcept { return failed_; }

  private:
    Executor home_;
    net::thread_pool::executor_type pool_;
    Timer timer_;
    bool busy_ = false;
    bool done_ = false;
    bool failed_ = false;  // written by the pool before its completion is posted home
};

// Runs `job` on the offload pool and waits for it without holding the calling thread; false if
// the job threw.
Awaitable<bool> run_offloaded(Executor home, net::thread_pool::executor_type pool, std::function<void()> job);

// Queues an access-log entry and waits, without holding a thread, until the store's group
// commit has made it durable; returns whether it is. A commit that takes longer than `patience`
// counts as failed (the caller fails closed); the entry may still be written later.
Awaitable<bool> record_audit(Shared& shared, Executor home, std::string entry,
                             std::chrono::seconds patience = std::chrono::seconds(60));

}  // namespace serambi::gateway
