// HTTP/1.1 request framing exactly as gateway/session.cpp sets Beast up: a request_parser with a
// buffer_body, the configured header limit and no body limit until the route is known, then the
// route's limit while a chunked body is read through a fixed buffer; a Content-Length body is
// taken raw past the parser, and the next request of the connection is parsed from what is left.
// Each head is turned into a RequestHead and its access-log entry, as the server does.
// Its own translation unit: Beast is slow to compile.
#include <algorithm>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <vector>

#include "gateway/handler.h"

namespace http = boost::beast::http;
namespace net = boost::asio;
using serambi::gateway::AuditTrail;
using serambi::gateway::RequestHead;

namespace {

// The client: hands out the input in reads of at most `step` bytes, so that every split of the
// stream between reads is tried.
class Stream {
  public:
    Stream(const std::uint8_t* data, std::size_t size, std::size_t step) : data_(data), left_(size), step_(step) {}
    template <class Buffers>
    std::size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
        if (left_ == 0) {
            ec = http::error::end_of_stream;
            return 0;
        }
        ec = {};
        const auto n = net::buffer_copy(buffers, net::buffer(data_, std::min(left_, step_)));
        data_ += n;
        left_ -= n;
        return n;
    }
    template <class Buffers>
    std::size_t read_some(const Buffers& buffers) {
        boost::system::error_code ec;
        return read_some(buffers, ec);
    }

  private:
    const std::uint8_t* data_;
    std::size_t left_;
    std::size_t step_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static const serambi::gateway::Config config;
    Stream stream(data + 1, size - 1, 1 + data[0] % 64 * 8);
    boost::beast::flat_buffer buffer;
    std::vector<std::uint8_t> io(4096);  // smaller than the server's part, to cross more boundaries
    for (int request = 0; request < 8; ++request) {
        http::request_parser<http::buffer_body> parser;
        parser.header_limit(config.max_header_bytes);
        parser.body_limit(boost::none);
        boost::system::error_code ec;
        http::read_header(stream, buffer, parser, ec);
        if (ec) break;  // the server answers 400 or 431 and closes
        auto& req = parser.get();
        RequestHead head;
        head.method = std::string(req.method_string());
        head.target = std::string(req.target());
        for (const auto& field : req)
            head.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        head.has_body = !parser.is_done();
        bool keep_alive = req.keep_alive() && req.method() != http::verb::head;
        (void)head.header("Expect");
        serambi::gateway::Response refused =
            serambi::gateway::problem(serambi::ErrorKind::invalid_argument, "fuzz", "fuzz");
        const auto entry = AuditTrail::entry(head, refused, buffer.size(), 0);
        if (!boost::json::parse(entry).is_object()) __builtin_trap();  // a log line is always an object
        if (!head.has_body) {
            if (!keep_alive) break;
            continue;
        }
        // Every body is read as a JSON route's would be.
        if (const auto declared = parser.content_length()) {
            if (*declared > config.max_json_bytes) break;  // 413 before a byte is read
            std::uint64_t left = *declared;
            while (left > 0) {
                std::size_t got = 0;
                if (buffer.size() > 0) {
                    got = net::buffer_copy(
                        net::buffer(io.data(), static_cast<std::size_t>(std::min<std::uint64_t>(io.size(), left))),
                        buffer.data());
                    buffer.consume(got);
                } else {
                    got = stream.read_some(
                        net::buffer(io.data(), static_cast<std::size_t>(std::min<std::uint64_t>(io.size(), left))), ec);
                    if (ec) break;
                }
                left -= got;
            }
            if (left > 0) break;
        } else {
            parser.body_limit(config.max_json_bytes);
            while (!parser.is_done()) {
                req.body().data = io.data();
                req.body().size = io.size();
                http::read(stream, buffer, parser, ec);
                if (ec == http::error::need_buffer) ec = {};
                if (req.body().size > io.size()) __builtin_trap();
                if (ec) break;
            }
            if (ec) break;
        }
        if (!keep_alive) break;
    }
    return 0;
}
