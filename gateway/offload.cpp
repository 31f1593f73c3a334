#include "gateway/offload.h"

#include <atomic>
#include <memory>

#include "gateway/handler.h"

namespace serambi::gateway {

// Shared by the Offload and its job's completion, which may arrive after the Offload is gone;
// touched only on `home`, except `failed`, which the pool writes before it posts the completion.
struct Offload::State {
    explicit State(Executor executor) : home(executor), timer(executor) {}
    Executor home;
    Timer timer;
    bool busy = false;
    bool done = false;
    bool abandoned = false;  // a wait gave up on the job
    std::atomic<bool> failed{false};
};

Offload::Offload(Executor home, net::thread_pool::executor_type pool)
    : state_(std::make_shared<State>(home)), pool_(pool) {}

bool Offload::failed() const noexcept { return state_->failed.load(); }

void Offload::start(std::function<void()> job) {
    auto& state = *state_;
    if (state.abandoned) return;  // the caller was told; nothing new goes after a stuck job
    state.busy = true;
    state.done = false;
    state.failed = false;
    net::post(pool_, [state = state_, job = std::move(job)] {
        try {
            job();
        } catch (const std::exception& e) {
            log_line(std::string("offloaded job failed: ") + e.what());
            state->failed = true;
        } catch (...) {
            log_line("offloaded job failed");
            state->failed = true;
        }
        net::post(state->home, [state] {
            state->done = true;
            state->timer.cancel();
        });
    });
}

Awaitable<bool> Offload::wait(std::chrono::steady_clock::duration patience) {
    auto state = state_;
    if (state->abandoned) co_return false;
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (state->busy && !state->done) {
        state->timer.expires_at(deadline);
        co_await state->timer.async_wait(use_tuple);
        if (!state->done && std::chrono::steady_clock::now() >= deadline) {
            state->abandoned = true;
            co_return false;
        }
    }
    state->busy = false;
    co_return true;
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
