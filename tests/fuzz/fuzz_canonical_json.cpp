// RFC 8785 canonical JSON (storage/canonical_json.cpp) of any document Boost.JSON accepts, as the
// routes parse their bodies. A canonical form must parse back to itself: signatures over
// manifests and log entries depend on there being exactly one spelling.
#include <boost/json.hpp>

#include "gateway/canonical_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
    if (ec) return 0;
    auto canonical = serambi::gateway::canonical_json(value);
    if (!canonical) return 0;
    const auto again = boost::json::parse(*canonical, ec);
    if (ec) __builtin_trap();
    auto twice = serambi::gateway::canonical_json(again);
    if (!twice || *twice != *canonical) __builtin_trap();
    return 0;
}
