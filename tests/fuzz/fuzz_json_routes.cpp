// The JSON body of every route that takes one, through Handler::dispatch and the JsonBody sink
// as the server drives them, and the query strings of the GET routes that read one. The first
// byte picks the route, the rest is the body or the query. A POST that was accepted changed the
// store, so the next input starts from a fresh world: each input meets the same state, and a
// crash reproduces from its input alone.
#include "handler_world.h"

using namespace serambi;

namespace {

struct Route {
    const char* who;
    const char* method;
    std::string target;  // a GET's query (or, for the audit routes, the rest of its path) follows
};

std::vector<Route> routes(const fuzz::HandlerWorld& w) {
    return {{"admin", "POST", "/v1/principals"},
            {"admin", "POST", "/v1/datasets"},
            {"walidata", "POST", "/v1/agreements"},
            {"walidata", "POST", "/v1/packages/" + w.package_id() + "/approvals"},
            {"walidata", "POST", "/v1/agreements/" + w.agreement_id() + "/revoke"},
            {"admin", "POST", "/v1/principals/pemkab-halut/revoke"},
            {"admin", "POST", "/v1/pki/revoke"},
            {"admin", "POST", "/v1/principals/pemkab-halut/remove"},
            {"bi-malut", "POST", "/v1/principals/bi-malut/renew"},
            {"bi-malut", "POST", "/v1/principals/bi-malut/recipient"},
            {"auditor", "GET", "/v1/audit/"},
            {"walidata", "GET", "/v1/policy/explain?"},
            {"walidata", "GET", "/v1/approvals?"}};
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
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    const bool post = std::string_view(route.method) == "POST";
    auto response = post ? world->send(world->head(route.who, route.method, route.target), text)
                         : world->send(world->head(route.who, route.method, route.target + std::string(text)), {});
    if (response.status >= 500) {  // nothing a client sends is a server error
        std::fprintf(stderr, "status %d: %s\n", response.status, response.body.c_str());
        __builtin_trap();
    }
    if (post && response.status < 300) world.reset();
    return 0;
}
