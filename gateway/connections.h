// Internal: who holds the gateway's connections, so that nobody can hold them all.
//
// Two pools. A connection still in its TLS handshake has proved nothing, so it takes no slot:
// handshakes are bounded in all and per network (an IPv4 /24, an IPv6 /64, since one host
// commands a whole /64), and when a bound is reached the oldest pending handshake there is
// closed to make room. A real client finishes its handshake in milliseconds, so idle sockets,
// from however many addresses, only push each other out. A connection that authenticated takes a slot, bounded in all
// and per principal; when a bound is reached, the connection idle the longest (waiting for its next request) is closed
// to make room, so idle keep-alive connections can never lock anyone out. Only when every connection is busy is the
// newcomer refused.
//
// No Beast here: connections are named by an id and closed through a callback.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace serambi::gateway {

class ConnectionTable {
  public:
    struct Limits {
        unsigned max_connections = 1000;
        unsigned per_principal = 64;
        unsigned max_pending = 256;
        unsigned pending_per_address = 16;
    };
    explicit ConnectionTable(Limits limits) : limits_(limits) {}

    // Before the handshake. `close` is called (under no lock of ours) if this handshake is
    // later chosen to make room. end_handshake() takes the returned id.
    using Id = std::uint64_t;
    Id begin_handshake(const std::string& address, std::function<void()> close);
    void end_handshake(Id id);
    // The network an address counts against: "192.0.2" for 192.0.2.7, the first four groups
    // of an IPv6 address, the IPv4 form of an IPv4-mapped one.
    static std::string network_of(const std::string& address);

    // After authentication. `close_if_idle` is called (at most once, under no lock of ours) to
    // close a connection chosen to make room; it must close it only if it is still idle, and
    // otherwise close it after the request under way.
    enum class Admit { ok, full, principal_full };
    struct Admission {
        Admit result = Admit::ok;
        Id id = 0;  // 0 when refused
    };
    Admission admit(const std::string& principal, std::function<void()> close_if_idle);
    void set_idle(Id id, bool idle);
    // The connection chosen to make room was busy after all: it counts again until it closes.
    void reinstate(Id id);
    void release(Id id);

    // For /metrics.
    unsigned established() const;
    unsigned pending() const;
    std::uint64_t evicted() const noexcept { return evicted_.load(std::memory_order_relaxed); }
    std::uint64_t refused_busy() const noexcept { return refused_busy_.load(std::memory_order_relaxed); }
    // Pending handshakes closed to make room for newer ones.
    std::uint64_t refused_pending() const noexcept { return refused_pending_.load(std::memory_order_relaxed); }

  private:
    struct Entry {
        std::string principal;
        bool idle = false;
        bool evicting = false;  // chosen to make room: never chosen twice, never counted as room again
        std::chrono::steady_clock::time_point idle_since{};
        std::function<void()> close_if_idle;
    };
    // The longest-idle connection not already being closed, of `principal` (or of anyone, if
    // empty); nullptr when there is none.
    Entry* oldest_idle_locked(const std::string& principal);

    struct PendingEntry {
        std::string network;
        std::function<void()> close;
    };
    // The oldest pending handshake (of `network`, or of any if empty): ids grow with time.
    std::map<Id, PendingEntry>::iterator oldest_pending_locked(const std::string& network);

    const Limits limits_;
    mutable std::mutex mutex_;
    std::map<Id, PendingEntry> pending_;  // ordered by age
    std::unordered_map<std::string, unsigned> pending_by_network_;
    std::unordered_map<Id, Entry> established_;
    unsigned live_ = 0;  // established connections not chosen to make room
    // Counts only live connections, as live_ does.
    std::unordered_map<std::string, unsigned> by_principal_;
    Id next_id_ = 1;
    std::atomic<std::uint64_t> evicted_{0};
    std::atomic<std::uint64_t> refused_busy_{0};
    std::atomic<std::uint64_t> refused_pending_{0};
};

}  // namespace serambi::gateway
