// The network layer: mutual TLS, HTTP/1.1 framing, deadlines and limits. It only moves bytes;
// every decision is the Handler's. This is the one translation unit of the gateway that includes
// Boost.Beast, to keep builds bearable.
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "gateway/handler.h"
#include "gateway/startup.h"
#include "gateway/tls_stream.h"

namespace serambi::gateway {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
// Each worker thread runs its own io_context, so a connection's operations never cross threads:
// no strands, no polymorphic executors, no cross-thread wake-ups on the hot path.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;
using Stream = TlsStream<Socket>;
template <class T>
using Awaitable = net::awaitable<T, Executor>;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable_t<Executor>{});
constexpr std::size_t kIoBufferBytes = 256 * 1024;
constexpr std::size_t kDownloadPartBytes = 1024 * 1024;
// Each part of an upload is one hand-over to the offload pool, and each hand-over wakes a thread:
// large parts keep that cost small next to the hashing and sealing of the part.
constexpr std::size_t kUploadPartBytes = 1024 * 1024;

std::mutex log_mutex;

// Log fields may carry bytes a client chose; keep them printable and short.
std::string printable(std::string_view text, std::size_t max = 200) {
    std::string out;
    for (const char c : text.substr(0, max))
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

void log_line(const std::string& line) {
    std::lock_guard lock(log_mutex);
    std::cerr << utc_now() << " " << line << std::endl;
}

// A refused handshake costs its sender nothing, so its entries are budgeted per minute: beyond
// the budget they are counted, and each minute's count is recorded as one entry, so that a flood
// can neither fill the disk nor go unrecorded.
// A tenth of the budget is the most one remote address may use, so that one flooding address
// cannot turn another's refusal, say a revoked certificate's, into an anonymous count.
class RefusalBudget {
public:
    explicit RefusalBudget(unsigned per_minute) : per_minute_(per_minute) {}
    // True when this refusal gets an entry of its own; otherwise it has been counted.
    bool admit(const std::string& address) {
        std::lock_guard lock(mutex_);
        roll_locked();
        if (used_ < per_minute_ && used_by_.size() < 4096) {
            auto& mine = used_by_[address];
            if (mine < std::max(1U, per_minute_ / 10)) {
                ++mine;
                ++used_;
                return true;
            }
        }
        ++counted_;
        return false;
    }
    // The refusals counted in minutes that have ended (all of them when `all`); give_back()
    // returns them when they could not be recorded, so that they are recorded later rather than
    // never.
    std::uint64_t take_counted(bool all = false) {
        std::lock_guard lock(mutex_);
        roll_locked();
        if (all) ready_ += std::exchange(counted_, 0);
        return std::exchange(ready_, 0);
    }
    void give_back(std::uint64_t n) {
        std::lock_guard lock(mutex_);
        ready_ += n;
    }
    unsigned per_minute() const noexcept { return per_minute_; }

private:
    void roll_locked() {
        const auto minute = std::chrono::duration_cast<std::chrono::minutes>(
                                std::chrono::steady_clock::now().time_since_epoch()).count();
        if (minute == window_) return;
        window_ = minute;
        used_ = 0;
        used_by_.clear();
        ready_ += std::exchange(counted_, 0);
    }
    const unsigned per_minute_;
    std::mutex mutex_;
    std::int64_t window_ = -1;
    unsigned used_ = 0;
    std::unordered_map<std::string, unsigned> used_by_;
    std::uint64_t counted_ = 0;  // in the current minute
    std::uint64_t ready_ = 0;    // from minutes that have ended, not yet recorded
};

void record_counted_refusals(AuditTrail& audit, RefusalBudget& budget, GatewayCounters& counters, bool all = false) {
    const auto counted = budget.take_counted(all);
    if (counted == 0) return;
    if (auto index = audit.record(AuditTrail::refused_count_entry(counted, budget.per_minute())); !index) {
        budget.give_back(counted);
        log_line("access log: cannot record " + std::to_string(counted) + " refused handshakes yet: " + index.error().message);
        return;
    }
    counters.handshakes_counted.fetch_add(counted, std::memory_order_relaxed);
}

// The TLS context new connections get. A reload (SIGHUP) puts a new one in place; connections
// already open keep theirs, so none is dropped.
class TlsContexts {
public:
    explicit TlsContexts(std::shared_ptr<ssl::context> first) : current_(std::move(first)) {}
    std::shared_ptr<ssl::context> get() const {
        std::lock_guard lock(mutex_);
        return current_;
    }
    void set(std::shared_ptr<ssl::context> next) {
        std::lock_guard lock(mutex_);
        current_ = std::move(next);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<ssl::context> current_;
};

struct Shared {
    const Config& config;
    Handler& handler;
    AuditTrail& audit;
    TlsContexts& tls;
    net::thread_pool::executor_type offload;  // hashing, sealing and disk writes of uploads
    RefusalBudget& refusals;
    GatewayCounters& counters;
    // Outlives the io_contexts: sessions still suspended at shutdown are destroyed with them and
    // give their slot back as they go.
    ConnectionTable& connections;
};

// Runs one job at a time on the offload pool while the connection's coroutine goes on reading
// the next part of the body, so that decrypting TLS and hashing/sealing/writing use both cores.
// The job's completion is delivered back on the connection's own thread.
//
// Contract: whoever starts a job must co_await wait() before the Offload is destroyed.
class Offload {
public:
    Offload(Executor home, net::thread_pool::executor_type pool)
        : home_(home), pool_(pool), timer_(home) {}
    Offload(const Offload&) = delete;
    Offload& operator=(const Offload&) = delete;

    bool busy() const noexcept { return busy_; }

    // A job that throws does not take the pool's thread (and the process) with it: failed()
    // says so once wait() returns, and the caller answers with an error.
    void start(std::function<void()> job) {
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

    Awaitable<void> wait() {
        while (busy_ && !done_) co_await timer_.async_wait(use_tuple);
        busy_ = false;
    }
    bool failed() const noexcept { return failed_; }

private:
    Executor home_;
    net::thread_pool::executor_type pool_;
    Timer timer_;
    bool busy_ = false;
    bool done_ = false;
    bool failed_ = false;  // written by the pool before its completion is posted home
};

// Queues an access-log entry and waits, without holding a thread, until the store's group
// commit has made it durable; returns whether it is.
//
// The completion is posted back to this connection's thread. serve() flushes the log before
// the io_contexts go, so a completion never targets a destroyed one.
Awaitable<bool> record_audit(Shared& shared, Executor home, std::string entry) {
    Timer signal(home);
    signal.expires_at(Timer::time_point::max());
    bool finished = false;
    Result<std::uint64_t> recorded = std::uint64_t{0};
    shared.audit.record_async(std::move(entry), [&, home](Result<std::uint64_t> result) {
        net::post(home, [&, result = std::move(result)]() mutable {
            recorded = std::move(result);
            finished = true;
            signal.cancel();
        });
    });
    while (!finished) co_await signal.async_wait(use_tuple);
    if (!recorded) log_line("access log: cannot write an entry: " + recorded.error().message);
    co_return recorded.ok();
}

// The subject of the certificate a refused peer presented, if it presented one.
// The subject and serial of the client certificate the verify callback saw, kept on the SSL
// object: OpenSSL does not keep a certificate it refused, and the access log wants to name it.
void free_seen_certificate(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<std::string*>(ptr); }
int seen_certificate_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_seen_certificate);
    return index;
}

std::string refused_subject(SSL* ssl) {
    if (X509* peer = SSL_get0_peer_certificate(ssl)) {
        char buffer[512];
        X509_NAME_oneline(X509_get_subject_name(peer), buffer, sizeof buffer);
        return buffer;
    }
    const auto* seen = static_cast<const std::string*>(SSL_get_ex_data(ssl, seen_certificate_index()));
    return seen != nullptr ? *seen : "";
}

// Why a handshake failed, with the certificate check's own words when that was the cause.
std::string refusal_reason(SSL* ssl, const boost::system::error_code& ec) {
    const long result = SSL_get_verify_result(ssl);
    return result == X509_V_OK ? ec.message() : ec.message() + ": " + X509_verify_cert_error_string(result);
}

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

// The deadline of each step of a body or a download: every step must progress within the I/O
// timeout, and the transfer must keep up `min_rate` bytes a second, judged over windows of four
// timeouts (each starting with one timeout's grace), so that a trickle (a byte every timeout − 1
// seconds) ends instead of pinning a slot for ever, and fast bytes early earn no lasting credit.
class TransferClock {
public:
    explicit TransferClock(const Config& config)
        : window_start_(std::chrono::steady_clock::now()), step_(config.io_timeout_seconds),
          min_rate_(config.min_transfer_bytes_per_second) {}
    // `moved`: the bytes of this transfer moved so far.
    std::chrono::steady_clock::time_point next_deadline(std::uint64_t moved) {
        const auto now = std::chrono::steady_clock::now();
        if (min_rate_ == 0) return now + step_;
        if (now - window_start_ >= 4 * step_) {
            window_start_ = now;
            window_moved_ = moved;
        }
        const auto earned = std::min<std::uint64_t>((moved - window_moved_) / min_rate_, 4 * static_cast<std::uint64_t>(step_.count()));
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

void identify_peer(Stream& stream, RequestHead& head) {
    X509* peer = SSL_get0_peer_certificate(stream.native_handle());
    if (peer == nullptr) return;
    unsigned char* der = nullptr;
    const int len = i2d_X509(peer, &der);
    if (len <= 0) return;
    auto info = certs::inspect_der({der, static_cast<std::size_t>(len)});
    OPENSSL_free(der);
    if (!info) return;
    head.cert_principal_id = info->principal_id.empty() ? info->common_name : info->principal_id;
    head.cert_serial = info->serial_hex;
    head.cert_fingerprint = info->fingerprint_sha256_hex;
}

template <class Message>
void apply_headers(Message& message, const Response& response, const std::string& request_id,
                   bool keep_alive) {
    for (const auto& [k, v] : response.headers) message.set(k, v);
    message.set(http::field::server, "serambi");
    message.set("Serambi-Request-Id", request_id);
    message.set("X-Content-Type-Options", "nosniff");
    message.keep_alive(keep_alive);
}

// How much of a streamed payload reached the socket, and why it stopped short if it did.
struct Delivery {
    std::uint64_t sent = 0;
    std::string failure;
};

// Writes a response; returns false when the connection is no longer usable. For a streamed
// payload, `delivery` (when given) learns how much of it was written.
Awaitable<bool> write_response(Connection& conn, Shared& shared, Response& response,
                                const std::string& request_id, unsigned version, bool keep_alive,
                                std::vector<std::uint8_t>& io, Delivery* delivery = nullptr) {
    Delivery ignored_delivery;
    if (delivery == nullptr) delivery = &ignored_delivery;
    auto& stream = conn.stream;
    const auto io_timeout = std::chrono::seconds(shared.config.io_timeout_seconds);
    if (!response.payload) {
        http::response<http::string_body> res{static_cast<http::status>(response.status), version};
        apply_headers(res, response, request_id, keep_alive);
        res.body() = std::move(response.body);
        res.prepare_payload();
        conn.expires_after(io_timeout);
        auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
        co_return !ec && keep_alive;
    }

    // Read ahead before committing to a status, so a payload that fails authentication at its
    // start becomes a clean error instead of a truncated 200.
    std::uint64_t remaining = response.payload_length;
    if (io.size() < kIoBufferBytes) io.resize(kIoBufferBytes);
    auto first = response.payload->read(io);
    if (!first || (*first == 0 && remaining > 0)) {
        log_line("request " + request_id + ": payload unreadable: " +
                 (first ? std::string("empty") : first.error().message));
        delivery->failure = "the payload could not be read, so an error was answered instead: " +
                            (first ? std::string("empty") : first.error().message);
        Response failure = problem_of(first ? make_error(ErrorKind::corruption, "short payload")
                                            : first.error(),
                                      request_id);
        failure.payload.reset();
        co_return co_await write_response(conn, shared, failure, request_id, version, false, io);
    }
    // The head goes through Beast; the body is written straight to the TLS stream, which costs
    // less per record than a buffer_body serializer.
    http::response<http::empty_body> res{static_cast<http::status>(response.status), version};
    apply_headers(res, response, request_id, keep_alive);
    res.content_length(response.payload_length);
    conn.expires_after(io_timeout);
    if (auto [ec, n] = co_await http::async_write(stream, res, use_tuple); ec) {
        delivery->failure = "the connection failed before the payload: " + ec.message();
        co_return false;
    }
    std::size_t filled = *first;
    // While one part is encrypted and sent, the next is read and opened on the offload pool.
    // Larger parts than the connection's buffer: each part costs one disk read on the pool.
    std::vector<std::uint8_t> ahead(kDownloadPartBytes);
    io.resize(kDownloadPartBytes);
    Offload offload(stream.get_executor(), shared.offload);
    PayloadSource* source = response.payload.get();
    TransferClock clock(shared.config);
    for (;;) {
        remaining -= filled;
        Result<std::size_t> next = std::size_t{0};
        if (remaining > 0) offload.start([source, &next, &ahead] { next = source->read(ahead); });
        // Written as the socket takes it, the deadline moved at each write, so that a slow but
        // steady reader is judged by its rate, not by the size of a part.
        boost::system::error_code ec;
        for (std::size_t written = 0; written < filled;) {
            conn.expires_at(clock.next_deadline(delivery->sent));
            auto [wec, wn] = co_await stream.async_write_some(net::buffer(io.data() + written, filled - written), use_tuple);
            written += wn;
            delivery->sent += wn;
            if (wec) {
                ec = wec;
                break;
            }
        }
        co_await offload.wait();
        if (offload.failed()) next = make_error(ErrorKind::internal, "reading the payload failed");
        if (ec) {
            delivery->failure = conn.timed_out ? "the reader took less than the gateway's minimum rate, or stalled"
                                               : "the connection failed: " + ec.message();
            co_return false;
        }
        if (remaining == 0) break;
        if (!next || *next == 0) {
            // Headers are gone: the only honest signal left is to cut the connection short.
            log_line("request " + request_id + ": payload failed mid-stream: " +
                     (next ? std::string("short read") : next.error().message));
            delivery->failure = "the payload could not be read: " + (next ? std::string("short read") : next.error().message);
            conn.stream.cut();  // no close_notify: the client must not take this for a clean end
            co_return false;
        }
        std::swap(io, ahead);
        filled = *next;
    }
    co_return keep_alive;
}

// Lingering close: after refusing a request whose body was not read, read and discard what the
// client is still sending for a short, bounded while, so that it reads our answer instead of
// having its upload cut by a reset.
Awaitable<void> drain(Connection& conn, std::vector<std::uint8_t>& io) {
    constexpr std::size_t kLingerBytes = 16 << 20;
    conn.expires_after(std::chrono::seconds(2));
    if (io.size() < kIoBufferBytes) io.resize(kIoBufferBytes);
    for (std::size_t total = 0; total < kLingerBytes;) {
        auto [ec, n] = co_await conn.stream.async_read_some(net::buffer(io), use_tuple);
        if (ec) break;
        total += n;
    }
}

Awaitable<void> session(Shared& shared, Socket socket, std::string address) {
    const auto& config = shared.config;
    boost::system::error_code ignored;
    const auto endpoint = socket.remote_endpoint(ignored);
    const std::string remote = address + ":" + std::to_string(endpoint.port());
    auto shared_conn = std::make_shared<Connection>(std::move(socket), shared.tls.get());
    Connection& conn = *shared_conn;
    auto& stream = conn.stream;
    const std::weak_ptr<Connection> weak = shared_conn;
    // Closing a connection to make room happens on the connection's own thread.
    auto on_own_thread = [weak, executor = stream.get_executor()](auto action) {
        return [weak, executor, action] {
            net::post(executor, [weak, action] {
                if (auto c = weak.lock()) action(*c);
            });
        };
    };
    // An unauthenticated socket costs only its share of the pending-handshake bounds, and the
    // oldest pending one gives way when they are reached.
    PendingHandshake handshaking(shared.connections,
                                 shared.connections.begin_handshake(address, on_own_thread([](Connection& c) { c.stream.cut(); })));
    struct StopWatchdog {
        Connection& c;
        ~StopWatchdog() {
            c.done = true;
            c.timer.cancel();
        }
    } stop_watchdog{conn};

    conn.expires_after(std::chrono::seconds(config.handshake_timeout_seconds));
    net::co_spawn(stream.get_executor(), watchdog(shared_conn), net::detached);
    if (auto [ec, n] = co_await stream.async_handshake(use_tuple); ec) {
        handshaking.done();
        // The verifier's reason (expired, not yet valid, revoked…) is what the operator needs.
        log_line("handshake refused from " + remote + ": " + printable(refusal_reason(stream.native_handle(), ec)));
        shared.counters.handshakes_refused.fetch_add(1, std::memory_order_relaxed);
        // Recorded too: auditors see who knocked. Nothing was granted, so a failure to record
        // changes nothing for the peer.
        if (shared.refusals.admit(address))
            co_await record_audit(shared, stream.get_executor(),
                                  AuditTrail::refused_entry(remote, refused_subject(stream.native_handle()),
                                                            refusal_reason(stream.native_handle(), ec)));
        co_return;
    }
    stream.handshake_done();
    RequestHead identity;
    identify_peer(stream, identity);

    // A slot is spent only now that the peer is authenticated. Making room closes another
    // connection on its own thread if it is idle; a busy one finishes its request, and counts
    // again until it has closed.
    auto& table = shared.connections;
    const auto admission = table.admit(identity.cert_principal_id, on_own_thread([&table](Connection& c) {
                                           c.close_after_request = true;
                                           if (c.idle) c.stream.cut();
                                           else table.reinstate(c.slot);
                                       }));
    conn.slot = admission.id;
    ConnectionSlot slot(shared.connections, admission.id);
    // Refused, it stays among the pending handshakes until it has had its 503: bounded there,
    // and the first to give way.
    if (admission.result == ConnectionTable::Admit::ok) handshaking.done();
    else
        log_line("connection from " + remote + " (" + printable(identity.cert_principal_id, 64) + ") refused: " +
                 (admission.result == ConnectionTable::Admit::full ? "every connection slot is busy"
                                                                   : "every slot of this principal is busy"));

    // Bounded: outside bytes must never grow it past a header and a read's worth (a chunk line
    // with a 300 MiB extension would otherwise be buffered whole).
    beast::flat_buffer buffer(static_cast<std::size_t>(config.max_header_bytes) + 64 * 1024);
    // Sized where a body moves: a connection that only handshakes, or asks for JSON, needs none,
    // and zeroing 256 KiB per connection was a measurable part of a new connection's cost.
    std::vector<std::uint8_t> io;
    for (;;) {
        http::request_parser<http::buffer_body> parser;
        parser.header_limit(config.max_header_bytes);
        // The body limit depends on the route, known only after dispatch; see below.
        parser.body_limit(boost::none);
        // A refused connection gets a few seconds to ask, to be told 503; others the idle timeout.
        conn.expires_after(std::chrono::seconds(admission.result == ConnectionTable::Admit::ok
                                                    ? config.idle_timeout_seconds
                                                    : std::min(config.idle_timeout_seconds, 5U)));
        if (conn.close_after_request) break;
        // Idle until a whole header has arrived: a connection whose next request is still
        // arriving may be closed to make room (the client retries it), one being served never is.
        conn.idle = true;
        slot.idle(true);
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
        conn.idle = false;
        slot.idle(false);
        const auto started = std::chrono::steady_clock::now();
        RequestHead head = identity;
        head.request_id = crypto::random_hex(8);
        head.remote = remote;
        if (ec) {
            if (ec == http::error::end_of_stream || ec == net::error::eof ||
                ec == net::ssl::error::stream_truncated || ec == net::error::operation_aborted ||
                ec == net::error::bad_descriptor ||
                ec == net::error::connection_reset) {
                // A connection that ends between requests is no request; one that ends inside a
                // header was one, cut short.
                const auto pending = beast::buffers_to_string(buffer.data());
                if (parser.got_some() || pending.find_first_not_of(" \t\r\n") != std::string::npos) {
                    Response cut = problem(ErrorKind::invalid_argument, "the connection ended inside the request header: " + printable(ec.message()),
                                           head.request_id);
                    cut.audit.action = "request.incomplete";
                    cut.audit.failed = true;
                    co_await record_audit(shared, stream.get_executor(), AuditTrail::entry(head, cut, pending.size(), 0));
                }
                break;
            }
            const int status = ec == http::error::header_limit ? 431 : 400;
            const bool cut = ec == http::error::partial_message;
            log_line("request " + head.request_id + " from " + remote + ": malformed: " + printable(ec.message()));
            Response bad = protocol_problem(status, status == 431 ? "the request header is too large"
                                               : cut         ? "the connection ended inside the request header"
                                                             : "the request is not valid HTTP/1.1",
                                   head.request_id);
            bad.audit.action = cut ? "request.incomplete" : "request.malformed";
            bad.audit.failed = cut;
            co_await record_audit(shared, stream.get_executor(), AuditTrail::entry(head, bad, buffer.size(), bad.body.size()));
            co_await write_response(conn, shared, bad, head.request_id, 11, false, io);
            break;
        }
        auto& req = parser.get();
        head.method = std::string(req.method_string());
        head.target = std::string(req.target());
        for (const auto& field : req)
            head.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        head.has_body = !parser.is_done();
        // No route serves HEAD; its refusal carries a body the client will not read, so the
        // connection cannot be reused after it.
        bool keep_alive = req.keep_alive() && req.method() != http::verb::head && !conn.close_after_request;

        // RFC 9112 §6.3: a request whose transfer coding is not chunked has no knowable length.
        // Beast would read it as having no body, and the body would be parsed as the next
        // request: refused, and the connection closed.
        std::optional<Response> refused;
        if (const auto te = req.find(http::field::transfer_encoding);
            te != req.end() && (!beast::iequals(te->value(), "chunked") || req.count(http::field::transfer_encoding) != 1 ||
                                req.version() < 11))
            refused = problem(ErrorKind::invalid_argument, "the request's Transfer-Encoding is not supported (only chunked, alone, on HTTP/1.1)", head.request_id);
        else if (admission.result != ConnectionTable::Admit::ok) {
            refused = problem(ErrorKind::unavailable, admission.result == ConnectionTable::Admit::full
                                           ? "the gateway is serving as many connections as it can; try again shortly"
                                           : "this principal already holds as many connections as it may, all busy; "
                                             "try again shortly",
                              head.request_id);
            refused->headers.emplace_back("Retry-After", "5");
            refused->audit.reason = "connection limit";
        }
        if (refused) {
            refused->principal = identity.cert_principal_id;
            co_await record_audit(shared, stream.get_executor(), AuditTrail::entry(head, *refused, 0, refused->body.size()));
            log_line("request " + head.request_id + " " + remote + " " + printable(head.method, 16) + " " +
                     printable(head.target) + " " + std::to_string(refused->status) + " refused: " + printable(refused->body));
            co_await write_response(conn, shared, *refused, head.request_id, req.version(), false, io);
            if (head.has_body) co_await drain(conn, io);
            break;
        }

        // Routes read the database (an audit page can be 10,000 rows): off the network thread,
        // so one slow answer does not hold up the other connections of this thread.
        Dispatch dispatched;
        {
            Offload route(stream.get_executor(), shared.offload);
            route.start([&shared, &head, &dispatched] { dispatched = shared.handler.dispatch(head); });
            co_await route.wait();
            if (route.failed()) dispatched = Dispatch{problem(ErrorKind::internal, "internal error", head.request_id), nullptr};
        }
        Response response;
        std::uint64_t received = 0;
        bool unread_body = head.has_body;
        const auto declared = parser.content_length();
        if (dispatched.upload && declared && *declared > dispatched.upload->limit()) {
            // Refused before a byte of the body is read; the connection cannot be reused.
            dispatched.upload.reset();
            auto who = std::move(dispatched.response.principal);
            dispatched.response = problem(ErrorKind::too_large, "the body is larger than this gateway accepts",
                                          head.request_id);
            dispatched.response.principal = std::move(who);
        }
        if (dispatched.upload) {
            parser.body_limit(dispatched.upload->limit());  // bounds chunked bodies as they arrive
            if (const auto expect = head.header("Expect"); expect && beast::iequals(*expect, "100-continue")) {
                http::response<http::empty_body> go_on{http::status::continue_, req.version()};
                conn.expires_after(std::chrono::seconds(config.io_timeout_seconds));
                if (auto [wec, wn] = co_await http::async_write(stream, go_on, use_tuple); wec) {
                    Response gone = problem(ErrorKind::invalid_argument, "the connection failed before the body was sent: " + wec.message() +
                                                         "; nothing was kept", head.request_id);
                    gone.audit.action = "request.incomplete";
                    gone.audit.failed = true;
                    gone.principal = dispatched.response.principal;
                    dispatched.upload.reset();
                    co_await record_audit(shared, stream.get_executor(), AuditTrail::entry(head, gone, 0, 0));
                    break;
                }
            }
            Status sink_status;
            boost::system::error_code read_error;
            // Two buffers: the network fills one while the offload job consumes the other.
            io.resize(kUploadPartBytes);
            std::vector<std::uint8_t> in_flight(io.size());
            Offload offload(stream.get_executor(), shared.offload);
            TransferClock clock(config);
            UploadSink* sink = dispatched.upload.get();
            // Hands one part to the offload job (after the previous one finished) and swaps buffers.
            auto hand_over = [&](std::size_t got) {
                std::swap(io, in_flight);
                offload.start([sink, &sink_status, data = in_flight.data(), got] {
                    sink_status = sink->write({data, got});
                });
            };
            if (declared) {
                // A Content-Length body is read straight from the TLS stream, past Beast's parser,
                // whose per-record bookkeeping cost more than the decryption. Bytes that arrived
                // with the header come first.
                std::uint64_t left = *declared;
                while (left > 0) {
                    std::size_t got = 0;
                    if (buffer.size() > 0) {
                        got = net::buffer_copy(net::buffer(io.data(), static_cast<std::size_t>(std::min<std::uint64_t>(io.size(), left))),
                                               buffer.data());
                        buffer.consume(got);
                    } else {
                        // Fills the part read by read; the deadline applies to each read, so a
                        // slow client is judged by its progress, not by the part size.
                        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(io.size(), left));
                        while (got < want) {
                            conn.expires_at(clock.next_deadline(received + got));
                            auto [rec, read_n] = co_await stream.async_read_some(
                                net::buffer(io.data() + got, want - got), use_tuple);
                            got += read_n;
                            if (rec) {
                                read_error = rec;
                                break;
                            }
                        }
                    }
                    left -= got;
                    received += got;
                    co_await offload.wait();
                    if (offload.failed()) sink_status = make_error(ErrorKind::internal, "sealing the upload failed");
                    if (!sink_status) break;
                    if (got > 0) hand_over(got);
                    if (read_error) break;
                }
            } else {
                while (!parser.is_done()) {
                    req.body().data = io.data();
                    req.body().size = io.size();
                    // Read by read until the part is full, the deadline moved at each.
                    boost::system::error_code rec;
                    while (req.body().size > 0 && !parser.is_done()) {
                        conn.expires_at(clock.next_deadline(received + io.size() - req.body().size));
                        auto [part_error, rn] = co_await http::async_read_some(stream, buffer, parser, use_tuple);
                        if (part_error == http::error::need_buffer) break;
                        if (part_error) {
                            rec = part_error;
                            break;
                        }
                    }
                    const std::size_t got = io.size() - req.body().size;
                    received += got;
                    co_await offload.wait();
                    if (offload.failed()) sink_status = make_error(ErrorKind::internal, "sealing the upload failed");
                    if (!sink_status) break;
                    if (got > 0) hand_over(got);
                    if (rec) {
                        read_error = rec;
                        break;
                    }
                }
            }
            co_await offload.wait();
            if (offload.failed()) sink_status = make_error(ErrorKind::internal, "sealing the upload failed");
            if (read_error == http::error::body_limit) {
                response = problem(ErrorKind::too_large, "the body is larger than this gateway accepts", head.request_id);
                keep_alive = false;
            } else if (read_error && read_error.category() == http::make_error_code(http::error::bad_chunk).category() &&
                       read_error != http::error::partial_message) {
                // The chunked framing itself is wrong (or a chunk line outgrew the buffer): the
                // client is still there to be told, and nothing was kept.
                response = problem(ErrorKind::invalid_argument, "the body's chunked framing is not valid: " + read_error.message() +
                                                "; nothing was kept", head.request_id);
                response.audit.failed = true;
                keep_alive = false;
            } else if (read_error) {
                // The client went away or stalled mid-body: nothing is kept, nobody to answer.
                log_line("request " + head.request_id + " from " + remote + " " + head.method + " " +
                         printable(head.target) + ": body incomplete after " + std::to_string(received) +
                         " bytes: " + printable(read_error.message()) + (conn.timed_out ? " (too slow)" : "") + "; discarded");
                Response gone = problem(ErrorKind::invalid_argument, (conn.timed_out ? std::string("the body arrived slower than the gateway's minimum rate, or stalled")
                                                                 : "the body ended early: " + read_error.message()) +
                                                     "; nothing was kept",
                                        head.request_id);
                gone.audit.failed = true;
                gone.principal = dispatched.response.principal;
                dispatched.upload.reset();
                co_await record_audit(shared, stream.get_executor(), AuditTrail::entry(head, gone, received, 0));
                break;
            } else if (!sink_status) {
                response = problem_of(sink_status.error(), head.request_id);
                keep_alive = false;
            } else {
                unread_body = false;
                // The body's deadline must not cut the answer to a package being committed:
                // the client would push it again for want of its receipt.
                conn.expires_after(std::chrono::seconds(config.io_timeout_seconds));
                // finish() fsyncs, signs and commits: keep it off the network thread too.
                offload.start([sink, &response] { response = sink->finish(); });
                co_await offload.wait();
                if (offload.failed()) response = problem(ErrorKind::internal, "internal error", head.request_id);
            }
            response.principal = dispatched.response.principal;
            dispatched.upload.reset();  // an unfinished package is removed here
        } else {
            response = std::move(dispatched.response);
            if (head.has_body) keep_alive = false;  // the body was not read: the framing is lost
        }

        // Fail closed: a request whose entry cannot be made durable is answered 503, and its
        // payload (if any) is not sent. A pushed package's entry was committed with it.
        if (!response.audit.committed_index) {
            const auto sent_bytes = response.payload ? response.payload_length : response.body.size();
            if (!co_await record_audit(shared, stream.get_executor(),
                                       AuditTrail::entry(head, response, received, sent_bytes))) {
                auto who = std::move(response.principal);
                response = problem(ErrorKind::unavailable, "the access log cannot be written; the request was not served", head.request_id);
                response.principal = std::move(who);
                keep_alive = false;
            }
        }

        const int status = response.status;
        const std::string detail = response.log_detail.empty() ? "" : " detail=\"" + printable(response.log_detail) + "\"";
        const auto principal = response.principal.empty() ? std::string("-") : response.principal;
        const auto sent = response.payload ? response.payload_length : response.body.size();
        const bool streamed = response.payload != nullptr;
        Delivery delivery;
        const bool again = co_await write_response(conn, shared, response, head.request_id,
                                                   req.version(), keep_alive, io, &delivery);
        if (streamed && (delivery.sent < sent || !delivery.failure.empty())) {
            // The entry written before the transfer promised all of it; this one, with the same
            // request id, says how much went and why the rest did not.
            shared.counters.transfers_incomplete.fetch_add(1, std::memory_order_relaxed);
            co_await record_audit(shared, stream.get_executor(),
                                  AuditTrail::incomplete_entry(head, response, received, delivery.sent, sent, delivery.failure));
        }
        shared.counters.count_response(status, received, streamed ? delivery.sent : sent);
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started).count();
        log_line("request " + head.request_id + " " + remote + " " + principal + " " +
                 printable(head.method, 16) + " " + printable(head.target) + " " +
                 std::to_string(status) + " in=" + std::to_string(received) + " out=" +
                 std::to_string(sent) + " " + std::to_string(ms) + "ms" + detail);
        if (!again) {
            if (unread_body) co_await drain(conn, io);
            break;
        }
    }
    conn.expires_after(std::chrono::seconds(5));
    co_await stream.async_shutdown(use_tuple);
}

Awaitable<void> accept_loop(Shared& shared, Acceptor& acceptor,
                            std::vector<std::unique_ptr<net::io_context>>& workers) {
    std::size_t next = 0;
    for (;;) {
        // Connections are dealt to the workers in turn.
        auto& worker = *workers[next++ % workers.size()];
        auto [ec, socket] = co_await acceptor.async_accept(worker.get_executor(), use_tuple);
        if (ec == net::error::operation_aborted) co_return;
        if (ec) {
            // Out of descriptors, say: do not spin on the error while it lasts.
            Timer pause(acceptor.get_executor());
            pause.expires_after(std::chrono::milliseconds(50));
            co_await pause.async_wait(use_tuple);
            continue;
        }
        const auto peer = socket.remote_endpoint(ec);
        if (ec) continue;
        std::string address = peer.address().to_string();
        socket.set_option(tcp::no_delay(true), ec);
        auto executor = socket.get_executor();
        net::co_spawn(executor, session(shared, std::move(socket), std::move(address)), [](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log_line(std::string("session ended by an unexpected error: ") + printable(ex.what()));
            }
        });
    }
}

// Where the SSL_CTX keeps the gateway's RevokedSerials for the verify callback.
int revoked_serials_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

// Where the SSL_CTX keeps the fingerprints of the CAs whose certificates it accepts (from the
// ca.crt it was made with); freed with the context.
using IssuerSet = std::unordered_set<std::string>;
int issuers_index() {
    static const int index = SSL_CTX_get_ex_new_index(
        0, nullptr, nullptr, nullptr, [](void*, void* set, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<IssuerSet*>(set); });
    return index;
}

// After OpenSSL has checked the chain, validity and purpose: the certificate must come from our
// issuing CA itself (not from another CA under a shared root), and a revoked client certificate
// fails the handshake itself, so a revoked key cannot even open a connection.
int refuse_revoked(int preverify_ok, X509_STORE_CTX* store) {
    if (X509_STORE_CTX_get_error_depth(store) != 0) return preverify_ok;
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    X509* cert = X509_STORE_CTX_get_current_cert(store);
    if (ssl == nullptr || cert == nullptr) return 0;  // fail closed: nothing to check
    BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
    char* hex = serial ? BN_bn2hex(serial) : nullptr;
    const std::string serial_hex = hex != nullptr ? hex : "";
    OPENSSL_free(hex);
    BN_free(serial);
    if (SSL_get_ex_data(ssl, seen_certificate_index()) == nullptr) {
        char subject[400];
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
        SSL_set_ex_data(ssl, seen_certificate_index(), new std::string(std::string(subject) + " serial=" + serial_hex));
    }
    if (preverify_ok != 1) return preverify_ok;
    const auto* issuers = static_cast<const IssuerSet*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), issuers_index()));
    if (issuers == nullptr || !certs::leaf_issued_by(store, *issuers)) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_UNTRUSTED);
        return 0;
    }
    auto* revoked = static_cast<RevokedSerials*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), revoked_serials_index()));
    if (revoked == nullptr || serial_hex.empty() || revoked->contains(serial_hex)) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REVOKED);
        return 0;
    }
    return 1;
}

Status configure_tls(ssl::context& tls, const Config& config, std::string* loaded_cert) {
    auto cert = storage::read_small_file(config.tls_cert, 1 << 20);
    auto key = crypto::read_secret_file(config.tls_key, 1 << 20);
    auto ca = storage::read_small_file(config.ca_cert, 1 << 20);
    if (!cert) return cert.error();
    if (!key) return key.error();
    if (!ca) return ca.error();
    SSL_CTX* native = tls.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE);
    // TLS 1.2 only with forward-secret AEAD suites; TLS 1.3 suites are all AEAD.
    SSL_CTX_set_cipher_list(native,
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
                            "ECDHE-ECDSA-AES128-GCM-SHA256");
    static const unsigned char context_id[] = "serambi";
    SSL_CTX_set_session_id_context(native, context_id, sizeof context_id - 1);
    // No resumption: a resumed session presents no certificate, so a certificate revoked since
    // would get past the handshake's check. Every connection is a full handshake.
    SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(native, 0);
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    boost::system::error_code ec;
    tls.use_certificate_chain(net::buffer(*cert), ec);
    if (!ec) tls.use_private_key(net::buffer(key->view().data(), key->size()), ssl::context::pem, ec);
    if (!ec) tls.add_certificate_authority(net::buffer(*ca), ec);
    if (ec) return make_error(ErrorKind::invalid_argument, "the gateway TLS certificate, key or CA cannot be loaded");
    // A client certificate from our CA, fit for client authentication, is required at the handshake.
    tls.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, refuse_revoked);
    SSL_CTX_set_verify_depth(native, 3);
    SSL_CTX_set_purpose(native, X509_PURPOSE_SSL_CLIENT);
    SSL_CTX_set_client_CA_list(native, SSL_load_client_CA_file(config.ca_cert.c_str()));
    auto issuers = std::make_unique<IssuerSet>(certs::issuing_fingerprints(*ca));
    if (issuers->empty() || SSL_CTX_set_ex_data(native, issuers_index(), issuers.get()) != 1)
        return make_error(ErrorKind::invalid_argument, "the CA certificate cannot be read");
    issuers.release();  // the context owns it now
    if (loaded_cert != nullptr) *loaded_cert = std::move(*cert);
    return {};
}

// Certificates that expire within 30 days, or have expired, are named in the log: the gateway's
// own and its CA's, and principals' (not revoked), so that they are renewed while they still can be.
void warn_expiring_certificates(storage::Store& store, const RevokedSerials& revoked, const Config& config) {
    const auto now = now_seconds();
    auto warn = [now](const std::string& what, std::int64_t expiry, const std::string& iso, const std::string& remedy) {
        if (expiry > now + 30 * 86400) return;
        log_line("warning: " + what + (expiry <= now ? " expired at " : " expires at ") + iso + "; " + remedy);
    };
    // The gateway's own: a lapsed TLS certificate stops every client, a lapsed CA every certificate.
    for (const auto& [what, path, remedy] :
         {std::tuple<std::string, std::filesystem::path, std::string>{
              "the gateway's TLS certificate", config.tls_cert, "issue a new one and send SIGHUP"},
          {"the gateway's signing certificate", config.signing_cert, "issue a new one and send SIGHUP"},
          {"the CA certificate", config.ca_cert, "plan a new CA before it ends"}}) {
        auto text = storage::read_small_file(path, 1 << 20);
        auto parts = text ? certs::split_bundle(*text) : Result<std::vector<std::string>>(text.error());
        if (!parts) {
            log_line("cannot check the expiry of " + what + ": " + parts.error().message);
            continue;
        }
        for (const auto& pem : *parts) {
            auto info = certs::inspect(pem);
            auto expiry = info ? parse_time(info->not_after) : Result<std::int64_t>(info.error());
            if (expiry) warn(what + " (" + info->common_name + ")", *expiry, info->not_after, remedy);
        }
    }
    auto principals = store.principals();
    if (!principals) return log_line("cannot check certificate expiry: " + principals.error().message);
    for (const auto& p : *principals) {
        if (p.cert_not_after.empty() || revoked.contains(p.cert_serial)) continue;
        auto expiry = parse_time(p.cert_not_after);
        if (!expiry) continue;
        warn("the certificate of " + p.id, *expiry, p.cert_not_after,
             *expiry <= now ? "register the unit again" : "have it run serambi renew");
    }
}

// A TLS context from the files the configuration names, checking against `revoked`.
// `loaded_cert` learns the certificate (PEM, with its chain) that the context serves.
Result<std::shared_ptr<ssl::context>> make_tls(const Config& config, RevokedSerials& revoked, std::string& loaded_cert) {
    auto tls = std::make_shared<ssl::context>(ssl::context::tls_server);
    if (auto s = configure_tls(*tls, config, &loaded_cert); !s) return s.error();
    SSL_CTX_set_ex_data(tls->native_handle(), revoked_serials_index(), &revoked);
    return tls;
}

Result<std::shared_ptr<const certs::ManifestSigner>> load_signer(const Config& config, std::string& loaded_cert) {
    auto cert = storage::read_small_file(config.signing_cert, 1 << 20);
    auto key = crypto::read_secret_file(config.signing_key, 1 << 20);
    if (!cert) return cert.error();
    if (!key) return key.error();
    auto signer = certs::ManifestSigner::load(*cert, key->view());
    if (!signer) return make_error(signer.error().kind, "signing certificate: " + signer.error().message);
    loaded_cert = std::move(*cert);
    return std::shared_ptr<const certs::ManifestSigner>(std::make_shared<certs::ManifestSigner>(std::move(signer).value()));
}

// Every connection is a descriptor, and the usual soft limit (1024) is below what the connection
// limits allow: raise it to the hard limit, and say so if even that is too low.
void raise_descriptor_limit(const Config& config) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    const rlim_t wanted = rlim_t{config.max_connections} + config.max_pending_handshakes + 2 * config.threads + 64;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted)
        log_line("warning: only " + std::to_string(limit.rlim_cur) + " file descriptors may be open, but the connection limits need about " +
                 std::to_string(wanted) + "; raise LimitNOFILE (systemd) or ulimit -n");
}

}  // namespace

int serve(const Config& config, const ServeOptions& options) {
    if (auto s = crypto::initialise(); !s) {
        std::cerr << "serambi: " << s.error().message << "\n";
        return 1;
    }
    ::signal(SIGPIPE, SIG_IGN);
    raise_descriptor_limit(config);
    auto fail = [](const std::string& what) {
        std::cerr << "serambi: cannot start: " << what << "\n";
        return 1;
    };
    auto master = storage::read_master_key(config.master_key);
    if (!master) return fail(master.error().message);
    auto store = storage::Store::open({config.database, config.blobs, config.aead}, *master);
    if (!store) return fail(store.error().message);
    auto policy = policies::Policy::load(config.policy);
    if (!policy) return fail(policy.error().message);

    auto ca_cert = storage::read_small_file(config.ca_cert, 1 << 20);
    if (!ca_cert) return fail(ca_cert.error().message);
    auto ca_key = crypto::read_secret_file(config.ca_key, 1 << 20);
    if (!ca_key) return fail(ca_key.error().message);
    std::string signing_pem, tls_pem;
    auto signer = load_signer(config, signing_pem);
    if (!signer) return fail(signer.error().message);

    std::error_code perms_error;
    const auto key_perms = std::filesystem::status(config.log_key, perms_error).permissions();
    if (!perms_error && (key_perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) !=
                            std::filesystem::perms::none)
        return fail("the access-log key " + config.log_key.string() + " may be read by others; chmod 600 it");
    auto log_key = crypto::read_secret_file(config.log_key, 4096);
    if (!log_key) return fail("the access-log key: " + log_key.error().message);
    auto log_text = log_key->view();
    while (!log_text.empty() && (log_text.back() == '\n' || log_text.back() == '\r')) log_text.remove_suffix(1);
    auto log_signer = crypto::tlog::NoteSigner::from_private(log_text);
    if (!log_signer) return fail("the access-log key " + config.log_key.string() + ": " + log_signer.error().message);
    if (log_signer->name() != config.audit_origin)
        return fail("the access-log key " + config.log_key.string() + " is for the log '" + log_signer->name() +
                    "', but audit.origin says '" + config.audit_origin + "'");
    AuditTrail audit(*store->get(), std::move(log_signer).value());

    // The database is trusted only once it is not behind what was already published; only then
    // may blobs it does not know be called orphans (and even then they are kept aside).
    RevokedSerials revoked;
    auto state = reconcile_state(config, *store->get(), audit, revoked, options.accept_rollback, log_line);
    if (!state) return fail(state.error().message);
    audit.keep_state(state->get());
    revoked.persist_with([&state](const std::string& serial) {
        if (auto s = (*state)->record_revoked(serial); !s)
            log_line("warning: revoked serial " + serial + " is in the database but not in the state file: " + s.error().message);
    });
    auto quarantined = recover_storage(*store->get(), audit, log_line);
    if (!quarantined) return fail("crash recovery: " + quarantined.error().message);
    if (auto note = audit.checkpoint(); !note) return fail("cannot issue the first checkpoint: " + note.error().message);
    auto first_tls = make_tls(config, revoked, tls_pem);
    if (!first_tls) return fail(first_tls.error().message);
    TlsContexts tls(std::move(first_tls).value());
    GatewayCounters counters;
    counters.started_at = now_seconds();
    Handler handler({store->get(), *policy, *signer,
                     certs::Authority{*ca_cert, std::move(*ca_key)}, &config, &audit, &revoked, &counters});

    // Declared before the io_contexts: sessions destroyed with them give their slots back here.
    ConnectionTable connections({config.max_connections, config.max_connections_per_principal,
                                 config.max_pending_handshakes, config.max_pending_handshakes_per_address});
    std::vector<std::unique_ptr<net::io_context>> workers;
    for (unsigned i = 0; i < config.threads; ++i) workers.push_back(std::make_unique<net::io_context>(1));
    std::vector<net::executor_work_guard<Executor>> keep_running;
    for (auto& w : workers) keep_running.push_back(net::make_work_guard(w->get_executor()));
    net::io_context& main_context = *workers.front();

    boost::system::error_code ec;
    const auto address = net::ip::make_address(config.listen_host, ec);
    if (ec) return fail("server.listen: " + config.listen_host + " is not an IP address");
    Acceptor acceptor(main_context.get_executor());
    const tcp::endpoint endpoint(address, config.listen_port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail("cannot listen on " + config.listen_host + ":" +
                        std::to_string(config.listen_port) + ": " + ec.message());

    net::thread_pool offload_pool(config.threads);
    RefusalBudget refusals(config.refused_handshake_entries_per_minute);
    Shared shared{config, handler, audit, tls, offload_pool.get_executor(), refusals, counters, connections};
    counters.connections = &connections;
    handler.set_served_tls_certificate(std::move(tls_pem));
    handler.set_served_signing_certificate(std::move(signing_pem));
    net::co_spawn(main_context.get_executor(), accept_loop(shared, acceptor, workers), net::detached);
    // A signed checkpoint at least every second while entries arrive (signing when nothing
    // changed is skipped inside).
    Timer checkpoint_timer(main_context.get_executor());
    std::function<void()> issue_checkpoints = [&] {
        checkpoint_timer.expires_after(std::chrono::seconds(1));
        checkpoint_timer.async_wait([&](const boost::system::error_code& wait_error) {
            if (wait_error) return;
            net::post(offload_pool, [&audit, &refusals, &counters] {
                record_counted_refusals(audit, refusals, counters);
                if (auto note = audit.checkpoint(); !note)
                    log_line("access log: cannot issue a checkpoint: " + note.error().message);
            });
            issue_checkpoints();
        });
    };
    issue_checkpoints();
    // SIGHUP: the gateway's TLS and manifest-signing certificates are read again. New connections
    // and pushes use them; open connections and pushes under way finish with the old ones. A
    // file that does not load changes nothing.
    net::basic_signal_set<Executor> reload_signal(main_context.get_executor(), SIGHUP);
    std::function<void()> await_reload = [&] {
        reload_signal.async_wait([&](const boost::system::error_code& wait_error, int) {
            if (wait_error) return;
            std::string next_tls_pem, next_signing_pem;
            auto next_tls = make_tls(config, revoked, next_tls_pem);
            auto next_signer = load_signer(config, next_signing_pem);
            if (!next_tls) log_line("reload: TLS certificate not replaced: " + next_tls.error().message);
            if (!next_signer) log_line("reload: signing certificate not replaced: " + next_signer.error().message);
            // The gateway's identity changing is an access-log entry, made durable before the swap:
            // if it cannot be written, nothing is replaced.
            auto serial_of = [](const std::string& pem) {
                auto info = certs::inspect(pem);
                return info ? info->serial_hex : std::string();
            };
            const auto entry = AuditTrail::reload_entry(
                next_tls ? serial_of(next_tls_pem) : "", next_signer ? serial_of(next_signing_pem) : "",
                next_tls && next_signer ? "" : (!next_tls ? next_tls.error().message : next_signer.error().message));
            if ((next_tls || next_signer) && !audit.record(entry)) {
                log_line("reload: nothing replaced: the access log cannot be written");
                counters.reloads_failed.fetch_add(1, std::memory_order_relaxed);
                return await_reload();
            }
            if (!next_tls && !next_signer) (void)audit.record(entry);  // a refused reload is worth a line too
            if (next_tls) {
                tls.set(std::move(next_tls).value());
                handler.set_served_tls_certificate(std::move(next_tls_pem));
            }
            if (next_signer) {
                handler.replace_signer(std::move(next_signer).value());
                handler.set_served_signing_certificate(std::move(next_signing_pem));
            }
            if (next_tls && next_signer) log_line("reload: TLS and signing certificates replaced");
            (next_tls && next_signer ? counters.reloads : counters.reloads_failed).fetch_add(1, std::memory_order_relaxed);
            await_reload();
        });
    };
    await_reload();
    Timer expiry_timer(main_context.get_executor());
    std::function<void()> check_expiry = [&] {
        net::post(offload_pool, [&store, &revoked, &config] { warn_expiring_certificates(*store->get(), revoked, config); });
        expiry_timer.expires_after(std::chrono::hours(24));
        expiry_timer.async_wait([&](const boost::system::error_code& wait_error) {
            if (!wait_error) check_expiry();
        });
    };
    check_expiry();
    net::basic_signal_set<Executor> signals(main_context.get_executor(), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
        log_line("stopping");
        checkpoint_timer.cancel();
        expiry_timer.cancel();
        reload_signal.cancel();
        acceptor.close();
        for (auto& w : workers) w->stop();
    });

    log_line("serambi gateway listening on https://" + config.listen_host + ":" +
             std::to_string(config.listen_port) + " (blobs quarantined at start: " + std::to_string(*quarantined) + ")");
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers.size(); ++i)
        threads.emplace_back([&workers, i] { workers[i]->run(); });
    main_context.run();
    for (auto& t : threads) t.join();
    offload_pool.join();
    (*store)->flush_audit();  // entries still queued are written while their io_contexts exist
    record_counted_refusals(audit, refusals, counters, true);
    if (auto note = audit.checkpoint(); !note)
        log_line("access log: cannot issue the last checkpoint: " + note.error().message);
    return 0;
}

}  // namespace serambi::gateway
