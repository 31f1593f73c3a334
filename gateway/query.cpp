// The only translation unit that compiles Boost.URL (header-only, through its src.hpp), as
// session.cpp is for Beast.
#include "gateway/query.h"

#include <algorithm>
#include <boost/url/parse_query.hpp>
#include <boost/url/src.hpp>
#include <charconv>

namespace serambi::gateway {
namespace {

constexpr std::size_t kMaxValue = 512;  // longer than any id, time or filter a route reads
constexpr std::size_t kMaxParams = 32;

// Every value a route reads (ids, names, times, numbers) is printable ASCII.
bool printable(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace

Result<Query> Query::parse(std::string_view encoded) {
    Query query;
    if (encoded.empty()) return query;
    auto parsed = boost::urls::parse_query(encoded);
    if (!parsed) return make_error(ErrorKind::invalid_argument, "the query string is malformed (a bad %-escape?)");
    const boost::urls::encoding_opts plus_is_space(true);
    for (const auto param : *parsed) {
        if (query.params_.size() == kMaxParams)
            return make_error(ErrorKind::invalid_argument, "the query has too many parameters");
        if (param.key.decoded_size() > 64 || param.value.decoded_size() > kMaxValue)
            return make_error(ErrorKind::invalid_argument, "a query parameter is too long");
        std::string key = param.key.decode(plus_is_space), value = param.value.decode(plus_is_space);
        if (!printable(key) || !printable(value))
            return make_error(ErrorKind::invalid_argument, "the query must be printable ASCII once decoded");
        query.params_.emplace_back(std::move(key), std::move(value));
    }
    return query;
}

std::optional<std::string> Query::text(std::string_view name) const {
    for (const auto& [key, value] : params_)
        if (key == name) return value;
    return std::nullopt;
}

Result<std::uint64_t> Query::number(std::string_view name) const {
    const auto text = this->text(name);
    if (!text) return make_error(ErrorKind::not_found, std::string(name) + " is missing");
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (text->empty() || ec != std::errc() || end != text->data() + text->size())
        return make_error(ErrorKind::invalid_argument, std::string(name) + " must be a whole number");
    return value;
}

}  // namespace serambi::gateway
