// One client connection: the TLS handshake, a slot among authenticated connections, then request
// after request. The upload path (receive_body) and the download path (write_response) each read
// top to bottom. This is the one translation unit of the gateway that includes Boost.Beast, to
// keep builds bearable.
#include "gateway/session.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "gateway/connection.h"
#include "gateway/handler.h"
#include "gateway/offload.h"
#include "gateway/portal.h"
#include "gateway/refusals.h"
#include "gateway/tls.h"

namespace serambi::gateway {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;

constexpr std::size_t kIoBufferBytes = 256 * 1024;
constexpr std::size_t kDownloadPartBytes = 1024 * 1024;
constexpr std::uint64_t kMediumPayloadBytes = 4 << 20;  // and below: parts of kIoBufferBytes
// Each part of an upload is one hand-over to the offload pool, and each hand-over wakes a thread:
// large parts keep that cost small next to the hashing and sealing of the part.
constexpr std::size_t kUploadPartBytes = 1024 * 1024;
// What a connection may keep between requests; more is released when the request is done.
constexpr std::size_t kIdleBufferBytes = 64 * 1024;
// A payload up to this size that is already in memory is read on the network thread.
constexpr std::uint64_t kInlineReadBytes = 64 * 1024;

template <class Message>
void apply_headers(Message& message, const Response& response, const std::string& request_id, bool keep_alive) {
    for (const auto& [k, v] : response.headers) message.set(k, v);
    message.set(http::field::server, "serambi");
    message.set("Serambi-Request-Id", request_id);
    message.set("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : security_headers())
        if (message.find(name) == message.end()) message.set(name, value);
    message.keep_alive(keep_alive);
}

// One part of a payload, read and opened on the offload pool; the job that fills it owns it.
struct PayloadPart {
    std::vector<std::uint8_t> bytes;
    Result<std::size_t> got = std::size_t{0};
};

// One part of an upload, sealed and written on the offload pool; the job owns it.
struct UploadPart {
    std::vector<std::uint8_t> bytes;
    Status status;
};

// The disk or the database did not answer within kStoragePatience: said plainly, logged once.
Error storage_timeout(const char* doing, const char* advice = "try again later") {
    log_line(std::string("storage: no answer within ") + std::to_string(kStoragePatience.count()) + " s while " +
             doing + "; is the disk failing?");
    return make_error(ErrorKind::unavailable, std::string("the gateway's storage did not answer within ") +
                                                  std::to_string(kStoragePatience.count()) + " s while " + doing +
                                                  "; " + advice);
}

// How much of a streamed payload reached the socket, and why it stopped short if it did.
struct Delivery {
    std::uint64_t sent = 0;
    std::uint64_t events = 0;  // of an event stream: those written whole
    std::string failure;
};

// How often a follower's stream looks for new events, and how long it may stay quiet before a
// comment line tells proxies and the client that it is alive.
constexpr auto kEventPoll = std::chrono::milliseconds(500);
constexpr auto kEventCatchUp = std::chrono::milliseconds(50);  // between batches of a follower behind
// Short enough that a client gone without a word (a laptop closed) is noticed within two of
// them, and its stream's place freed: the first write after the peer left still succeeds.
constexpr auto kEventHeartbeat = std::chrono::seconds(5);
// A stream ends after this long (the client reconnects with Last-Event-ID): a forgotten follower
// does not hold a connection slot for ever, and each hour is its own pair of log entries.
constexpr auto kEventStreamLimit = std::chrono::hours(1);

// Writes `text` as one chunk of a chunked body; false when the connection failed.
Awaitable<bool> write_chunk(Connection& conn, const Config& config, std::string_view text, Delivery& delivery) {
    char size[20];
    const int n = std::snprintf(size, sizeof size, "%zx\r\n", text.size());
    const std::array<net::const_buffer, 3> parts{net::buffer(size, static_cast<std::size_t>(n)), net::buffer(text),
                                                 net::buffer("\r\n", 2)};
    conn.expires_after(std::chrono::seconds(config.io_timeout_seconds));
    auto [ec, written] = co_await net::async_write(conn.stream, parts, use_tuple);
    if (ec) {
        delivery.failure = conn.timed_out ? "the client stopped reading" : "the client left";
        co_return false;
    }
    delivery.sent += text.size();
    co_return true;
}

// A text/event-stream answer: events as the source has them, a heartbeat when it has none,
// until the client leaves, the time limit, or the gateway stops. The body is chunked so that a
// client can tell the gateway's clean end from a cut. The connection is not reused.
Awaitable<bool> write_events(Connection& conn, Shared& shared, Response& response, const std::string& request_id,
                             unsigned version, Delivery& delivery) {
    http::response<http::empty_body> res{static_cast<http::status>(response.status), version};
    apply_headers(res, response, request_id, false);
    res.chunked(true);
    conn.expires_after(std::chrono::seconds(shared.config.io_timeout_seconds));
    // The head alone: a whole empty_body message would end the chunked body at once.
    http::response_serializer<http::empty_body> head{res};
    if (auto [ec, n] = co_await http::async_write_header(conn.stream, head, use_tuple); ec) {
        delivery.failure = "the connection failed before the first event: " + ec.message();
        co_return false;
    }
    std::shared_ptr<EventSource> source = response.events;
    auto batch = std::make_shared<Result<EventSource::Batch>>(EventSource::Batch{});
    Offload polling(conn.stream.get_executor(), shared.offload);
    Timer tick(conn.stream.get_executor());
    const auto opened = std::chrono::steady_clock::now();
    auto quiet_since = opened;
    for (;;) {
        if (shared.streams.stopping.load()) {
            delivery.failure = "the gateway is stopping";
            break;
        }
        if (conn.close_after_request) {
            delivery.failure = "the gateway needed the connection for another client";
            break;
        }
        const auto now = std::chrono::steady_clock::now();
        if (now - opened >= kEventStreamLimit) {
            delivery.failure = "the stream's time limit (reconnect with Last-Event-ID)";
            break;
        }
        polling.start([source, batch] { *batch = source->next_events(); });
        if (!co_await polling.wait() || polling.failed() || !*batch) {
            delivery.failure = "the access log could not be read";
            log_line("request " + request_id + ": event stream ended: the access log could not be read");
            break;
        }
        auto wait = kEventPoll;
        if (!(*batch)->text.empty()) {
            if (!co_await write_chunk(conn, shared.config, (*batch)->text, delivery)) co_return false;
            delivery.events += (*batch)->count;  // counted once written, for the closing entry
            quiet_since = std::chrono::steady_clock::now();
            // More may be waiting: a follower far behind catches up a batch at a time, paced so
            // that it cannot keep the offload pool and the database to itself.
            wait = kEventCatchUp;
        } else if (now - quiet_since >= kEventHeartbeat) {
            if (!co_await write_chunk(conn, shared.config, ": alive\n\n", delivery)) co_return false;
            quiet_since = now;
        }
        // The watchdog closes a connection whose deadline passes, even between writes.
        conn.expires_after(std::chrono::seconds(shared.config.io_timeout_seconds));
        tick.expires_after(wait);
        co_await tick.async_wait(use_tuple);
    }
    // The gateway's end: the last chunk, so that the client knows the stream was not cut.
    // Briefly when the gateway is stopping: its threads stop 3 s after it began to.
    conn.expires_after(std::chrono::seconds(shared.streams.stopping.load() ? 1 : shared.config.io_timeout_seconds));
    auto [ec, n] = co_await net::async_write(conn.stream, net::buffer("0\r\n\r\n", 5), use_tuple);
    (void)ec;
    co_return false;
}

// A response head as the bytes Beast would send.
std::string serialized_head(http::response<http::empty_body>& res) {
    http::response_serializer<http::empty_body> serializer{res};
    serializer.split(true);
    std::string out;
    boost::system::error_code ec;
    while (!ec && !serializer.is_header_done())
        serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
            const std::size_t n = net::buffer_size(buffers);
            const std::size_t at = out.size();
            out.resize(at + n);
            net::buffer_copy(net::buffer(out.data() + at, n), buffers);
            serializer.consume(n);
        });
    return out;
}

// Writes a response; returns false when the connection is no longer usable. For a streamed
// payload, `delivery` (when given) learns how much of it was written.
Awaitable<bool> write_response(Connection& conn, Shared& shared, Response& response, const std::string& request_id,
                               unsigned version, bool keep_alive, std::vector<std::uint8_t>& io,
                               Delivery* delivery = nullptr) {
    Delivery ignored_delivery;
    if (delivery == nullptr) delivery = &ignored_delivery;
    auto& stream = conn.stream;
    const auto io_timeout = std::chrono::seconds(shared.config.io_timeout_seconds);
    if (response.events) co_return co_await write_events(conn, shared, response, request_id, version, *delivery);
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
    // Buffers no larger than the payload: a 4 KiB package is read into 4 KiB.
    auto part_for = [&remaining](std::size_t most) {
        return static_cast<std::size_t>(std::clamp<std::uint64_t>(remaining, 1, most));
    };
    std::shared_ptr<PayloadSource> source = response.payload;
    Result<std::size_t> first = std::size_t{0};
    if (source->in_memory() && remaining <= kInlineReadBytes) {
        // A small payload the database holds: opening it costs a few microseconds, less than
        // waking a pool thread and being woken by it.
        try {
            if (io.size() < remaining) io.resize(static_cast<std::size_t>(remaining));
            first = source->read(std::span(io.data(), static_cast<std::size_t>(remaining)));
        } catch (...) {  // as a job on the pool that throws: an error answered, not a lost session
            first = make_error(ErrorKind::internal, "reading the payload failed");
        }
    } else {
        // A disk read and the opening of its chunks: on the offload pool, like every later part.
        auto part = std::make_shared<PayloadPart>();
        part->bytes.resize(part_for(kIoBufferBytes));
        Offload reading(conn.stream.get_executor(), shared.offload);
        reading.start([part, source] { part->got = source->read(part->bytes); });
        if (!co_await reading.wait()) {
            first = storage_timeout("reading the payload");
        } else if (reading.failed()) {
            first = make_error(ErrorKind::internal, "reading the payload failed");
        } else {
            first = part->got;
            std::swap(io, part->bytes);
        }
    }
    if (!first || (*first == 0 && remaining > 0)) {
        log_line("request " + request_id +
                 ": payload unreadable: " + (first ? std::string("empty") : first.error().message));
        delivery->failure = "the payload could not be read, so an error was answered instead: " +
                            (first ? std::string("empty") : first.error().message);
        Response failure =
            problem_of(first ? make_error(ErrorKind::corruption, "short payload") : first.error(), request_id);
        failure.payload.reset();
        co_return co_await write_response(conn, shared, failure, request_id, version, false, io);
    }
    // The head goes through Beast; the body is written straight to the TLS stream, which costs
    // less per record than a buffer_body serializer.
    http::response<http::empty_body> res{static_cast<http::status>(response.status), version};
    apply_headers(res, response, request_id, keep_alive);
    res.content_length(response.payload_length);
    conn.expires_after(io_timeout);
    if (response.payload_length <= kInlineReadBytes && *first == remaining) {
        // The whole of a small payload is in memory: the head and the body go in one write, so
        // that up to 16 KiB leave in one TLS record and one send instead of two of each.
        const std::string head = serialized_head(res);
        const std::size_t total = head.size() + *first;
        // The deadline moves with each write that makes progress, as for any payload below.
        TransferClock clock(shared.config);
        std::size_t written = 0;
        boost::system::error_code ec;
        while (written < total) {
            const std::size_t into_body = written > head.size() ? written - head.size() : 0;
            conn.expires_at(clock.next_deadline(into_body));
            const std::array<net::const_buffer, 2> rest{net::buffer(head) + written,
                                                        net::buffer(io.data(), *first) + into_body};
            auto [wec, n] = co_await stream.async_write_some(rest, use_tuple);
            written += n;
            if (wec) {
                ec = wec;
                break;
            }
        }
        delivery->sent = written > head.size() ? written - head.size() : 0;
        if (ec) {
            delivery->failure = written < head.size() ? "the connection failed before the payload: " + ec.message()
                                : conn.timed_out ? "the reader took less than the gateway's minimum rate, or stalled"
                                                 : "the connection failed: " + ec.message();
            co_return false;
        }
        co_return keep_alive;
    }
    if (auto [ec, n] = co_await http::async_write(stream, res, use_tuple); ec) {
        delivery->failure = "the connection failed before the payload: " + ec.message();
        co_return false;
    }
    std::size_t filled = *first;
    // While one part is encrypted and sent, the next is read and opened on the offload pool.
    // Larger parts than the connection's buffer: each part costs one disk read on the pool.
    auto ahead = std::make_shared<PayloadPart>();
    if (remaining > filled) {
        // Megabyte parts for large payloads, where each hand-over to the pool must be worth its
        // cost; a payload of a few megabytes goes in parts of the first one's size, so that a
        // hundred concurrent downloads of it do not hold two megabytes each.
        const std::size_t most = response.payload_length > kMediumPayloadBytes ? kDownloadPartBytes : kIoBufferBytes;
        const std::size_t later = static_cast<std::size_t>(std::min<std::uint64_t>(remaining - filled, most));
        ahead->bytes.resize(later);
        if (io.size() < later) io.resize(later);  // it holds the first part: never shrunk
    }
    Offload offload(stream.get_executor(), shared.offload);
    TransferClock clock(shared.config);
    for (;;) {
        remaining -= filled;
        if (remaining > 0) {
            ahead->got = std::size_t{0};
            offload.start([ahead, source] { ahead->got = source->read(ahead->bytes); });
        }
        // Written as the socket takes it, the deadline moved at each write, so that a slow but
        // steady reader is judged by its rate, not by the size of a part.
        boost::system::error_code ec;
        for (std::size_t written = 0; written < filled;) {
            conn.expires_at(clock.next_deadline(delivery->sent));
            auto [wec, wn] =
                co_await stream.async_write_some(net::buffer(io.data() + written, filled - written), use_tuple);
            written += wn;
            delivery->sent += wn;
            if (wec) {
                ec = wec;
                break;
            }
        }
        Result<std::size_t> next = std::size_t{0};
        if (!co_await offload.wait())
            next = storage_timeout("reading the payload");
        else if (offload.failed())
            next = make_error(ErrorKind::internal, "reading the payload failed");
        else if (remaining > 0)
            next = ahead->got;
        if (ec) {
            delivery->failure = conn.timed_out ? "the reader took less than the gateway's minimum rate, or stalled"
                                               : "the connection failed: " + ec.message();
            co_return false;
        }
        if (remaining == 0) break;
        if (!next || *next == 0) {
            // Headers are gone: the only honest signal left is to cut the connection short.
            log_line("request " + request_id +
                     ": payload failed mid-stream: " + (next ? std::string("short read") : next.error().message));
            delivery->failure =
                "the payload could not be read: " + (next ? std::string("short read") : next.error().message);
            conn.stream.cut();  // no close_notify: the client must not take this for a clean end
            co_return false;
        }
        std::swap(io, ahead->bytes);
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

// What one request has come to, as its answer goes out.
struct Exchange {
    RequestHead head;
    unsigned version = 11;
    bool keep_alive = true;
    bool unread_body = false;    // the body was not read, so the framing is lost after the answer
    std::uint64_t received = 0;  // body bytes taken
    std::chrono::steady_clock::time_point started;
};

class Session {
  public:
    // `remote` is "address:port", for the logs.
    Session(Shared& shared, Socket socket, std::string address, std::string remote)
        : shared_(shared),
          config_(shared.config),
          address_(std::move(address)),
          remote_(std::move(remote)),
          conn_(std::make_shared<Connection>(std::move(socket), shared.tls.get())),
          stream_(conn_->stream),
          // Bounded: outside bytes must never grow it past a header and a read's worth (a chunk
          // line with a 300 MiB extension would otherwise be buffered whole).
          buffer_(static_cast<std::size_t>(config_.max_header_bytes) + 64 * 1024) {}

    Awaitable<void> run();

  private:
    // Closing a connection to make room happens on the connection's own thread.
    std::function<void()> on_own_thread(std::function<void(Connection&)> action);
    Awaitable<bool> handshake();
    void admit();
    Awaitable<bool> serve_request();
    Awaitable<void> refuse_header(const boost::system::error_code& ec,
                                  const http::request_parser<http::buffer_body>& parser, RequestHead& head);
    std::optional<Response> refusal(const http::request<http::buffer_body>& req, const RequestHead& head) const;
    Awaitable<Dispatch> route(const RequestHead& head);
    Awaitable<std::optional<Response>> receive_body(http::request_parser<http::buffer_body>& parser,
                                                    Dispatch& dispatched, Exchange& x);
    Awaitable<bool> answer(Exchange& x, Response& response);
    Awaitable<bool> record(std::string entry) {
        return record_audit(shared_, stream_.get_executor(), std::move(entry));
    }

    Shared& shared_;
    const Config& config_;
    std::string address_;
    std::string remote_;
    std::shared_ptr<Connection> conn_;
    Stream& stream_;
    beast::flat_buffer buffer_;
    // Sized where a body moves: a connection that only handshakes, or asks for JSON, needs none,
    // and zeroing 256 KiB per connection was a measurable part of a new connection's cost.
    std::vector<std::uint8_t> io_;
    RequestHead identity_;
    std::optional<PendingHandshake> handshaking_;
    std::optional<ConnectionSlot> slot_;
    ConnectionTable::Admit admitted_ = ConnectionTable::Admit::ok;
};

std::function<void()> Session::on_own_thread(std::function<void(Connection&)> action) {
    return [weak = std::weak_ptr<Connection>(conn_), executor = stream_.get_executor(), action] {
        net::post(executor, [weak, action] {
            if (auto c = weak.lock()) action(*c);
        });
    };
}

Awaitable<void> Session::run() {
    // An unauthenticated socket costs only its share of the pending-handshake bounds, and the
    // oldest pending one gives way when they are reached.
    handshaking_.emplace(shared_.connections, shared_.connections.begin_handshake(
                                                  address_, on_own_thread([](Connection& c) { c.stream.cut(); })));
    struct StopWatchdog {
        Connection& c;
        ~StopWatchdog() {
            c.done = true;
            c.timer.cancel();
        }
    } stop_watchdog{*conn_};
    conn_->expires_after(std::chrono::seconds(config_.handshake_timeout_seconds));
    net::co_spawn(stream_.get_executor(), watchdog(conn_), net::detached);
    if (!co_await handshake()) co_return;
    admit();
    while (co_await serve_request()) {
    }
    conn_->expires_after(std::chrono::seconds(5));
    co_await stream_.async_shutdown(use_tuple);
}

Awaitable<bool> Session::handshake() {
    if (auto [ec, n] = co_await stream_.async_handshake(use_tuple); ec) {
        handshaking_->done();
        // The verifier's reason (expired, not yet valid, revoked…) is what the operator needs.
        log_line("handshake refused from " + remote_ + ": " + printable(refusal_reason(stream_.native_handle(), ec)));
        shared_.counters.handshakes_refused.fetch_add(1, std::memory_order_relaxed);
        // Recorded too: auditors see who knocked. Nothing was granted, so a failure to record
        // changes nothing for the peer.
        if (shared_.refusals.admit(address_))
            co_await record(AuditTrail::refused_entry(remote_, refused_subject(stream_.native_handle()),
                                                      refusal_reason(stream_.native_handle(), ec)));
        co_return false;
    }
    stream_.handshake_done();
    identify_peer(stream_, identity_);
    co_return true;
}

void Session::admit() {
    // A slot is spent only now that the peer is authenticated. Making room closes another
    // connection on its own thread if it is idle; a busy one finishes its request, and counts
    // again until it has closed.
    auto& table = shared_.connections;
    const auto admission = table.admit(identity_.cert_principal_id, on_own_thread([&table](Connection& c) {
                                           c.close_after_request = true;
                                           if (c.idle)
                                               c.stream.cut();
                                           else
                                               table.reinstate(c.slot);
                                       }));
    conn_->slot = admission.id;
    admitted_ = admission.result;
    slot_.emplace(table, admission.id);
    // Refused, it stays among the pending handshakes until it has had its 503: bounded there,
    // and the first to give way.
    if (admitted_ == ConnectionTable::Admit::ok)
        handshaking_->done();
    else
        log_line("connection from " + remote_ + " (" + printable(identity_.cert_principal_id, 64) + ") refused: " +
                 (admitted_ == ConnectionTable::Admit::full ? "every connection slot is busy"
                                                            : "every slot of this principal is busy"));
}

Awaitable<bool> Session::serve_request() {
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(config_.max_header_bytes);
    // The body limit depends on the route, known only after dispatch; see receive_body.
    parser.body_limit(boost::none);
    // A refused connection gets a few seconds to ask, to be told 503; others the idle timeout.
    conn_->expires_after(std::chrono::seconds(admitted_ == ConnectionTable::Admit::ok
                                                  ? config_.idle_timeout_seconds
                                                  : std::min(config_.idle_timeout_seconds, 5U)));
    if (conn_->close_after_request) co_return false;
    // Idle until a whole header has arrived: a connection whose next request is still arriving
    // may be closed to make room (the client retries it), one being served never is.
    conn_->idle = true;
    slot_->idle(true);
    auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, use_tuple);
    conn_->idle = false;
    slot_->idle(false);

    Exchange x;
    x.started = std::chrono::steady_clock::now();
    x.head = identity_;
    x.head.request_id = crypto::random_hex(8);
    x.head.remote = remote_;
    if (ec) {
        co_await refuse_header(ec, parser, x.head);
        co_return false;
    }
    auto& req = parser.get();
    x.head.method = std::string(req.method_string());
    x.head.target = std::string(req.target());
    for (const auto& field : req)
        x.head.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    x.head.has_body = !parser.is_done();
    x.unread_body = x.head.has_body;
    x.version = req.version();
    x.keep_alive = req.keep_alive() && !conn_->close_after_request;

    if (auto refused = refusal(req, x.head)) {
        refused->principal = identity_.cert_principal_id;
        co_await record(AuditTrail::entry(x.head, *refused, 0, refused->body.size()));
        log_line("request " + x.head.request_id + " " + remote_ + " " + printable(x.head.method, 16) + " " +
                 printable(x.head.target) + " " + std::to_string(refused->status) +
                 " refused: " + printable(refused->body));
        co_await write_response(*conn_, shared_, *refused, x.head.request_id, x.version, false, io_);
        if (x.head.has_body) co_await drain(*conn_, io_);
        co_return false;
    }

    Dispatch dispatched = co_await route(x.head);
    Response response;
    if (dispatched.upload) {
        auto outcome = co_await receive_body(parser, dispatched, x);
        if (!outcome) co_return false;  // the client went away mid-body; recorded, nobody to answer
        response = std::move(*outcome);
    } else {
        response = std::move(dispatched.response);
        if (x.head.has_body) x.keep_alive = false;  // the body was not read: the framing is lost
    }
    // An answer to HEAD has a header only (the upload routes' offsets, or a refusal).
    if (req.method() == http::verb::head) {
        response.body.clear();
        response.payload.reset();
    }
    co_return co_await answer(x, response);
}

// A header that could not be read: a connection that ends between requests is no request; one
// that ends inside a header was one, cut short; anything else is answered 400 or 431.
Awaitable<void> Session::refuse_header(const boost::system::error_code& ec,
                                       const http::request_parser<http::buffer_body>& parser, RequestHead& head) {
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::ssl::error::stream_truncated ||
        ec == net::error::operation_aborted || ec == net::error::bad_descriptor || ec == net::error::connection_reset) {
        const auto pending = beast::buffers_to_string(buffer_.data());
        if (parser.got_some() || pending.find_first_not_of(" \t\r\n") != std::string::npos) {
            Response cut =
                problem(ErrorKind::invalid_argument,
                        "the connection ended inside the request header: " + printable(ec.message()), head.request_id);
            cut.audit.action = "request.incomplete";
            cut.audit.failed = true;
            co_await record(AuditTrail::entry(head, cut, pending.size(), 0));
        }
        co_return;
    }
    const int status = ec == http::error::header_limit ? 431 : 400;
    const bool cut = ec == http::error::partial_message;
    log_line("request " + head.request_id + " from " + remote_ + ": malformed: " + printable(ec.message()));
    Response bad = protocol_problem(status,
                                    status == 431 ? "the request header is too large"
                                    : cut         ? "the connection ended inside the request header"
                                                  : "the request is not valid HTTP/1.1",
                                    head.request_id);
    bad.audit.action = cut ? "request.incomplete" : "request.malformed";
    bad.audit.failed = cut;
    co_await record(AuditTrail::entry(head, bad, buffer_.size(), bad.body.size()));
    co_await write_response(*conn_, shared_, bad, head.request_id, 11, false, io_);
}

// Requests refused before any route sees them.
std::optional<Response> Session::refusal(const http::request<http::buffer_body>& req, const RequestHead& head) const {
    // RFC 9112 §6.3: a request whose transfer coding is not chunked has no knowable length.
    // Beast would read it as having no body, and the body would be parsed as the next request:
    // refused, and the connection closed.
    if (const auto te = req.find(http::field::transfer_encoding);
        te != req.end() && (!beast::iequals(te->value(), "chunked") || req.count(http::field::transfer_encoding) != 1 ||
                            req.version() < 11))
        return problem(ErrorKind::invalid_argument,
                       "the request's Transfer-Encoding is not supported (only chunked, alone, on HTTP/1.1)",
                       head.request_id);
    if (admitted_ == ConnectionTable::Admit::ok) return std::nullopt;
    auto busy = problem(ErrorKind::unavailable,
                        admitted_ == ConnectionTable::Admit::full
                            ? "the gateway is serving as many connections as it can; try again shortly"
                            : "this principal already holds as many connections as it may, all busy; try again shortly",
                        head.request_id);
    busy.headers.emplace_back("Retry-After", "5");
    busy.audit.reason = "connection limit";
    return busy;
}

// Routes read the database (an audit page can be 10,000 rows): off the network thread, so one
// slow answer does not hold up the other connections of this thread.
Awaitable<Dispatch> Session::route(const RequestHead& head) {
    // The job owns its copy of the head and its result (see Offload).
    auto asked = std::make_shared<const RequestHead>(head);
    auto dispatched = std::make_shared<Dispatch>();
    Handler* handler = &shared_.handler;
    Offload routing(stream_.get_executor(), shared_.offload);
    routing.start([handler, asked, dispatched] { *dispatched = handler->dispatch(*asked); });
    Dispatch out;
    if (!co_await routing.wait())
        out = Dispatch{problem_of(storage_timeout("answering"), head.request_id), nullptr};
    else if (routing.failed())
        out = Dispatch{problem(ErrorKind::internal, "internal error", head.request_id), nullptr};
    else
        out = std::move(*dispatched);
    co_return out;
}

// The upload path: the body goes part by part into the route's sink, on the offload pool, while
// the next part is read. Returns the answer, or nothing when the client went away mid-body (the
// attempt is recorded, and nothing of it is kept).
Awaitable<std::optional<Response>> Session::receive_body(http::request_parser<http::buffer_body>& parser,
                                                         Dispatch& dispatched, Exchange& x) {
    const auto& head = x.head;
    auto& req = parser.get();
    const auto declared = parser.content_length();
    const auto principal = dispatched.response.principal;
    auto answered = [&](Response r) {
        r.principal = principal;
        dispatched.upload.reset();  // an unfinished package is removed here
        return std::optional<Response>(std::move(r));
    };
    if (declared && *declared > dispatched.upload->limit()) {
        // Refused before a byte of the body is read; the connection cannot be reused.
        x.keep_alive = false;
        co_return answered(
            problem(ErrorKind::too_large, "the body is larger than this gateway accepts", head.request_id));
    }
    parser.body_limit(dispatched.upload->limit());  // bounds chunked bodies as they arrive
    if (const auto expect = head.header("Expect"); expect && beast::iequals(*expect, "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, req.version()};
        conn_->expires_after(std::chrono::seconds(config_.io_timeout_seconds));
        if (auto [wec, wn] = co_await http::async_write(stream_, go_on, use_tuple); wec) {
            Response gone =
                problem(ErrorKind::invalid_argument,
                        "the connection failed before the body was sent: " + wec.message() + "; nothing was kept",
                        head.request_id);
            gone.audit.action = "request.incomplete";
            gone.audit.failed = true;
            gone.principal = principal;
            dispatched.upload.reset();
            co_await record(AuditTrail::entry(head, gone, 0, 0));
            co_return std::nullopt;
        }
    }

    Status sink_status;
    boost::system::error_code read_error;
    // Two buffers: the network fills one while the offload job consumes the other, which the job
    // owns, with the sink, until it is done (see Offload).
    // Sized to the body when it is declared: a 4 KiB push does not zero (and map, and unmap) two
    // megabytes.
    const std::size_t part_bytes =
        declared ? static_cast<std::size_t>(std::clamp<std::uint64_t>(*declared, 1, kUploadPartBytes))
                 : kUploadPartBytes;
    io_.resize(part_bytes);
    auto in_flight = std::make_shared<UploadPart>();
    in_flight->bytes.resize(part_bytes);
    Offload offload(stream_.get_executor(), shared_.offload);
    TransferClock clock(config_);
    std::shared_ptr<UploadSink> sink = dispatched.upload;
    // The previous part's outcome, once it is known.
    auto taken = [&]() -> Awaitable<void> {
        if (!co_await offload.wait()) {
            if (sink_status) sink_status = storage_timeout("sealing the upload");  // said once
        } else if (offload.failed()) {
            sink_status = make_error(ErrorKind::internal, "sealing the upload failed");
        } else if (sink_status && !in_flight->status) {
            sink_status = in_flight->status;
        }
    };
    // Waits for the previous part to be taken, then hands this one over; false once the sink
    // has refused (the rest of the body is not read).
    auto hand_over = [&](std::size_t got) -> Awaitable<bool> {
        x.received += got;
        co_await taken();
        if (!sink_status) co_return false;
        if (got == 0) co_return true;
        std::swap(io_, in_flight->bytes);
        offload.start([part = in_flight, sink, got] { part->status = sink->write({part->bytes.data(), got}); });
        co_return true;
    };
    if (declared) {
        // A Content-Length body is read straight from the TLS stream, past Beast's parser, whose
        // per-record bookkeeping cost more than the decryption. Bytes that arrived with the
        // header come first.
        for (std::uint64_t left = *declared; left > 0 && !read_error;) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(io_.size(), left));
            std::size_t got = 0;
            if (buffer_.size() > 0) {
                got = net::buffer_copy(net::buffer(io_.data(), want), buffer_.data());
                buffer_.consume(got);
            } else {
                // Read by read; the deadline applies to each read, so a slow client is judged by
                // its progress, not by the part size.
                while (got < want) {
                    conn_->expires_at(clock.next_deadline(x.received + got));
                    auto [rec, read_n] =
                        co_await stream_.async_read_some(net::buffer(io_.data() + got, want - got), use_tuple);
                    got += read_n;
                    if (rec) {
                        read_error = rec;
                        break;
                    }
                }
            }
            left -= got;
            if (!co_await hand_over(got)) break;
        }
    } else {
        while (!parser.is_done() && !read_error) {
            req.body().data = io_.data();
            req.body().size = io_.size();
            // Read by read until the part is full, the deadline moved at each.
            while (req.body().size > 0 && !parser.is_done()) {
                conn_->expires_at(clock.next_deadline(x.received + io_.size() - req.body().size));
                auto [part_error, rn] = co_await http::async_read_some(stream_, buffer_, parser, use_tuple);
                if (part_error == http::error::need_buffer) break;
                if (part_error) {
                    read_error = part_error;
                    break;
                }
            }
            if (!co_await hand_over(io_.size() - req.body().size)) break;
        }
    }
    co_await taken();

    if (read_error == http::error::body_limit) {
        x.keep_alive = false;
        co_return answered(
            problem(ErrorKind::too_large, "the body is larger than this gateway accepts", head.request_id));
    }
    if (read_error && read_error.category() == http::make_error_code(http::error::bad_chunk).category() &&
        read_error != http::error::partial_message) {
        // The chunked framing itself is wrong (or a chunk line outgrew the buffer): the client
        // is still there to be told, and nothing was kept.
        auto bad = problem(ErrorKind::invalid_argument,
                           "the body's chunked framing is not valid: " + read_error.message() + "; nothing was kept",
                           head.request_id);
        bad.audit.failed = true;
        x.keep_alive = false;
        co_return answered(std::move(bad));
    }
    if (read_error) {
        // The client went away or stalled mid-body: nothing is kept, nobody to answer.
        const auto kept = sink->kept_when_cut();
        log_line("request " + head.request_id + " from " + remote_ + " " + head.method + " " + printable(head.target) +
                 ": body incomplete after " + std::to_string(x.received) +
                 " bytes: " + printable(read_error.message()) + (conn_->timed_out ? " (too slow)" : "") + "; " + kept);
        Response gone = problem(
            ErrorKind::invalid_argument,
            (conn_->timed_out ? std::string("the body arrived slower than the gateway's minimum rate, or stalled")
                              : "the body ended early: " + read_error.message()) +
                "; " + kept,
            head.request_id);
        gone.audit.failed = true;
        gone.principal = principal;
        dispatched.upload.reset();
        co_await record(AuditTrail::entry(head, gone, x.received, 0));
        co_return std::nullopt;
    }
    if (!sink_status) {
        x.keep_alive = false;
        co_return answered(problem_of(sink_status.error(), head.request_id));
    }
    x.unread_body = false;
    // The body's deadline must not cut the answer to a package being committed: the client
    // would push it again for want of its receipt.
    conn_->expires_after(std::chrono::seconds(config_.io_timeout_seconds));
    // finish() fsyncs, signs and commits: off the network thread too.
    auto finished = std::make_shared<Response>();
    Offload finishing(stream_.get_executor(), shared_.offload);
    finishing.start([sink, finished] { *finished = sink->finish(); });
    const bool finished_in_time = co_await finishing.wait();
    if (finished_in_time && finishing.failed())
        *finished = problem(ErrorKind::internal, "internal error", head.request_id);
    if (!finished_in_time) {
        x.keep_alive = false;
        *finished = problem_of(storage_timeout("committing the package",
                                               "it may yet be stored: look for it among the dataset's packages "
                                               "before pushing it again"),
                               head.request_id);
    }
    auto out = answered(std::move(*finished));
    co_return out;
}

// The answer: its access-log entry made durable first (fail closed), then the response or the
// payload, then the server log line. False when the connection ends here.
// An event stream's place among the gateway's streams, from before its opening entry until its
// closing entry is recorded. Should the network threads stop first (the gateway stopping while a
// client does not read), the closing entry is still queued as the session is destroyed, and
// written before the store closes.
class StreamPlace {
  public:
    StreamPlace(EventStreams& streams, AuditTrail& audit, std::string principal)
        : streams_(streams), audit_(audit), principal_(std::move(principal)) {}
    ~StreamPlace() {
        if (!closing_.empty()) audit_.record_async(std::move(closing_), [](Result<std::uint64_t>) {});
        streams_.close(principal_);
    }
    StreamPlace(const StreamPlace&) = delete;
    StreamPlace& operator=(const StreamPlace&) = delete;
    // The entry to write if the stream is cut off by the gateway's end; empty once written.
    std::string closing_;

  private:
    EventStreams& streams_;
    AuditTrail& audit_;
    std::string principal_;
};

Awaitable<bool> Session::answer(Exchange& x, Response& response) {
    const auto& head = x.head;
    std::optional<StreamPlace> place;
    if (response.events) {
        // Few per principal and few in all: each holds a connection for up to an hour, busy, so
        // that the connection table never closes it to make room.
        auto who = response.principal;
        if (x.version < 11) {
            response = problem(ErrorKind::invalid_argument, "an event stream needs HTTP/1.1", head.request_id);
        } else if (!shared_.streams.try_open(who)) {
            response = problem(ErrorKind::unavailable,
                               "too many event streams: at most " + std::to_string(EventStreams::kPerPrincipal) +
                                   " per principal and " + std::to_string(EventStreams::kMost) +
                                   " in all; close one, or try again later",
                               head.request_id);
            response.headers.emplace_back("Retry-After", "60");
        } else {
            place.emplace(shared_.streams, shared_.audit, who);
        }
        response.principal = std::move(who);
        x.keep_alive = false;
    }
    // A request whose entry cannot be made durable is answered 503, and its payload (if any) is
    // not sent. A pushed package's entry was committed with it.
    if (!response.audit.committed_index) {
        const auto sent_bytes = response.payload ? response.payload_length : response.body.size();
        if (!co_await record(AuditTrail::entry(head, response, x.received, sent_bytes))) {
            if (response.after_payload)  // nothing of the payload goes
                net::post(shared_.offload, [done = std::move(response.after_payload)] { done(0); });
            auto who = std::move(response.principal);
            response = problem(ErrorKind::unavailable, "the access log cannot be written; the request was not served",
                               head.request_id);
            response.principal = std::move(who);
            x.keep_alive = false;
        }
    }
    if (place && response.events) {
        Response slim;
        slim.status = response.status;
        slim.principal = response.principal;
        slim.audit = response.audit;
        place->closing_ =
            AuditTrail::stream_closed_entry(head, slim, 0, 0, "the gateway stopped before the stream ended");
    } else if (place) {
        place.reset();  // the opening entry could not be written: no stream
    }
    const int status = response.status;
    const std::string detail = response.log_detail.empty() ? "" : " detail=\"" + printable(response.log_detail) + "\"";
    const auto principal = response.principal.empty() ? std::string("-") : response.principal;
    const auto sent = response.payload ? response.payload_length : response.body.size();
    const bool streamed = response.payload != nullptr;
    Delivery delivery;
    const bool again =
        co_await write_response(*conn_, shared_, response, head.request_id, x.version, x.keep_alive, io_, &delivery);
    if (streamed && response.after_payload)
        net::post(shared_.offload, [done = std::move(response.after_payload), n = delivery.sent] { done(n); });
    if (response.events && place) {
        // Its opening was recorded before the first event; this entry records its end.
        place->closing_.clear();
        co_await record(
            AuditTrail::stream_closed_entry(head, response, delivery.sent, delivery.events, delivery.failure));
        place.reset();
    } else if (streamed && (delivery.sent < sent || !delivery.failure.empty())) {
        // The entry written before the transfer promised all of it; this one, with the same
        // request id, says how much went and why the rest did not.
        shared_.counters.transfers_incomplete.fetch_add(1, std::memory_order_relaxed);
        co_await record(
            AuditTrail::incomplete_entry(head, response, x.received, delivery.sent, sent, delivery.failure));
    }
    const bool events = response.events != nullptr;
    shared_.counters.count_response(status, x.received, streamed || events ? delivery.sent : sent);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - x.started).count();
    log_line("request " + head.request_id + " " + remote_ + " " + principal + " " + printable(head.method, 16) + " " +
             printable(head.target) + " " + std::to_string(status) + " in=" + std::to_string(x.received) +
             " out=" + std::to_string(events ? delivery.sent : sent) + " " + std::to_string(ms) + "ms" + detail);
    if (!again && x.unread_body) co_await drain(*conn_, io_);
    // An idle connection keeps no body buffer: a thousand kept-alive clients between requests
    // must not hold a megabyte each.
    if (io_.capacity() > kIdleBufferBytes) {
        crypto::wipe(io_);  // it held a payload's plaintext
        std::vector<std::uint8_t>().swap(io_);
    }
    if (again) {
        if (buffer_.size() == 0) buffer_.shrink_to_fit();
        stream_.release_idle_buffers();
    }
    co_return again;
}

}  // namespace

Awaitable<void> serve_connection(Shared& shared, Socket socket, std::string address) {
    boost::system::error_code ignored;
    const auto endpoint = socket.remote_endpoint(ignored);
    std::string remote = address + ":" + std::to_string(endpoint.port());
    Session session(shared, std::move(socket), std::move(address), std::move(remote));
    co_await session.run();
}

}  // namespace serambi::gateway
