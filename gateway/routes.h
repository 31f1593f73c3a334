// Internal: the gateway's one route table. Dispatch, the access log's action names, a 405's
// Allow header and the check against docs/openapi.yaml are all read from it, so that they
// cannot disagree.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "gateway/query.h"
#include "policies/policy.h"

namespace serambi::gateway {

class Handler;
struct Caller;
struct Dispatch;
struct RequestHead;

// What a matched route's handler is given: the path's {parameters} in order, and the query.
struct RouteArgs {
    std::array<std::string_view, 2> params{};
    std::string_view raw_query;  // as sent, after the '?'
    Query query;                 // decoded by dispatch
};

struct Route {
    std::string_view method;   // GET, POST, or for resumable uploads HEAD, PATCH, DELETE, OPTIONS
    std::string_view pattern;  // e.g. /v1/datasets/{owner}/{name}: a {parameter} is one segment
    std::string_view action;   // the access log's name for what the request asked
    // What the policy decides for this route, for people and for the documentation. The handler
    // asks the policy itself, since most decisions also depend on the thing asked for.
    std::optional<policies::Action> decides;
    // A caller who may not take this action must not learn the route exists: another method on
    // it answers 404, not 405.
    bool hidden = false;
    bool authenticated = true;  // only /healthz answers without a client certificate
    Dispatch (*handle)(Handler& handler, const RequestHead& head, const Caller& caller, const RouteArgs& args);
};

std::span<const Route> routes();

struct RouteMatch {
    const Route* route = nullptr;  // the route for this method and path, if any
    RouteArgs args;
    std::string allow;               // when only the method is wrong: the methods the path takes
    const Route* on_path = nullptr;  // when only the method is wrong: one route of the path
};

// `target` is the request target; the query is split off here.
RouteMatch match_route(std::string_view method, std::string_view target);

// The access-log action of a request, from its route; "request" when no route matches.
std::string_view route_action(std::string_view method, std::string_view target);

}  // namespace serambi::gateway
