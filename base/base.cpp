#include <time.h>

#include <charconv>
#include <ctime>

#include "base/result.h"
#include "base/time.h"

namespace serambi {

const char* to_string(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::invalid_argument:
            return "invalid argument";
        case ErrorKind::unauthenticated:
            return "unauthenticated";
        case ErrorKind::not_found:
            return "not found";
        case ErrorKind::permission_denied:
            return "permission denied";
        case ErrorKind::conflict:
            return "conflict";
        case ErrorKind::too_large:
            return "too large";
        case ErrorKind::corruption:
            return "corruption";
        case ErrorKind::io_error:
            return "I/O error";
        case ErrorKind::unavailable:
            return "unavailable";
        case ErrorKind::internal:
            return "internal error";
    }
    return "unknown error";
}

Result<std::int64_t> parse_time(std::string_view text) {
    auto bad = [&] {
        return make_error(ErrorKind::invalid_argument, "a time is YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), not '" +
                                                           std::string(text.substr(0, 40)) + "'");
    };
    auto number = [&](std::size_t at, std::size_t len, int& out) {
        if (at + len > text.size()) return false;
        const auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + len, out);
        return ec == std::errc() && end == text.data() + at + len && text[at] != '-' && text[at] != '+';
    };
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!(text.size() == 10 || text.size() == 20) || !number(0, 4, year) || text[4] != '-' || !number(5, 2, month) ||
        text[7] != '-' || !number(8, 2, day))
        return bad();
    if (text.size() == 20 && (text[10] != 'T' || !number(11, 2, hour) || text[13] != ':' || !number(14, 2, minute) ||
                              text[16] != ':' || !number(17, 2, second) || text[19] != 'Z'))
        return bad();
    if (year < 2000 || year > 2200 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
        second > 59)
        return bad();
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::int64_t t = timegm(&tm);
    // timegm normalises 2026-02-31 into March: a date that moved was not a date.
    if (tm.tm_mday != day || tm.tm_mon != month - 1) return bad();
    return t;
}

std::string format_time(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string utc_now() { return format_time(now_seconds()); }

}  // namespace serambi
