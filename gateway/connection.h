// Internal to gateway/: one TLS connection with its deadline, the clock that judges a transfer's
// pace, and its places in the connection table. No Beast here.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>

#include "gateway/connections.h"
#include "gateway/gateway.h"
#include "gateway/net.h"

namespace serambi::gateway {

// One TLS connection and its deadline. A watchdog coroutine closes the socket once the deadline
// passes; the session moves the deadline before each step, which costs a clock read instead of a
// timer operation per TLS record.
struct Connection {
    Connection(Socket socket, std::shared_ptr<ssl::context> tls_context)
        : tls(std::move(tls_context)), stream(std::move(socket), tls->native_handle()), timer(stream.get_executor()) {}
    std::shared_ptr<ssl::context> tls;  // the context in force when the connection arrived
    Stream stream;
    Timer timer;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    bool done = false;
    bool timed_out = false;  // the watchdog cut it
    // Waiting for the next request header, with nothing of it read: the state in which the
    // connection may be closed to make room for another.
    bool idle = false;
    bool close_after_request = false;  // chosen to make room while busy
    ConnectionTable::Id slot = 0;      // its place among authenticated connections, once it has one

    void expires_after(std::chrono::seconds d) { expires_at(std::chrono::steady_clock::now() + d); }
    void expires_at(std::chrono::steady_clock::time_point when) {
        deadline = when;
        // The watchdog sleeps until the previous deadline; wake it if this one comes sooner.
        if (deadline < timer.expiry()) timer.cancel();
    }
};

// Closes the connection's socket once its deadline passes; ends when the connection is done.
Awaitable<void> watchdog(std::shared_ptr<Connection> conn);

// The deadline of each step of a body or a download: every step must progress within the I/O
// timeout, and the transfer must keep up `min_rate` bytes a second, judged over windows of four
// timeouts (each starting with one timeout's grace), so that a trickle (a byte every timeout − 1
// seconds) ends instead of pinning a slot for ever, and fast bytes early earn no lasting credit.
class TransferClock {
  public:
    explicit TransferClock(const Config& config)
        : window_start_(std::chrono::steady_clock::now()),
          step_(config.io_timeout_seconds),
          min_rate_(config.min_transfer_bytes_per_second) {}
    // `moved`: the bytes of this transfer moved so far.
    std::chrono::steady_clock::time_point next_deadline(std::uint64_t moved) {
        const auto now = std::chrono::steady_clock::now();
        if (min_rate_ == 0) return now + step_;
        if (now - window_start_ >= 4 * step_) {
            window_start_ = now;
            window_moved_ = moved;
        }
        const auto earned =
            std::min<std::uint64_t>((moved - window_moved_) / min_rate_, 4 * static_cast<std::uint64_t>(step_.count()));
        return std::min(now + step_, window_start_ + step_ + std::chrono::seconds(earned));
    }

  private:
    std::chrono::steady_clock::time_point window_start_;
    std::uint64_t window_moved_ = 0;
    std::chrono::seconds step_;
    std::uint64_t min_rate_;
};

// Holds a pending handshake's place in the table until the handshake ends, whichever way.
class PendingHandshake {
  public:
    PendingHandshake(ConnectionTable& table, ConnectionTable::Id id) : table_(table), id_(id) {}
    ~PendingHandshake() { done(); }
    PendingHandshake(const PendingHandshake&) = delete;
    PendingHandshake& operator=(const PendingHandshake&) = delete;
    void done() {
        if (id_ != 0) table_.end_handshake(id_);
        id_ = 0;
    }

  private:
    ConnectionTable& table_;
    ConnectionTable::Id id_;
};

// An authenticated connection's slot, given back when the session ends.
class ConnectionSlot {
  public:
    ConnectionSlot(ConnectionTable& table, ConnectionTable::Id id) : table_(table), id_(id) {}
    ~ConnectionSlot() {
        if (id_ != 0) table_.release(id_);
    }
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;
    void idle(bool now) {
        if (id_ != 0) table_.set_idle(id_, now);
    }

  private:
    ConnectionTable& table_;
    ConnectionTable::Id id_;
};

}  // namespace serambi::gateway
