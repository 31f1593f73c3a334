// The Serambi-* headers of a push (Serambi-Filename, Serambi-Classification, Serambi-Recipients)
// and its Content-Type, through Handler::dispatch as the server calls it, into datasets of each
// level. The request says it has no body, so a push whose headers all pass stops at 411 before
// anything is written: every input sees the same store.
#include "handler_world.h"

using namespace serambi;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (!crypto::initialise()) __builtin_trap();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::HandlerWorld world;
    static const char* const kDatasets[] = {"fasilitas", "imunisasi", "rahasia", "sr"};
    static const char* const kNames[] = {"Serambi-Filename", "Content-Type", "Serambi-Classification",
                                         "Serambi-Recipients"};
    if (size < 1) return 0;
    // The first byte picks the dataset and which headers are sent; the rest, split at newlines,
    // are their values in order.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    for (unsigned i = 0; i < 4; ++i) {
        const auto nl = rest.find('\n');
        const auto value = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        if ((data[0] >> (2 + i)) & 1) headers.emplace_back(kNames[i], std::string(value));
    }
    const std::string target = std::string("/v1/datasets/dinkes-malut/") + kDatasets[data[0] & 3] + "/packages";
    auto response = world.send(world.head("dinkes-malut", "POST", target, std::move(headers)), {});
    // Headers alone never store anything, and nothing a client sends is a server error.
    if (response.status < 400 || response.status >= 500) {
        std::fprintf(stderr, "status %d: %s\n", response.status, response.body.c_str());
        __builtin_trap();
    }
    return 0;
}
