// The offload pool's waits: a job that finishes is waited for, a job that does not is given up on
// after its patience, and a job given up on still owns what it works on until it ends.
#include "gateway/offload.h"

#include <catch2/catch.hpp>
#include <future>
#include <stdexcept>

using namespace serambi::gateway;
using namespace std::chrono_literals;

namespace {

// Runs `body` as a coroutine on `io` until it is done.
template <typename Body>
void run(net::io_context& io, Body body) {
    bool done = false;
    net::co_spawn(
        io,
        [&]() -> Awaitable<void> {
            co_await body();
            done = true;
        },
        net::detached);
    io.run();
    REQUIRE(done);
}

}  // namespace

TEST_CASE("an offloaded job is waited for, and one that throws is reported, not fatal", "[offload]") {
    net::io_context io;
    net::thread_pool pool(1);
    bool waited = false, failed = true, waited_throw = false, failed_throw = false;
    run(io, [&]() -> Awaitable<void> {
        Offload offload(io.get_executor(), pool.get_executor());
        offload.start([] {});
        waited = co_await offload.wait(10s);
        failed = offload.failed();
        offload.start([] { throw std::runtime_error("disk"); });
        waited_throw = co_await offload.wait(10s);
        failed_throw = offload.failed();
    });
    CHECK(waited);
    CHECK_FALSE(failed);
    CHECK(waited_throw);
    CHECK(failed_throw);
    pool.join();
}

TEST_CASE("a job that outlasts its patience is given up on, and frees what it owns when it ends", "[offload]") {
    net::io_context io;
    net::thread_pool pool(2);
    std::promise<void> release;
    auto released = release.get_future().share();
    auto owned = std::make_shared<std::vector<int>>(1 << 20, 7);
    std::weak_ptr<std::vector<int>> watch = owned;
    std::atomic<bool> finished{false};
    bool waited = true, waited_again = true;
    const auto started = std::chrono::steady_clock::now();
    run(io, [&]() -> Awaitable<void> {
        Offload offload(io.get_executor(), pool.get_executor());
        offload.start([data = std::move(owned), released, &finished] {
            released.wait();  // a disk that stopped answering
            (*data)[0] = 1;
            finished = true;
        });
        waited = co_await offload.wait(300ms);
        // Given up on: nothing more is started, and every later wait says so at once.
        offload.start([] { FAIL("a job started after the Offload gave up"); });
        waited_again = co_await offload.wait(10s);
    });  // the Offload is gone while its job still runs
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK_FALSE(waited);
    CHECK_FALSE(waited_again);
    CHECK(took >= 300ms);
    CHECK(took < 5s);
    CHECK_FALSE(finished);
    CHECK_FALSE(watch.expired());  // still the job's, while it runs
    release.set_value();
    pool.join();
    CHECK(finished);
    CHECK(watch.expired());  // freed when the job ended, with no one waiting for it
    io.restart();
    io.run();  // the late completion finds its shared state alive, and nothing else
}
