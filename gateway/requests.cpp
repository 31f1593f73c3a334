// Release requests: a partner asks, with a purpose, for a package its agreement covers but that
// still waits for custodians' approvals; custodians see the requests in one inbox and answer with
// approvals (POST /v1/packages/{id}/approvals, which marks the request released once the
// approvals suffice) or a refusal with a reason. Every step is in the access log.
#include <algorithm>

#include "gateway/handler.h"

namespace serambi::gateway {

using policies::Action;

namespace {

constexpr std::size_t kMaxPurpose = 500;

// What a request says to the partner who made it and to custodians.
boost::json::object request_json(const storage::AccessRequestRecord& r) {
    boost::json::object o{{"id", r.id},
                          {"package_id", r.package},
                          {"partner", r.partner},
                          {"purpose", r.purpose},
                          {"created_at", format_time(r.created_at)},
                          {"state", r.state}};
    if (r.state != "open") {
        o["decided_by"] = r.decided_by;
        o["decided_at"] = format_time(r.decided_at);
    }
    if (r.state == "refused") o["reason"] = r.reason;
    return o;
}

}  // namespace

bool Handler::listed_before_release(const policies::Decision& decision, const policies::DatasetFacts& facts,
                                    const Caller& caller) const {
    if (!decision.release_needed) return false;
    return services_.policy->lists_before_release(facts.classification) ||
           std::find(facts.recipients.begin(), facts.recipients.end(), caller.subject.id) != facts.recipients.end();
}

Dispatch Handler::create_request(const RequestHead& head, const Caller& caller, const std::string& package) {
    auto hidden = [&] { return problem(ErrorKind::not_found, "no such package", head.request_id); };
    auto fail = [](Response r) { return Dispatch{std::move(r), nullptr}; };
    if (!storage::is_package_id(package)) return fail(hidden());
    auto record = services_.store->packages().package(package);
    if (!record)
        return fail(record.error().kind == ErrorKind::not_found ? hidden()
                                                                : problem_of(record.error(), head.request_id));
    auto facts = package_facts(*record);
    if (!facts) return fail(problem_of(facts.error(), head.request_id));
    auto approvals = approvals_for(caller, package);
    if (!approvals) return fail(problem_of(approvals.error(), head.request_id));
    const auto decision = services_.policy->decide(caller.subject, Action::read, &*facts,
                                                   policies::Context{now_seconds(), caller.agreements, *approvals});
    const std::string resource = "datasets/" + record->dataset + "/packages/" + package + "/requests";
    auto refused = [&](Response r) {
        r.audit.resource = resource;
        r.audit.classification = record->classification;
        r.audit.reason = decision.reason;
        return fail(std::move(r));
    };
    if (decision.allow)
        return refused(
            problem(ErrorKind::conflict, "the package is already released to you: pull it", head.request_id));
    // Only what the caller may see listed may be asked for; anything else does not exist for it.
    if (!listed_before_release(decision, *facts, caller)) return refused(hidden());
    return {{},
            std::make_unique<JsonBody>(services_.config->max_json_bytes,
                                       [this, head, caller, package](const std::string& body) {
                                           return create_request_from(head, caller, package, body);
                                       })};
}

Response Handler::create_request_from(const RequestHead& head, const Caller& caller, const std::string& package,
                                      const std::string& body) {
    const auto& rid = head.request_id;
    auto object = parse_object(body);
    if (!object) return problem_of(object.error(), rid);
    if (auto s = only_members(*object, {"purpose"}); !s) return problem_of(s.error(), rid);
    auto purpose = string_member(*object, "purpose", kMaxPurpose);
    if (!purpose) return problem_of(purpose.error(), rid);
    if (purpose->find_first_not_of(" \t") == std::string::npos)
        return problem(ErrorKind::invalid_argument, "purpose: say what the data is for (custodians decide on it)", rid);
    auto record = services_.store->packages().package(package);
    if (!record) return problem_of(record.error(), rid);

    storage::AccessRequestRecord r;
    r.id = "req-" + crypto::random_hex(8);
    r.package = package;
    r.partner = caller.subject.id;
    r.purpose = *purpose;
    r.created_at = now_seconds();
    auto done = change_record(caller.subject.id, "request.create",
                              "datasets/" + record->dataset + "/packages/" + package + "/requests/" + r.id,
                              "the caller's agreement covers the package, which waits for a release");
    done.status = 201;
    done.audit.classification = record->classification;
    auto added = services_.store->grants().add_request(r, AuditTrail::entry(head, done, body.size(), 0));
    if (!added) return problem_of(added.error(), rid);
    return committed(json_response(201, request_json(r)), done, *added);
}

Response Handler::list_requests(const RequestHead& head, const Caller& caller, const Query& query) {
    const auto& rid = head.request_id;
    const bool custodian = services_.policy->decide(caller.subject, Action::approve, nullptr).allow;
    if (!custodian && !caller.subject.has(policies::Role::partner))
        return problem(ErrorKind::not_found, "no such route", rid);
    const auto state = query.text("state").value_or("");
    if (!state.empty() && state != "open" && state != "released" && state != "refused")
        return problem(ErrorKind::invalid_argument, "state is open, released or refused", rid);
    // A partner sees its own requests only, whatever it asks for.
    auto rows = services_.store->grants().requests(custodian ? "" : caller.subject.id, state);
    if (!rows) return problem_of(rows.error(), rid);
    const std::int64_t now = now_seconds();
    boost::json::array out;
    for (const auto& r : *rows) {
        auto o = request_json(r);
        auto p = services_.store->packages().package(r.package);
        // A partner sees the package's details only while it may still see the package listed
        // (its agreement may have lapsed since it asked).
        if (p && !custodian) {
            auto facts = package_facts(*p);
            auto approvals = approvals_for(caller, r.package);
            const auto d = facts && approvals
                               ? services_.policy->decide(caller.subject, Action::read, &*facts,
                                                          policies::Context{now, caller.agreements, *approvals})
                               : policies::Decision{};
            if (!facts || !approvals || (!d.allow && !listed_before_release(d, *facts, caller)))
                p = make_error(ErrorKind::not_found, "no longer visible");
        }
        if (p) {
            o["package"] = boost::json::object{
                {"filename", p->filename}, {"dataset", p->dataset},       {"classification", p->classification},
                {"size", p->size},         {"created_at", p->created_at}, {"producer", p->producer}};
            // What a custodian decides with: the approvals so far (a second custodian of a
            // two-person release sees who gave the first), and the agreement that covers it.
            if (custodian) {
                auto level = policies::parse_classification(p->classification);
                o["approvals_needed"] = level ? services_.policy->approvals_needed(*level) : 0U;
                boost::json::array given;
                if (auto approvals = services_.store->grants().approvals(r.package, r.partner); approvals)
                    for (const auto& a : *approvals)
                        given.push_back({{"id", a.id},
                                         {"custodian", a.custodian},
                                         {"created_at", format_time(a.created_at)},
                                         {"state", approval_state(a, now)}});
                o["approvals"] = std::move(given);
                auto facts = package_facts(*p);
                auto partner = services_.store->registry().principal(r.partner);
                auto agreements = services_.store->grants().agreements(r.partner);
                if (facts && partner && agreements) {
                    policies::Subject subject{partner->id, {}};
                    for (const auto& name : partner->roles)
                        if (auto role = policies::parse_role(name)) subject.roles.push_back(*role);
                    std::vector<policies::Agreement> views;
                    for (const auto& a : *agreements) views.push_back(agreement_view(a));
                    const auto d =
                        services_.policy->decide(subject, Action::read, &*facts, policies::Context{now, views, {}});
                    o["agreement"] = d.agreement_used;
                    if (auto a = std::find_if(agreements->begin(), agreements->end(),
                                              [&](const auto& x) { return x.id == d.agreement_used; });
                        a != agreements->end())
                        o["agreement_purpose"] = a->purpose;
                }
            }
        }
        out.push_back(std::move(o));
    }
    auto r = json_response(200, out);
    r.audit.reason = custodian ? "the caller's role may approve releases" : "a partner's own requests";
    return r;
}

Dispatch Handler::refuse_request(const RequestHead& head, const Caller& caller, const std::string& id) {
    const auto& rid = head.request_id;
    auto fail = [](Response r) { return Dispatch{std::move(r), nullptr}; };
    const auto decision = services_.policy->decide(caller.subject, Action::approve, nullptr);
    if (!decision.allow) return fail(problem(ErrorKind::not_found, "no such route", rid));
    if (!is_grant_id(id, "req-")) return fail(problem(ErrorKind::not_found, "no such request", rid));
    return json_body(
        head, {"reason"}, [this, head, caller, id](const boost::json::object& object, const std::string& body) {
            auto reason = string_member(object, "reason", kMaxPurpose);
            if (!reason) return problem_of(reason.error(), head.request_id);
            if (reason->find_first_not_of(" \t") == std::string::npos)
                return problem(ErrorKind::invalid_argument, "reason: say why, for the partner and the auditors",
                               head.request_id);
            auto done = change_record(caller.subject.id, "request.refuse", "requests/" + id,
                                      "the caller's role may answer release requests");
            // not_found and "already answered" come from the change itself, in its transaction.
            auto refused = services_.store->grants().refuse_request(id, caller.subject.id, *reason, now_seconds(),
                                                                    AuditTrail::entry(head, done, body.size(), 0));
            if (!refused) return problem_of(refused.error(), head.request_id);
            auto updated = services_.store->grants().request(id);
            if (!updated) return problem_of(updated.error(), head.request_id);
            return committed(json_response(200, request_json(*updated)), done, *refused);
        });
}

}  // namespace serambi::gateway
