// Internal to gateway/: work that must not run on a network thread, and the waits for it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "gateway/net.h"

namespace serambi::gateway {

// How long a request waits for the disk or the database before it gives up: a part of a body
// sealed and written, a part of a payload read, a route's lookups, a package committed. Far
// beyond any healthy disk; a disk that stopped answering (a dead NFS server, a failing drive)
// gets the client a clear 503 or a closed connection instead of a wait without end.
inline constexpr std::chrono::seconds kStoragePatience{60};

// Runs one job at a time on the offload pool while the connection's coroutine goes on (reading
// the next part of a body, say), so that decrypting TLS and hashing, sealing and writing use both
// cores. The job's completion is delivered back on the connection's own thread.
//
// Contract: a job owns everything it touches (captured by value or by shared_ptr, never by
// reference to the caller's frame), so a wait that gives up leaves nothing dangling: the job
// finishes, or not, on its own, and frees what it holds.
//
// Why start() and wait() are separate calls, and there is no co_await run(job): GCC 12 destroys
// a lambda temporary inside a co_await expression twice (Asio issue 1007), which for a job
// holding shared_ptrs frees what it still uses. A job is only ever passed to start(), a plain
// call; only wait() is awaited.
class Offload {
  public:
    Offload(Executor home, net::thread_pool::executor_type pool);
    Offload(const Offload&) = delete;
    Offload& operator=(const Offload&) = delete;

    // A job that throws does not take the pool's thread (and the process) with it: failed()
    // says so once wait() has seen it finish.
    void start(std::function<void()> job);
    // Waits for the started job, at most `patience`: true when it finished (or none was
    // started); false when it did not, after which this Offload starts nothing more.
    Awaitable<bool> wait(std::chrono::steady_clock::duration patience = kStoragePatience);
    bool failed() const noexcept;

  private:
    struct State;
    std::shared_ptr<State> state_;
    net::thread_pool::executor_type pool_;
};

// Queues an access-log entry and waits, without holding a thread, until the store's group
// commit has made it durable; returns whether it is. A commit that takes longer than `patience`
// counts as failed (the caller fails closed); the entry may still be written later.
Awaitable<bool> record_audit(Shared& shared, Executor home, std::string entry,
                             std::chrono::seconds patience = std::chrono::seconds(60));

}  // namespace serambi::gateway
