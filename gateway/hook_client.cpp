// Webhook receivers: their URLs, the addresses they may resolve to, and one delivery attempt.
// The gateway's second file with Boost.Beast (a client; session.cpp is the server).
#include "gateway/hook_client.h"

#include <openssl/ssl.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdint>
#include <optional>

#include "gateway/tls.h"

namespace serambi::gateway {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr std::size_t kMaxUrlBytes = 2048;

struct Network {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 as its IPv4-mapped IPv6 form
    unsigned prefix = 0;                   // of 128
};

std::array<std::uint8_t, 16> as_v6_bytes(const net::ip::address& a) {
    if (a.is_v6()) return a.to_v6().to_bytes();
    return net::ip::make_address_v6(net::ip::v4_mapped, a.to_v4()).to_bytes();
}

bool contains(const Network& n, const std::array<std::uint8_t, 16>& address) {
    unsigned left = n.prefix;
    for (std::size_t i = 0; i < 16 && left > 0; ++i) {
        const unsigned bits = left >= 8 ? 8 : left;
        const auto mask = static_cast<std::uint8_t>(0xFF << (8 - bits));
        if ((n.bytes[i] & mask) != (address[i] & mask)) return false;
        left -= bits;
    }
    return true;
}

std::optional<Network> parse_network(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos || slash + 1 >= text.size() || text.size() - slash > 4) return std::nullopt;
    boost::system::error_code ec;
    const auto address = net::ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec) return std::nullopt;
    unsigned prefix = 0;
    for (char c : text.substr(slash + 1)) {
        if (c < '0' || c > '9') return std::nullopt;
        prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    }
    const unsigned max = address.is_v4() ? 32 : 128;
    if (prefix > max) return std::nullopt;
    return Network{as_v6_bytes(address), address.is_v4() ? prefix + 96 : prefix};
}

// What no receiver may be, unless an allowed network says otherwise: the gateway's own host and
// networks, addresses that are not one host, and the ranges that reach back into them (IPv4
// inside IPv6 by mapping or NAT64).
const std::vector<Network>& forbidden_networks() {
    static const std::vector<Network> networks = [] {
        std::vector<Network> out;
        for (const char* cidr :
             {"0.0.0.0/8",      "10.0.0.0/8",   "100.64.0.0/10",  "127.0.0.0/8",    "169.254.0.0/16", "172.16.0.0/12",
              "192.0.0.0/24",   "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",  "198.51.100.0/24",
              "203.0.113.0/24", "224.0.0.0/4",  "240.0.0.0/4",    "::/96",          "::1/128",        "64:ff9b::/96",
              "64:ff9b:1::/48", "100::/64",     "2001:db8::/32",  "2002::/16",      "fc00::/7",       "fe80::/10",
              "fec0::/10",      "ff00::/8"})
            out.push_back(*parse_network(cidr));
        return out;
    }();
    return networks;
}

Status check_address(const net::ip::address& address, const ReceiverRules& rules, const std::string& host) {
    // IPv4 is judged in its IPv4-mapped form, so that ::ffff:127.0.0.1 is 127.0.0.1.
    const auto bytes = as_v6_bytes(address);
    bool forbidden = false;
    for (const auto& n : forbidden_networks())
        if (contains(n, bytes)) forbidden = true;
    if (!forbidden) return {};
    for (const auto& allowed : rules.allowed_networks)
        if (auto n = parse_network(allowed); n && contains(*n, bytes)) return {};
    // The address itself is not told: it would map the gateway's own network for whoever asks.
    return make_error(ErrorKind::invalid_argument,
                      "the receiver " + host +
                          " resolves to a loopback, private, link-local or reserved address, which [webhooks] "
                          "allowed_networks does not allow");
}

// The receiver's addresses, every one of them checked; the connection is then made only to these,
// so that a second lookup cannot answer differently (DNS rebinding).
Result<tcp::resolver::results_type> resolve_checked(net::io_context& io, const HookUrl& url,
                                                    const ReceiverRules& rules) {
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto results = resolver.resolve(url.host, url.port, tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
        return make_error(ErrorKind::invalid_argument, "the receiver's host " + url.host + " does not resolve");
    for (const auto& entry : results)
        if (auto s = check_address(entry.endpoint().address(), rules, url.host); !s) return s.error();
    return results;
}

bool is_host_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

}  // namespace

Result<HookUrl> parse_hook_url(std::string_view url) {
    auto bad = [](const std::string& why) { return make_error(ErrorKind::invalid_argument, "the webhook URL " + why); };
    if (url.size() > kMaxUrlBytes) return bad("is longer than 2048 bytes");
    for (unsigned char c : url)
        if (c <= 0x20 || c >= 0x7F)
            return bad("may hold only printable ASCII without spaces (percent-encode the rest)");
    constexpr std::string_view scheme = "https://";
    if (!url.starts_with(scheme)) return bad("must start with https:// (deliveries are always encrypted)");
    if (url.find('#') != std::string_view::npos) return bad("may not have a fragment (#)");
    const auto rest = url.substr(scheme.size());
    const auto authority_end = rest.find_first_of("/?");
    const auto authority = rest.substr(0, authority_end);
    if (authority.find('@') != std::string_view::npos) return bad("may not carry a user name or password");
    HookUrl out;
    std::string_view port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return bad("has an unclosed [ in its host");
        out.host = std::string(authority.substr(1, close - 1));
        boost::system::error_code ec;
        net::ip::make_address_v6(out.host, ec);
        if (ec) return bad("has a bracketed host that is not an IPv6 address");
        const auto after = authority.substr(close + 1);
        if (!after.empty() && !after.starts_with(':')) return bad("has something after its IPv6 host");
        if (!after.empty()) port = after.substr(1);
        if (!after.empty() && port.empty()) return bad("has an empty port");
    } else {
        const auto colon = authority.find(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
            if (port.empty()) return bad("has an empty port");
        }
        if (out.host.size() > 253) return bad("has a host name longer than 253 bytes");
        for (char c : out.host)
            if (!is_host_char(c)) return bad("has a host with characters other than letters, digits, dots and hyphens");
    }
    if (out.host.empty()) return bad("has no host");
    if (!port.empty()) {
        unsigned value = 0;
        for (char c : port) {
            if (c < '0' || c > '9' || value > 6553) return bad("has a port that is not a number from 1 to 65535");
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        if (value == 0 || value > 65535) return bad("has a port that is not a number from 1 to 65535");
        out.port = std::to_string(value);
    } else {
        out.port = "443";
    }
    out.target = authority_end == std::string_view::npos ? std::string("/") : std::string(rest.substr(authority_end));
    if (out.target.starts_with('?')) out.target.insert(0, "/");
    return out;
}

bool is_network(std::string_view text) noexcept {
    try {
        return parse_network(text).has_value();
    } catch (...) {
        return false;
    }
}

Status check_receiver(const HookUrl& url, const ReceiverRules& rules) {
    net::io_context io(1);
    auto resolved = resolve_checked(io, url, rules);
    if (!resolved) return resolved.error();
    return {};
}

Result<int> post_to_receiver(const HookUrl& url, const ReceiverRules& rules,
                             const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
    net::io_context io(1);
    auto endpoints = resolve_checked(io, url, rules);
    if (!endpoints) return endpoints.error();

    ssl::context tls(ssl::context::tls_client);
    if (auto trusted = trust_servers(tls, rules.ca_file, "[webhooks] ca_file"); !trusted) return trusted.error();

    // Asynchronous operations on one private context, because only they honour the stream's
    // deadline; callbacks rather than coroutines, which clang 14 cannot compile here with debug
    // information (the fuzzing build).
    Result<int> out = make_error(ErrorKind::unavailable, "the receiver did not answer in time");
    beast::ssl_stream<beast::tcp_stream> stream(io, tls);
    auto& tcp_layer = beast::get_lowest_layer(stream);
    boost::system::error_code literal;
    net::ip::make_address(url.host, literal);
    if (literal && !SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()))
        return make_error(ErrorKind::unavailable, "cannot set the TLS server name");
    stream.set_verify_callback(ssl::host_name_verification(url.host));

    http::request<http::string_body> req{http::verb::post, url.target, 11};
    const bool default_port = url.port == "443";
    const std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    req.set(http::field::host, default_port ? host : host + ":" + url.port);
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.keep_alive(false);
    req.prepare_payload();
    beast::flat_buffer buffer;
    // Only the status matters; the body is not read, so a receiver cannot make us hold one.
    http::response_parser<http::empty_body> parser;
    parser.header_limit(16 * 1024);

    auto failed = [&](const boost::system::error_code& ec) {
        const std::string why = ec == beast::error::timeout
                                    ? "no answer within " + std::to_string(rules.timeout.count()) + " s"
                                    : ec.message();
        out = make_error(ErrorKind::unavailable, "the receiver cannot be reached: " + why);
    };
    auto got_header = [&](const boost::system::error_code& ec, std::size_t) {
        if (ec) return failed(ec);
        out = static_cast<int>(parser.get().result_int());
        tcp_layer.close();
    };
    auto sent = [&](const boost::system::error_code& ec, std::size_t) {
        if (ec) return failed(ec);
        http::async_read_header(stream, buffer, parser, got_header);
    };
    auto secured = [&](const boost::system::error_code& ec) {
        if (ec) return failed(ec);
        http::async_write(stream, req, sent);
    };
    auto connected = [&](const boost::system::error_code& ec, const tcp::endpoint&) {
        if (ec) return failed(ec);
        stream.async_handshake(ssl::stream_base::client, secured);
    };
    // One deadline for the whole attempt: a receiver that trickles cannot hold the sender.
    tcp_layer.expires_after(rules.timeout);
    tcp_layer.async_connect(*endpoints, connected);
    io.run();
    return out;
}

}  // namespace serambi::gateway
