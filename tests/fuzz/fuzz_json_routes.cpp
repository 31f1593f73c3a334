// The JSON body of every route that takes one, through Handler::dispatch and the JsonBody sink
// as the server drives them. The first byte picks the route, the rest is the body. A route that
// accepted a body changed the store, so the next input starts from a fresh world: each input
// meets the same state, and a crash reproduces from its input alone.
#include "handler_world.h"

using namespace serambi;

namespace {

struct Route {
    const char* who;
    std::string target;
};

std::vector<Route> routes(const fuzz::HandlerWorld& w) {
    return {{"admin", "/v1/principals"},
            {"admin", "/v1/datasets"},
            {"walidata", "/v1/agreements"},
            {"walidata", "/v1/packages/" + w.package_id() + "/approvals"},
            {"walidata", "/v1/agreements/" + w.agreement_id() + "/revoke"},
            {"admin", "/v1/principals/pemkab-halut/revoke"},
            {"admin", "/v1/pki/revoke"},
            {"admin", "/v1/principals/pemkab-halut/remove"},
            {"bi-malut", "/v1/principals/bi-malut/renew"},
            {"bi-malut", "/v1/principals/bi-malut/recipient"}};
}

std::unique_ptr<fuzz::HandlerWorld> world;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (!crypto::initialise()) __builtin_trap();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    if (!world) world = std::make_unique<fuzz::HandlerWorld>();
    const auto all = routes(*world);
    const auto& route = all[data[0] % all.size()];
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    auto response = world->send(world->head(route.who, "POST", route.target), body);
    if (response.status >= 500) {  // nothing a client sends is a server error
        std::fprintf(stderr, "status %d: %s\n", response.status, response.body.c_str());
        __builtin_trap();
    }
    if (response.status < 300) world.reset();
    return 0;
}
