#include "gateway/connection.h"

namespace serambi::gateway {

Awaitable<void> watchdog(std::shared_ptr<Connection> conn) {
    while (!conn->done) {
        conn->timer.expires_at(conn->deadline);
        co_await conn->timer.async_wait(use_tuple);
        if (conn->done) break;
        if (std::chrono::steady_clock::now() >= conn->deadline) {
            conn->timed_out = true;
            conn->stream.cut();
            break;
        }
    }
}

}  // namespace serambi::gateway
