// Boundary checks and the problem+json error shape.
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "gateway/handler.h"

namespace serambi::gateway {

std::optional<std::string> RequestHead::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
            return v;
    }
    return std::nullopt;
}

int http_status_of(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::invalid_argument:
            return 400;
        case ErrorKind::unauthenticated:
            return 401;
        case ErrorKind::permission_denied:
            return 403;
        case ErrorKind::not_found:
            return 404;
        case ErrorKind::conflict:
            return 409;
        case ErrorKind::too_large:
            return 413;
        case ErrorKind::corruption:
            return 500;
        case ErrorKind::io_error:
            return 500;
        case ErrorKind::unavailable:
            return 503;
        case ErrorKind::internal:
            return 500;
    }
    return 500;
}

namespace {
std::string_view title_of(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 409:
            return "Conflict";
        case 411:
            return "Length Required";
        case 413:
            return "Content Too Large";
        case 415:
            return "Unsupported Media Type";
        case 416:
            return "Range Not Satisfiable";
        case 417:
            return "Expectation Failed";
        case 412:
            return "Precondition Failed";
        case 422:
            return "Unprocessable Content";
        case 423:
            return "Locked";
        case 429:
            return "Too Many Requests";
        case 460:
            return "Checksum Mismatch";  // tus 1.0.0, checksum extension
        case 431:
            return "Request Header Fields Too Large";
        case 503:
            return "Service Unavailable";
        default:
            return status >= 500 ? "Internal Server Error" : "Bad Request";
    }
}
}  // namespace

Response protocol_problem(int status, std::string_view detail, const std::string& request_id) {
    boost::json::object body;
    body["type"] = "about:blank";
    body["title"] = title_of(status);
    body["status"] = status;
    body["detail"] = detail;
    body["request_id"] = request_id;
    Response r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/problem+json");
    r.body = boost::json::serialize(body) + "\n";
    r.audit.reason = detail;
    return r;
}

Response problem(ErrorKind kind, std::string_view detail, const std::string& request_id) {
    return protocol_problem(http_status_of(kind), detail, request_id);
}

Response problem_of(const Error& error, const std::string& request_id) {
    const int status = http_status_of(error.kind);
    // Server-side failures are described generically: their detail belongs in the server log.
    const std::string detail = status >= 500 && error.kind != ErrorKind::unavailable
                                   ? "the gateway could not complete the request; quote the request id to the operator"
                                   : error.message;
    Response r = protocol_problem(status, detail, request_id);
    if (status >= 500) r.log_detail = error.message;
    return r;
}

// What a committed change records: its action, resource and the policy's reason.
Response change_record(const std::string& principal, std::string action, std::string resource, std::string reason) {
    Response done;
    done.status = 200;
    done.principal = principal;
    done.audit.action = std::move(action);
    done.audit.resource = std::move(resource);
    done.audit.reason = std::move(reason);
    return done;
}

Response committed(Response body, const Response& done, std::optional<std::uint64_t> index) {
    body.audit = done.audit;
    body.audit.committed_index = index;
    return body;
}

bool is_slug(std::string_view text) noexcept { return policies::is_slug_like(text); }

std::optional<std::string> decode_extended_value(std::string_view value) {
    constexpr std::string_view prefix = "UTF-8''";
    if (value.size() < prefix.size() || value.size() > 3 * 255 + prefix.size()) return std::nullopt;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(value[i])) != prefix[i]) return std::nullopt;
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = prefix.size(); i < value.size(); ++i) {
        const char c = value[i];
        if (c == '%') {
            if (i + 2 >= value.size()) return std::nullopt;
            const int hi = hex(value[i + 1]), lo = hex(value[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos) {
            out += c;  // RFC 8187's attr-char
        } else {
            return std::nullopt;
        }
    }
    return out;
}

bool is_media_type(std::string_view text) noexcept {
    if (text.empty() || text.size() > 127) return false;
    auto token = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("!#$&-^_.+").find(c) != std::string_view::npos;
    };
    const auto slash = text.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) return false;
    const auto params = text.find(';');
    const auto essence = text.substr(0, params);
    for (std::size_t i = 0; i < essence.size(); ++i)
        if (i != slash && !token(essence[i])) return false;
    if (params == std::string_view::npos) return true;
    // Parameters: printable ASCII only, no quoting tricks.
    return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(params), text.end(),
                       [](char c) { return c >= 0x20 && c < 0x7f && c != '\\' && c != '"'; });
}

Result<std::optional<ByteRange>> parse_range(std::string_view header, std::uint64_t size) {
    constexpr std::string_view prefix = "bytes=";
    if (!header.starts_with(prefix)) return std::optional<ByteRange>();  // unknown unit: ignore
    std::string_view spec = header.substr(prefix.size());
    if (spec.find(',') != std::string_view::npos) return std::optional<ByteRange>();
    const auto dash = spec.find('-');
    auto number = [](std::string_view s, std::uint64_t& out) {
        if (s.empty() || s.size() > 19) return false;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc() && p == s.data() + s.size();
    };
    const Error unsatisfiable = make_error(ErrorKind::invalid_argument, "range not satisfiable");
    if (dash == std::string_view::npos) return unsatisfiable;
    const auto first_text = spec.substr(0, dash);
    const auto last_text = spec.substr(dash + 1);
    std::uint64_t first = 0, last = 0;
    if (first_text.empty()) {  // suffix: the last N bytes
        std::uint64_t n = 0;
        if (!number(last_text, n) || n == 0 || size == 0) return unsatisfiable;
        n = std::min(n, size);
        return std::optional<ByteRange>(ByteRange{size - n, size - 1});
    }
    if (!number(first_text, first) || first >= size) return unsatisfiable;
    if (last_text.empty()) {
        last = size - 1;
    } else {
        if (!number(last_text, last) || last < first) return unsatisfiable;
        last = std::min(last, size - 1);
    }
    return std::optional<ByteRange>(ByteRange{first, last});
}

}  // namespace serambi::gateway
