// Routing, authentication, whoami and the dataset routes. Every route asks the policy.
#include "gateway/handler.h"

#include <algorithm>
#include <boost/json.hpp>

#include "gateway/portal.h"

namespace serambi::gateway {

using policies::Action;

Response json_response(int status, const boost::json::value& body) {
    Response r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = boost::json::serialize(body) + "\n";
    return r;
}

Result<boost::json::object> parse_object(const std::string& body) {
    boost::system::error_code ec;
    auto value = boost::json::parse(body, ec);
    if (ec || !value.is_object()) return make_error(ErrorKind::invalid_argument, "the body must be a JSON object");
    return std::move(value.as_object());
}

// A required string member, with a length limit and no control characters.
Result<std::string> string_member(const boost::json::object& o, std::string_view key, std::size_t max) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string())
        return make_error(ErrorKind::invalid_argument, std::string(key) + " must be a string");
    std::string s(v->get_string());
    if (s.empty() || s.size() > max ||
        std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
        return make_error(ErrorKind::invalid_argument, std::string(key) + " must be 1 to " + std::to_string(max) +
                                                           " bytes without control characters");
    return s;
}

Status only_members(const boost::json::object& o, std::initializer_list<std::string_view> known) {
    for (const auto& kv : o)
        if (std::find(known.begin(), known.end(), kv.key()) == known.end())
            return make_error(ErrorKind::invalid_argument, "unknown member " + std::string(kv.key()));
    return {};
}

namespace {

boost::json::object dataset_json(const storage::Dataset& d) {
    return {{"id", d.id},       {"owner", d.owner},           {"classification", d.classification},
            {"title", d.title}, {"created_by", d.created_by}, {"created_at", d.created_at}};
}

}  // namespace

boost::json::object package_json(const storage::PackageRecord& p);

Handler::Handler(Services services) : live_uploads_(new_live_uploads()), services_(std::move(services)) {}

void Handler::replace_signer(std::shared_ptr<const certs::ManifestSigner> signer) {
    std::lock_guard lock(signer_mutex_);
    services_.signer = std::move(signer);
}

void Handler::set_served_tls_certificate(std::string pem) {
    std::lock_guard lock(signer_mutex_);
    served_tls_pem_ = std::move(pem);
}

void Handler::set_served_signing_certificate(std::string pem) {
    std::lock_guard lock(signer_mutex_);
    served_signing_pem_ = std::move(pem);
}

std::shared_ptr<const certs::ManifestSigner> Handler::signer() const {
    std::lock_guard lock(signer_mutex_);
    return services_.signer;
}

Dispatch Handler::json_body(const RequestHead& head, std::initializer_list<std::string_view> members,
                            std::function<Response(const boost::json::object&, const std::string&)> respond) {
    std::vector<std::string_view> known(members);  // string literals: they outlive the request
    return {{},
            std::make_unique<JsonBody>(
                services_.config->max_json_bytes, [rid = head.request_id, known = std::move(known),
                                                   respond = std::move(respond)](const std::string& body) {
                    auto object = parse_object(body);
                    if (!object) return problem_of(object.error(), rid);
                    for (const auto& kv : *object)
                        if (std::find(known.begin(), known.end(), kv.key()) == known.end())
                            return problem(ErrorKind::invalid_argument, "unknown member " + std::string(kv.key()), rid);
                    return respond(*object, body);
                })};
}

Result<Caller> Handler::authenticate(const RequestHead& head) {
    const auto denied =
        make_error(ErrorKind::unauthenticated, "the client certificate does not belong to a registered principal");
    if (head.cert_principal_id.empty()) return denied;
    auto principal = services_.store->registry().principal(head.cert_principal_id);
    if (!principal) {
        if (principal.error().kind == ErrorKind::not_found) return denied;
        return principal.error();
    }
    // Only the certificate the gateway last issued to the principal counts, and not once revoked.
    // The fingerprint, not only the serial: serials are public (every log entry names one) and
    // another CA under a shared root could issue a certificate with the same serial and name.
    if (principal->cert_serial != head.cert_serial || principal->cert_fingerprint.empty() ||
        principal->cert_fingerprint != head.cert_fingerprint)
        return denied;
    if (!principal->removed_at.empty())
        return make_error(ErrorKind::unauthenticated, "the principal was removed at " + principal->removed_at);
    if (services_.revoked != nullptr && services_.revoked->contains(head.cert_serial))
        return make_error(ErrorKind::unauthenticated, "the client certificate has been revoked");
    return caller_of(*principal);
}

Result<Caller> Handler::caller_of(const storage::Principal& principal) {
    Caller caller;
    caller.subject.id = principal.id;
    for (const auto& name : principal.roles)
        if (auto role = policies::parse_role(name)) caller.subject.roles.push_back(*role);
    // Read at every request, so that a revoked or lapsed agreement stops access at once.
    if (caller.subject.has(policies::Role::partner)) {
        auto agreements = services_.store->grants().agreements(caller.subject.id);
        if (!agreements) return agreements.error();
        for (const auto& a : *agreements) caller.agreements.push_back(agreement_view(a));
    }
    return caller;
}

Dispatch Handler::dispatch(const RequestHead& head) {
    const auto& rid = head.request_id;
    auto respond = [](Response r) { return Dispatch{std::move(r), nullptr}; };
    const std::string_view target = head.target;
    if (target.empty() || target.front() != '/')
        return respond(problem(ErrorKind::invalid_argument, "the request target must be an absolute path", rid));
    const std::string_view path = target.substr(0, target.find('?'));
    if (path.find('%') != std::string_view::npos || path.find("..") != std::string_view::npos)
        return respond(problem(ErrorKind::invalid_argument, "the path contains characters no route uses", rid));
    // Parsed before any route is looked up, so a malformed query says nothing about which paths exist.
    const auto question = target.find('?');
    auto query = Query::parse(question == std::string_view::npos ? std::string_view() : target.substr(question + 1));
    if (!query) return respond(problem_of(query.error(), rid));
    auto match = match_route(head.method, target);
    match.args.query = std::move(*query);
    auto not_allowed = [&] {
        auto r = protocol_problem(405, "method not allowed on this route", rid);
        r.headers.emplace_back("Allow", match.allow);
        return respond(std::move(r));
    };
    // Refused before anything is looked up or changed, and recorded like any other refusal.
    auto cross_site = [&](const std::string& why) {
        auto r = problem(ErrorKind::permission_denied, why, rid);
        r.audit.reason = "cross-site request refused: " + why;
        return respond(std::move(r));
    };
    if (match.route != nullptr && !match.route->authenticated) {
        if (auto refusal = cross_site_refusal(head, match.route->pattern == "/")) return cross_site(*refusal);
        return match.route->handle(*this, head, Caller{}, match.args);
    }
    if (match.route == nullptr && match.on_path != nullptr && !match.on_path->authenticated) return not_allowed();

    auto caller = authenticate(head);
    if (!caller) return respond(problem_of(caller.error(), rid));
    auto tag = [&](Dispatch d) {
        d.response.principal = caller->subject.id;
        return d;
    };
    // After authentication, so that the entry names whose browser was misused.
    if (auto refusal = cross_site_refusal(head, false)) return tag(cross_site(*refusal));
    if (match.route != nullptr) return tag(match.route->handle(*this, head, *caller, match.args));
    if (match.on_path == nullptr) return tag(respond(problem(ErrorKind::not_found, "no such route", rid)));
    if (match.on_path->hidden && match.on_path->decides) {
        // Those who may not take the action learn nothing, not even which methods the route takes.
        const auto decision = services_.policy->decide(caller->subject, *match.on_path->decides, nullptr);
        if (!decision.allow) {
            auto hidden = problem(ErrorKind::not_found, "no such route", rid);
            hidden.audit.reason = decision.reason;
            return tag(respond(std::move(hidden)));
        }
    }
    return tag(not_allowed());
}

Dispatch Handler::create_dataset(const RequestHead& head, const Caller& caller) {
    const auto decision = services_.policy->decide(caller.subject, Action::create_dataset, nullptr);
    if (!decision.allow) return {problem(ErrorKind::permission_denied, decision.reason, head.request_id), nullptr};
    return {{},
            std::make_unique<JsonBody>(services_.config->max_json_bytes, [this, head, caller](const std::string& body) {
                return create_dataset_from(head, caller, body);
            })};
}

Response Handler::create_dataset_from(const RequestHead& head, const Caller& caller, const std::string& body) {
    const auto& rid = head.request_id;
    auto object = parse_object(body);
    if (!object) return problem_of(object.error(), rid);
    if (auto s = only_members(*object, {"id", "owner", "classification", "title"}); !s)
        return problem_of(s.error(), rid);
    auto id = string_member(*object, "id", 127);
    auto title = string_member(*object, "title", 300);
    auto level_name = string_member(*object, "classification", 32);
    if (!id) return problem_of(id.error(), rid);
    if (!title) return problem_of(title.error(), rid);
    if (!level_name) return problem_of(level_name.error(), rid);
    const auto slash = id->find('/');
    if (slash == std::string::npos || !is_slug(id->substr(0, slash)) || !is_slug(id->substr(slash + 1)))
        return problem(ErrorKind::invalid_argument,
                       "a dataset id is OWNER/NAME in lowercase letters, digits and hyphens", rid);
    const std::string owner = id->substr(0, slash);
    if (const auto* o = object->if_contains("owner"); o != nullptr && (!o->is_string() || o->get_string() != owner))
        return problem(ErrorKind::invalid_argument, "owner must be the first part of the dataset id", rid);
    auto level = policies::parse_classification(*level_name);
    if (!level) return problem_of(level.error(), rid);
    if (auto p = services_.store->registry().principal(owner); !p || !p->removed_at.empty())
        return problem(ErrorKind::invalid_argument,
                       "the owner " + owner + " is not a registered principal (or was removed)", rid);
    storage::Dataset dataset;
    dataset.id = *id;
    dataset.owner = owner;
    dataset.classification = std::string(policies::name_of(*level));
    dataset.title = *title;
    dataset.created_by = caller.subject.id;
    Response done;
    done.status = 201;
    done.principal = caller.subject.id;
    done.audit.resource = "datasets/" + *id;
    done.audit.classification = dataset.classification;
    done.audit.reason = "the caller's role may create datasets";
    auto added = services_.store->registry().add_dataset(dataset, AuditTrail::entry(head, done, body.size(), 0));
    if (!added) return problem_of(added.error(), rid);
    auto stored = services_.store->registry().dataset(*id);
    if (!stored) return problem_of(stored.error(), rid);
    auto r = json_response(201, dataset_json(*stored));
    r.audit = done.audit;
    r.audit.committed_index = *added;
    return r;
}

Result<storage::Dataset> Handler::dataset_for(const Caller& caller, Action action, const std::string& id,
                                              AuditFacts& audit) {
    auto dataset = services_.store->registry().dataset(id);
    if (!dataset) return dataset.error();
    auto level = policies::parse_classification(dataset->classification);
    if (!level) return make_error(ErrorKind::corruption, "stored dataset has an unknown classification");
    const policies::DatasetFacts facts{dataset->owner, *level, dataset->id, "", {}, ""};
    const auto decision = services_.policy->decide(caller.subject, action, &facts,
                                                   policies::Context{now_seconds(), caller.agreements, {}});
    audit.resource = "datasets/" + id;
    audit.classification = dataset->classification;
    audit.reason = decision.reason;
    if (!decision.allow)
        return make_error(decision.reveal ? ErrorKind::permission_denied : ErrorKind::not_found,
                          decision.reveal ? decision.reason : "no such dataset");
    return dataset;
}

Response Handler::list_datasets(const RequestHead& head, const Caller& caller) {
    auto all = services_.store->registry().datasets();
    if (!all) return problem_of(all.error(), head.request_id);
    const policies::Context context{now_seconds(), caller.agreements, {}};
    boost::json::array out;
    for (const auto& d : *all) {
        auto level = policies::parse_classification(d.classification);
        if (!level) continue;  // a row that does not parse is shown to nobody
        const policies::DatasetFacts facts{d.owner, *level, d.id, "", {}, ""};
        if (services_.policy->decide(caller.subject, Action::read, &facts, context).allow ||
            names_caller(d, *level, caller))
            out.push_back(dataset_json(d));
    }
    auto r = json_response(200, out);
    r.audit.reason = "listed the " + std::to_string(out.size()) + " of " + std::to_string(all->size()) +
                     " datasets the policy lets the caller read";
    return r;
}

Response Handler::get_dataset(const RequestHead& head, const Caller& caller, const std::string& id) {
    AuditFacts decided;
    auto dataset = dataset_for(caller, Action::read, id, decided);
    auto r = dataset ? json_response(200, dataset_json(*dataset)) : problem_of(dataset.error(), head.request_id);
    r.audit = decided;
    return r;
}

}  // namespace serambi::gateway
