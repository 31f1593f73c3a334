// The route table and its matcher. A handler here only unpacks the path's parameters; what a
// route does lives in the Handler method it calls.
#include "gateway/routes.h"

#include "gateway/handler.h"

namespace serambi::gateway {

using policies::Action;

namespace {

Dispatch respond(Response r) { return Dispatch{std::move(r), nullptr}; }

std::string param(const RouteArgs& args, std::size_t i) { return std::string(args.params[i]); }

// Dataset routes name the dataset by two slugs; anything else is refused before any lookup.
Result<std::string> dataset_id(const RouteArgs& args) {
    if (!is_slug(args.params[0]) || !is_slug(args.params[1]))
        return make_error(ErrorKind::invalid_argument, "dataset names are lowercase letters, digits and hyphens");
    return param(args, 0) + "/" + param(args, 1);
}

// Splits "/a/b/c" into its segments; false if there are more than `max`.
template <std::size_t N>
bool split_segments(std::string_view path, std::array<std::string_view, N>& out, std::size_t& count) {
    count = 0;
    if (path.empty() || path.front() != '/') return false;
    std::size_t start = 1;
    while (true) {
        if (count == N) return false;
        const auto slash = path.find('/', start);
        out[count++] = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (slash == std::string_view::npos) return true;
        start = slash + 1;
    }
}

// A path matches a pattern segment for segment; a {parameter} takes any non-empty segment.
bool matches(std::string_view pattern, std::string_view path, RouteArgs& args) {
    std::array<std::string_view, 8> want{}, got{};
    std::size_t want_n = 0, got_n = 0;
    if (!split_segments(pattern, want, want_n) || !split_segments(path, got, got_n) || want_n != got_n) return false;
    std::size_t next_param = 0;
    for (std::size_t i = 0; i < want_n; ++i) {
        if (want[i].starts_with('{')) {
            if (got[i].empty() || next_param == args.params.size()) return false;
            args.params[next_param++] = got[i];
        } else if (want[i] != got[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

// A friend of Handler: the lambdas below call its private route methods.
std::span<const Route> routes() {
    using H = Handler;
    using A = RouteArgs;
    static const Route table[] = {
        {"GET", "/healthz", "health", std::nullopt, false, false,
         [](H&, const RequestHead&, const Caller&, const A&) {
             return respond(json_response(200, {{"status", "ok"}}));
         }},
        {"GET", "/", "portal.page", std::nullopt, false, false,
         [](H& h, const RequestHead& r, const Caller&, const A&) { return respond(h.get_portal_page(r)); }},
        {"GET", "/assets/{version}/{file}", "portal.asset", std::nullopt, false, false,
         [](H& h, const RequestHead& r, const Caller&, const A& a) {
             return respond(h.get_portal_asset(r, a.params[0], a.params[1]));
         }},
        {"GET", "/metrics", "metrics", Action::read_metrics, true, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return respond(h.get_metrics(r, c)); }},
        {"GET", "/v1/whoami", "whoami", std::nullopt, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return respond(h.get_whoami(r, c)); }},

        {"GET", "/v1/principals", "principal.list", Action::manage_principals, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return respond(h.list_principals(r, c)); }},
        {"POST", "/v1/principals", "principal.create", Action::manage_principals, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return h.create_principal(r, c); }},
        {"GET", "/v1/principals/{id}/recipient", "principal.recipient.get", std::nullopt, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_recipient(r, c, param(a, 0)));
         }},
        {"POST", "/v1/principals/{id}/recipient", "principal.recipient", std::nullopt, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.set_recipient(r, c, param(a, 0)); }},
        {"POST", "/v1/principals/{id}/revoke", "certificate.revoke", Action::manage_principals, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.revoke(r, c, param(a, 0)); }},
        {"POST", "/v1/principals/{id}/remove", "principal.remove", Action::manage_principals, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.remove_principal(r, c, param(a, 0)); }},
        {"POST", "/v1/principals/{id}/renew", "certificate.renew", std::nullopt, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.renew(r, c, param(a, 0)); }},
        {"POST", "/v1/principals/{id}/reissue", "certificate.reissue", Action::manage_principals, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.reissue(r, c, param(a, 0)); }},
        {"POST", "/v1/pki/revoke", "certificate.revoke", Action::manage_principals, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return h.revoke(r, c, ""); }},
        {"GET", "/v1/pki/crl", "pki.crl", std::nullopt, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return respond(h.get_crl(r, c)); }},

        {"GET", "/v1/datasets", "dataset.list", Action::list, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return respond(h.list_datasets(r, c)); }},
        {"POST", "/v1/datasets", "dataset.create", Action::create_dataset, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return h.create_dataset(r, c); }},
        {"GET", "/v1/datasets/{owner}/{name}", "dataset.get", Action::read, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             auto id = dataset_id(a);
             return respond(id ? h.get_dataset(r, c, *id) : problem_of(id.error(), r.request_id));
         }},
        {"GET", "/v1/datasets/{owner}/{name}/packages", "package.list", Action::list, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             auto id = dataset_id(a);
             return respond(id ? h.list_packages(r, c, *id, a.query) : problem_of(id.error(), r.request_id));
         }},
        {"POST", "/v1/datasets/{owner}/{name}/packages", "package.push", Action::push, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             auto id = dataset_id(a);
             return id ? h.push_package(r, c, *id) : respond(problem_of(id.error(), r.request_id));
         }},
        // Resumable uploads (tus 1.0.0): the same checks as a push, over several requests.
        {"OPTIONS", "/v1/uploads", "upload.options", std::nullopt, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return respond(h.upload_options(r, c)); }},
        {"POST", "/v1/uploads", "upload.create", Action::push, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return h.create_upload(r, c); }},
        {"HEAD", "/v1/uploads/{id}", "upload.offset", Action::push, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.upload_offset(r, c, param(a, 0)));
         }},
        {"PATCH", "/v1/uploads/{id}", "upload.append", Action::push, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.append_upload(r, c, param(a, 0)); }},
        {"DELETE", "/v1/uploads/{id}", "upload.remove", Action::push, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.remove_upload(r, c, param(a, 0)));
         }},
        {"GET", "/v1/uploads/{id}", "upload.get", Action::push, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_upload(r, c, param(a, 0)));
         }},
        {"GET", "/v1/packages", "package.list", Action::list, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.list_all_packages(r, c, a.query));
         }},
        {"GET", "/v1/packages/{id}", "package.pull", Action::read, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_package(r, c, param(a, 0), ""));
         }},
        {"GET", "/v1/packages/{id}/manifest", "package.manifest", Action::read, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_package(r, c, param(a, 0), "manifest"));
         }},
        {"GET", "/v1/packages/{id}/manifest.p7s", "package.signature", Action::read, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_package(r, c, param(a, 0), "manifest.p7s"));
         }},
        {"POST", "/v1/packages/{id}/approvals", "approval.create", Action::approve, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.create_approval(r, c, param(a, 0)); }},

        {"GET", "/v1/audit/checkpoint", "audit.checkpoint", Action::read_audit, true, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_audit(r, c, "checkpoint", a.query));
         }},
        {"GET", "/v1/audit/key", "audit.key", Action::read_audit, true, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_audit(r, c, "key", a.query));
         }},
        {"GET", "/v1/audit/entries", "audit.entries", Action::read_audit, true, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_audit(r, c, "entries", a.query));
         }},
        {"GET", "/v1/audit/follow", "audit.follow", Action::read_audit, true, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_audit(r, c, "follow", a.query));
         }},
        {"GET", "/v1/audit/packages/{id}", "audit.package", Action::read_package_metadata, true, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_audit_package(r, c, param(a, 0)));
         }},
        {"GET", "/v1/audit/proof/inclusion", "audit.proof/inclusion", Action::read_audit, true, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_audit(r, c, "proof/inclusion", a.query));
         }},
        {"GET", "/v1/audit/proof/consistency", "audit.proof/consistency", Action::read_audit, true, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_audit(r, c, "proof/consistency", a.query));
         }},

        {"GET", "/v1/log/proof", "log.proof", Action::read_proof, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_log_proof(r, c, a.query));
         }},

        {"GET", "/v1/agreements", "agreement.list", Action::manage_agreements, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return respond(h.list_agreements(r, c)); }},
        {"POST", "/v1/agreements", "agreement.create", Action::manage_agreements, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return h.create_agreement(r, c); }},
        {"GET", "/v1/agreements/{id}", "agreement.get", Action::manage_agreements, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.get_agreement(r, c, param(a, 0)));
         }},
        {"POST", "/v1/agreements/{id}/revoke", "agreement.revoke", Action::manage_agreements, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.revoke_agreement(r, c, param(a, 0)); }},
        {"GET", "/v1/approvals", "approval.list", Action::approve, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.list_approvals(r, c, a.query));
         }},
        {"POST", "/v1/approvals/{id}/withdraw", "approval.withdraw", Action::approve, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return h.withdraw_approval(r, c, param(a, 0));
         }},
        {"POST", "/v1/packages/{id}/requests", "request.create", Action::read, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.create_request(r, c, param(a, 0)); }},
        {"GET", "/v1/requests", "request.list", Action::approve, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.list_requests(r, c, a.query));
         }},
        {"POST", "/v1/requests/{id}/refuse", "request.refuse", Action::approve, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.refuse_request(r, c, param(a, 0)); }},
        {"GET", "/v1/hooks", "hook.list", std::nullopt, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return respond(h.list_hooks(r, c)); }},
        {"POST", "/v1/hooks", "hook.create", std::nullopt, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A&) { return h.create_hook(r, c); }},
        {"POST", "/v1/hooks/{id}/remove", "hook.remove", std::nullopt, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.remove_hook(r, c, param(a, 0)); }},
        {"POST", "/v1/hooks/{id}/confirm", "hook.confirm", std::nullopt, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return h.confirm_hook(r, c, param(a, 0)); }},
        {"GET", "/v1/hooks/{id}/deliveries", "hook.deliveries", std::nullopt, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) {
             return respond(h.list_deliveries(r, c, param(a, 0), a.query));
         }},
        {"GET", "/v1/policy/explain", "policy.explain", Action::manage_agreements, false, true,
         [](H& h, const RequestHead& r, const Caller& c, const A& a) { return respond(h.explain(r, c, a.query)); }},
    };
    return table;
}

RouteMatch match_route(std::string_view method, std::string_view target) {
    RouteMatch found;
    const auto query = target.find('?');
    const auto path = target.substr(0, query);
    for (const auto& route : routes()) {
        RouteArgs args;
        if (!matches(route.pattern, path, args)) continue;
        if (route.method == method) {
            found.route = &route;
            found.args = args;
            if (query != std::string_view::npos) found.args.raw_query = target.substr(query + 1);
            return found;
        }
        if (!found.allow.empty()) found.allow += ", ";
        found.allow += route.method;
        if (found.on_path == nullptr) found.on_path = &route;
    }
    return found;
}

std::string_view route_action(std::string_view method, std::string_view target) {
    const auto match = match_route(method, target);
    if (match.route != nullptr) return match.route->action;
    return "request";
}

}  // namespace serambi::gateway
