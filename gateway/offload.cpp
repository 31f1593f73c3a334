#include "gateway/offload.h"

#include <memory>

#include "gateway/handler.h"

namespace serambi::gateway {

void Offload::start(std::function<void()> job) {
    busy_ = true;
    done_ = false;
    failed_ = false;
    timer_.expires_at(Timer::time_point::max());
    net::post(pool_, [this, job = std::move(job)] {
        try {
            job();
        } catch (const std::exception& e) {
            log_line(std::string("offloaded job failed: ") + e.what());
            failed_ = true;
        } catch (...) {
            log_line("offloaded job failed");
            failed_ = true;
        }
        net::post(home_, [this] {
            done_ = true;
            timer_.cancel();
        });
    });
}

Awaitable<void> Offload::wait() {
    while (busy_ && !done_) co_await timer_.async_wait(use_tuple);
    busy_ = false;
}

Awaitable<bool> run_offloaded(Executor home, net::thread_pool::executor_type pool, std::function<void()> job) {
    Offload offload(home, pool);
    offload.start(std::move(job));
    co_await offload.wait();
    co_return !offload.failed();
}

Awaitable<bool> record_audit(Shared& shared, Executor home, std::string entry, std::chrono::seconds patience) {
    // Shared with the store's completion, which may come after this coroutine has given up
    // waiting; it is only ever touched on `home`.
    struct Wait {
        explicit Wait(Executor e) : signal(e) {}
        Timer signal;
        bool finished = false;
        Result<std::uint64_t> recorded = std::uint64_t{0};
    };
    auto wait = std::make_shared<Wait>(home);
    wait->signal.expires_after(patience);
    shared.audit.record_async(std::move(entry), [wait, home](Result<std::uint64_t> result) {
        net::post(home, [wait, result = std::move(result)]() mutable {
            wait->recorded = std::move(result);
            wait->finished = true;
            wait->signal.cancel();
        });
    });
    while (!wait->finished) {
        auto [ec] = co_await wait->signal.async_wait(use_tuple);
        if (!ec && !wait->finished) {
            log_line("access log: an entry was not durable after " + std::to_string(patience.count()) +
                     " s; the request is refused");
            co_return false;
        }
    }
    if (!wait->recorded) log_line("access log: cannot write an entry: " + wait->recorded.error().message);
    co_return wait->recorded.ok();
}

}  // namespace serambi::gateway
