// The portal's static files (web/), embedded into the binary at build time, so that nothing is
// fetched or installed beside it.
#pragma once

#include <span>
#include <string_view>

namespace serambi::web {

struct Asset {
    std::string_view name;          // e.g. app.js; the folder is flat
    std::string_view content_type;  // e.g. text/javascript; charset=utf-8
    std::string_view bytes;
};

std::span<const Asset> assets();

// A hash of every file: the assets' folder in URLs (/assets/VERSION/app.js), so that browsers may
// keep them for ever and still fetch a new build at once.
std::string_view version();

}  // namespace serambi::web
