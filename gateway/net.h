// Internal to gateway/: the Asio types the network layer is built on, the server log, and what
// every connection shares. No Beast here: only session.cpp includes it.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gateway/tls_stream.h"

namespace serambi::gateway {

class AuditTrail;
class ConnectionTable;
class Handler;
class RefusalBudget;
class TlsContexts;
struct Config;
struct GatewayCounters;

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
// Each worker thread runs its own io_context, so a connection's operations never cross threads:
// no strands, no polymorphic executors, no cross-thread wake-ups on the hot path.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using Timer =
    net::basic_waitable_timer<std::chrono::steady_clock, net::wait_traits<std::chrono::steady_clock>, Executor>;
using Stream = TlsStream<Socket>;
template <class T>
using Awaitable = net::awaitable<T, Executor>;
inline constexpr auto use_tuple = net::as_tuple(net::use_awaitable_t<Executor>{});

// The server log (standard error), one timestamped line at a time from any thread. Its level is
// read from the message: "warning: …" is a warning; "access log: cannot …", "cannot …" and a
// failed job are errors; the rest (requests, starts, reloads) is information.
void log_line(const std::string& line);
// As [log] in serambi.toml says: "text" or "json", and the least level written.
void configure_log(const std::string& format, const std::string& level);
// Log fields may carry bytes a client chose; keep them printable and short.
std::string printable(std::string_view text, std::size_t max = 200);

// The event streams that run until their client leaves (an auditor following the access log):
// how many are open, and whether the gateway is stopping, so that each ends with its closing
// entry in the log before the network threads stop.
class EventStreams {
  public:
    static constexpr unsigned kPerPrincipal = 2;
    static constexpr unsigned kMost = 32;
    std::atomic<bool> stopping{false};
    std::atomic<unsigned> open{0};
    // Takes a place for a stream of `principal`; false when it has its share, or all are taken.
    bool try_open(const std::string& principal) {
        std::lock_guard lock(mutex_);
        auto& mine = by_principal_[principal];
        if (mine >= kPerPrincipal || open.load() >= kMost) {
            if (mine == 0) by_principal_.erase(principal);
            return false;
        }
        ++mine;
        open.fetch_add(1);
        return true;
    }
    void close(const std::string& principal) {
        std::lock_guard lock(mutex_);
        const auto it = by_principal_.find(principal);
        if (it == by_principal_.end()) return;
        if (--it->second == 0) by_principal_.erase(it);
        open.fetch_sub(1);
    }

  private:
    std::mutex mutex_;
    std::unordered_map<std::string, unsigned> by_principal_;
};

struct Shared {
    const Config& config;
    Handler& handler;
    AuditTrail& audit;
    TlsContexts& tls;
    net::thread_pool::executor_type offload;  // routes, hashing, sealing and disk writes
    RefusalBudget& refusals;
    GatewayCounters& counters;
    // Outlives the io_contexts: sessions still suspended at shutdown are destroyed with them and
    // give their slot back as they go.
    ConnectionTable& connections;
    EventStreams& streams;
};

}  // namespace serambi::gateway
