// Times as Serambi writes and reads them: Unix seconds inside, RFC 3339 in UTC outside
// ("2026-11-25T08:00:00Z"), and a bare date ("2026-11-25", midnight UTC) where people type one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace serambi {

// "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ", years 2000 to 2200; a date that does not exist
// (2026-02-31) is refused rather than moved into the next month.
Result<std::int64_t> parse_time(std::string_view text);
std::string format_time(std::int64_t unix_seconds);  // RFC 3339, UTC, seconds
std::int64_t now_seconds();
std::string utc_now();  // format_time(now_seconds())

}  // namespace serambi
