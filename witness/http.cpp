// The witness over HTTP, both ends: the server that `serambi witness serve` runs and the client
// the gateway submits its checkpoints with. The only file of the witness that includes Beast.
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <iostream>
#include <map>

#include "witness/witness.h"

namespace serambi::witness {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::size_t kMaxBodyBytes = 64 * 1024;
constexpr std::uint32_t kMaxHeaderBytes = 8 * 1024;
constexpr int kMaxConnections = 256;
constexpr int kMaxPerAddress = 8;  // one host (an IPv4 address, an IPv6 /64) cannot hold every slot
constexpr int kMaxRequestsPerConnection = 100;
constexpr auto kIoTimeout = std::chrono::seconds(10);
constexpr auto kIdleTimeout = std::chrono::seconds(5);  // between requests on a kept-alive connection

net::awaitable<void> session(tcp::socket socket, Witness& witness) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    try {
        for (int served = 0; served < kMaxRequestsPerConnection; ++served) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(kMaxHeaderBytes);
            parser.body_limit(kMaxBodyBytes);
            stream.expires_after(served == 0 ? kIoTimeout : kIdleTimeout);
            co_await http::async_read_header(stream, buffer, parser, net::use_awaitable);
            stream.expires_after(kIoTimeout);
            co_await http::async_read(stream, buffer, parser, net::use_awaitable);
            const auto& req = parser.get();
            http::response<http::string_body> res{http::status::ok, req.version()};
            res.set(http::field::server, "serambi-witness");
            res.set(http::field::cache_control, "no-store");
            res.set(http::field::content_type, "text/plain; charset=utf-8");
            const auto target = req.target();
            if (target == "/add-checkpoint") {
                if (req.method() != http::verb::post) {
                    res.result(http::status::method_not_allowed);
                    res.set(http::field::allow, "POST");
                    res.body() = "add-checkpoint takes POST\n";
                } else {
                    auto answer = witness.add_checkpoint(req.body());
                    res.result(answer.status);
                    res.set(http::field::content_type, answer.content_type);
                    res.body() = std::move(answer.body);
                }
            } else if ((target == "/" || target == "/key") && req.method() == http::verb::get) {
                // The key to configure verifiers with: public, and what a cosignature is checked by.
                res.body() = witness.verifier_key() + "\n";
            } else {
                res.result(http::status::not_found);
                res.body() = "no such route (POST /add-checkpoint, GET /key)\n";
            }
            res.keep_alive(req.keep_alive() && served + 1 < kMaxRequestsPerConnection);
            res.prepare_payload();
            stream.expires_after(kIoTimeout);
            co_await http::async_write(stream, res, net::use_awaitable);
            if (!res.keep_alive()) break;
        }
    } catch (const std::exception&) {
        // A closed, timed-out or malformed connection ends here; nothing was changed for it.
    }
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, Witness& witness) {
    int open = 0;
    std::map<net::ip::address, int> per_address;
    net::steady_timer pause(acceptor.get_executor());
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(net::as_tuple(net::use_awaitable));
        if (ec == net::error::operation_aborted) co_return;
        if (ec) {
            // Out of descriptors, say: wait rather than spin on an error that repeats at once.
            pause.expires_after(std::chrono::milliseconds(100));
            co_await pause.async_wait(net::as_tuple(net::use_awaitable));
            continue;
        }
        boost::system::error_code peer_error;
        auto peer = socket.remote_endpoint(peer_error).address();
        if (peer.is_v6() && !peer.to_v6().is_v4_mapped()) {
            // One host commonly holds a whole /64: counted as one address.
            auto bytes = peer.to_v6().to_bytes();
            std::fill(bytes.begin() + 8, bytes.end(), 0);
            peer = net::ip::address_v6(bytes);
        }
        if (peer_error || open >= kMaxConnections || per_address[peer] >= kMaxPerAddress) {
            socket.close(ec);  // full: a new client waits for a slot rather than starving the rest
            if (per_address[peer] == 0) per_address.erase(peer);
            continue;
        }
        ++open;
        ++per_address[peer];
        net::co_spawn(
            acceptor.get_executor(),
            [&witness, &open, &per_address, peer, s = std::move(socket)]() mutable -> net::awaitable<void> {
                co_await session(std::move(s), witness);
                --open;
                if (--per_address[peer] == 0) per_address.erase(peer);
            },
            net::detached);
    }
}

struct Url {
    std::string host;
    std::string port = "80";
    std::string prefix;
};

bool parse_url(std::string_view url, Url& out) {
    if (!url.starts_with("http://")) return false;
    url.remove_prefix(7);
    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    out.prefix = slash == std::string_view::npos ? "" : std::string(url.substr(slash));
    while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
    if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
    if (authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return false;
        out.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
        if (!authority.empty() && authority.front() != ':') return false;
    } else {
        out.host = std::string(authority.substr(0, authority.find(':')));
        authority.remove_prefix(out.host.size());
    }
    if (!authority.empty()) {
        out.port = std::string(authority.substr(1));
        if (out.port.empty() || out.port.size() > 5 || out.port.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(out.port) == 0 || std::stoul(out.port) > 65535)
            return false;
    }
    for (const char c : out.prefix + out.host)
        if (c <= ' ' || c >= 0x7f || c == '?' || c == '#') return false;
    return !out.host.empty();
}

}  // namespace

bool is_witness_url(std::string_view url) noexcept {
    try {
        Url parsed;
        return parse_url(url, parsed);
    } catch (...) {
        return false;
    }
}

int serve(const Config& config) {
    auto witness = Witness::open(config);
    if (!witness) {
        std::cerr << "serambi witness serve: cannot start: " << witness.error().message << "\n";
        return 1;
    }
    try {
        net::io_context context(1);
        tcp::resolver resolver(context);
        const auto endpoints =
            resolver.resolve(config.listen_host, std::to_string(config.listen_port), tcp::resolver::numeric_service);
        tcp::acceptor acceptor(context);
        const tcp::endpoint endpoint = *endpoints.begin();
        acceptor.open(endpoint.protocol());
        acceptor.set_option(net::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen();
        net::signal_set signals(context, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code&, int) {
            boost::system::error_code ec;
            acceptor.close(ec);
            context.stop();
        });
        net::co_spawn(context, accept_loop(acceptor, **witness), net::detached);
        std::cerr << "serambi witness: listening on " << config.listen_host << ":" << config.listen_port << " as "
                  << (*witness)->verifier_key() << " for " << config.logs.size() << " log(s)" << std::endl;
        context.run();
    } catch (const std::exception& e) {
        std::cerr << "serambi witness serve: cannot listen on " << config.listen_host << ":" << config.listen_port
                  << ": " << e.what() << "\n";
        return 1;
    }
    std::cerr << "serambi witness: stopped\n";
    return 0;
}

Result<Reply> submit_checkpoint(const std::string& url, const std::string& body, std::chrono::seconds timeout) {
    Url parsed;
    try {
        if (!parse_url(url, parsed)) return make_error(ErrorKind::invalid_argument, "not a witness URL: " + url);
    } catch (const std::exception&) {
        return make_error(ErrorKind::invalid_argument, "not a witness URL: " + url);
    }
    // Asynchronous operations on one private context, because only they honour the stream's
    // deadline: a witness that stops answering costs `timeout`, not the gateway's witness thread.
    net::io_context context(1);
    Result<Reply> out = make_error(ErrorKind::unavailable, "witness " + url + " did not answer");
    auto exchange = [&]() -> net::awaitable<void> {
        tcp::resolver resolver(context);
        beast::tcp_stream stream(context);
        stream.expires_after(timeout);
        const auto endpoints = co_await resolver.async_resolve(parsed.host, parsed.port, net::use_awaitable);
        co_await stream.async_connect(endpoints, net::use_awaitable);
        http::request<http::string_body> req{http::verb::post, parsed.prefix + "/add-checkpoint", 11};
        req.set(http::field::host, parsed.host + ":" + parsed.port);
        req.set(http::field::user_agent, "serambi-gateway");
        req.set(http::field::content_type, "text/plain; charset=utf-8");
        req.body() = body;
        req.keep_alive(false);
        req.prepare_payload();
        co_await http::async_write(stream, req, net::use_awaitable);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(kMaxBodyBytes);
        co_await http::async_read(stream, buffer, parser, net::use_awaitable);
        Reply reply;
        reply.status = parser.get().result_int();
        reply.content_type = std::string(parser.get()[http::field::content_type]);
        reply.body = std::move(parser.get().body());
        beast::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        out = std::move(reply);
    };
    net::co_spawn(context, exchange(), [&](std::exception_ptr failure) {
        if (!failure) return;
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            out = make_error(ErrorKind::unavailable, "witness " + url + " cannot be reached: " + e.what());
        }
    });
    context.run();
    return out;
}

}  // namespace serambi::witness
