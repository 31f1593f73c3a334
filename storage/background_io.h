// Internal to storage/: one disk operation at a time on a thread of its own.
//
// Direct I/O is synchronous: a 1 MiB write or a 4 MiB read blocks its thread for about a
// millisecond while the disk works. Done inline, that latency adds up with the sealing, hashing
// or opening of the same bytes; done here, the caller seals the next megabyte (or opens the
// previous batch) while the disk handles this one.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace serambi::storage {

class BackgroundIo {
  public:
    BackgroundIo() : thread_([this] { run(); }) {}
    ~BackgroundIo() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_all();
        thread_.join();  // a job in progress finishes first: it may be writing into our buffers
    }
    BackgroundIo(const BackgroundIo&) = delete;
    BackgroundIo& operator=(const BackgroundIo&) = delete;

    // Starts `job`; the previous one must have been waited for.
    void start(std::function<bool()> job) {
        {
            std::lock_guard lock(mutex_);
            job_ = std::move(job);
            pending_ = true;
        }
        changed_.notify_all();
    }

    // Waits for the job started last; true if it succeeded or there was none.
    bool wait() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return !pending_; });
        const bool ok = ok_;
        ok_ = true;
        return ok;
    }

  private:
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            changed_.wait(lock, [this] { return stopping_ || (pending_ && job_); });
            if (!job_) return;  // stopping with nothing to do
            auto job = std::move(job_);
            job_ = nullptr;
            lock.unlock();
            const bool ok = job();
            lock.lock();
            ok_ = ok;
            pending_ = false;
            changed_.notify_all();
        }
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    std::function<bool()> job_;
    bool pending_ = false;
    bool ok_ = true;
    bool stopping_ = false;
    std::thread thread_;  // last: it starts once every other member exists
};

}  // namespace serambi::storage
