// Internal: a request's query string, parsed once by Boost.URL and percent-decoded (a '+' is a
// space, as HTML forms send it), so that "?name=laporan%20bulanan" means what the browser meant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace serambi::gateway {

class Query {
  public:
    // invalid_argument for a malformed escape, anything but printable ASCII once decoded, or a
    // value too long for any filter: such a query is refused whole, never cleaned into something else.
    static Result<Query> parse(std::string_view encoded);

    // The first value of `name`, decoded; nullopt when absent.
    std::optional<std::string> text(std::string_view name) const;
    // The first value of `name` as a whole number: not_found when absent, invalid_argument when
    // it is not one.
    Result<std::uint64_t> number(std::string_view name) const;

  private:
    std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace serambi::gateway
