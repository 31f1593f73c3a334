// MOU agreements and release approvals, the grants that let partners read classified data, and
// the policy's explanation of a decision. Every change commits with its access-log entry.
#include <time.h>

#include <algorithm>
#include <charconv>
#include <ctime>

#include "gateway/handler.h"

namespace serambi::gateway {

using policies::Action;

policies::Agreement agreement_view(const storage::AgreementRecord& r) {
    policies::Agreement a{r.id,         r.partner,     r.patterns,  policies::Classification::biasa,
                          r.valid_from, r.valid_until, r.revoked_at};
    if (auto level = policies::parse_classification(r.max_classification))
        a.max_classification = *level;
    else
        a.revoked_at = 1;  // a row that does not parse grants nothing
    return a;
}

policies::Approval approval_view(const storage::ApprovalRecord& r, bool continuing) {
    // A download that reached its end counts against the cap, except for a request that only
    // continues it (the reader missed its last bytes when the link dropped).
    const std::uint32_t downloads = r.downloads + (r.completed_pending && !continuing ? 1 : 0);
    return {r.id, r.package, r.partner, r.custodian, r.expires_at, r.max_downloads, downloads, r.withdrawn_at};
}

namespace {

std::string agreement_state(const storage::AgreementRecord& a, std::int64_t now) {
    if (a.revoked_at != 0) return "revoked";
    if (now < a.valid_from) return "not yet in force";
    if (now >= a.valid_until) return "expired";
    return "in force";
}

boost::json::object agreement_json(const storage::AgreementRecord& a) {
    boost::json::array patterns;
    for (const auto& p : a.patterns) patterns.emplace_back(p);
    boost::json::object o{{"id", a.id},
                          {"partner", a.partner},
                          {"datasets", patterns},
                          {"max_classification", a.max_classification},
                          {"purpose", a.purpose},
                          {"valid_from", format_time(a.valid_from)},
                          {"valid_until", format_time(a.valid_until)},
                          {"state", agreement_state(a, now_seconds())},
                          {"created_by", a.created_by},
                          {"created_at", a.created_at}};
    if (!a.document_name.empty()) {
        o["document_name"] = a.document_name;
        o["document_sha256"] = a.document_sha256;
    }
    if (a.revoked_at != 0) {
        o["revoked_at"] = format_time(a.revoked_at);
        o["revoked_by"] = a.revoked_by;
        o["revoke_reason"] = a.revoke_reason;
    }
    return o;
}

bool is_hex64(std::string_view s) {
    return s.size() == 64 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<std::uint64_t> count_member(const boost::json::object& o, std::string_view key, std::uint64_t max) {
    const auto* v = o.if_contains(key);
    if (v != nullptr && v->is_uint64() && v->get_uint64() <= max) return v->get_uint64();
    if (v != nullptr && v->is_int64() && v->get_int64() >= 0 && static_cast<std::uint64_t>(v->get_int64()) <= max)
        return static_cast<std::uint64_t>(v->get_int64());
    return make_error(ErrorKind::invalid_argument,
                      std::string(key) + " must be a whole number from 0 to " + std::to_string(max));
}

}  // namespace

std::string approval_state(const storage::ApprovalRecord& a, std::int64_t now) {
    if (a.withdrawn_at != 0) return "withdrawn";
    if (now >= a.expires_at) return "expired";
    if (a.max_downloads != 0 && a.downloads + (a.completed_pending ? 1 : 0) >= a.max_downloads) return "used up";
    return "standing";
}

boost::json::object approval_json(const storage::ApprovalRecord& a) {
    boost::json::object o{{"id", a.id},
                          {"package_id", a.package},
                          {"partner", a.partner},
                          {"custodian", a.custodian},
                          {"created_at", format_time(a.created_at)},
                          {"expires_at", format_time(a.expires_at)},
                          {"max_downloads", a.max_downloads},
                          {"downloads", a.downloads + (a.completed_pending ? 1 : 0)},
                          {"state", approval_state(a, now_seconds())}};
    if (a.withdrawn_at != 0) {
        o["withdrawn_at"] = format_time(a.withdrawn_at);
        o["withdrawn_by"] = a.withdrawn_by;
    }
    return o;
}

// Ids of agreements and approvals: a prefix and 64 random bits in hex.
bool is_grant_id(std::string_view id, std::string_view prefix) {
    if (!id.starts_with(prefix) || id.size() != prefix.size() + 16) return false;
    id.remove_prefix(prefix.size());
    return std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<std::vector<policies::Approval>> Handler::approvals_for(const Caller& caller, const std::string& package,
                                                               bool continuing) {
    std::vector<policies::Approval> out;
    if (package.empty()) return out;
    auto rows = services_.store->grants().approvals(package, caller.subject.id);
    if (!rows) return rows.error();
    for (const auto& r : *rows) out.push_back(approval_view(r, continuing));
    return out;
}

Result<policies::DatasetFacts> Handler::package_facts(const storage::PackageRecord& record) {
    auto dataset = services_.store->registry().dataset(record.dataset);
    auto level = policies::parse_classification(record.classification);
    if (!dataset || !level) return make_error(ErrorKind::corruption, "inconsistent package");
    return policies::DatasetFacts{dataset->owner,    *level,         record.dataset, record.id,
                                  record.recipients, record.producer};
}

// ---- Agreements

Dispatch Handler::create_agreement(const RequestHead& head, const Caller& caller) {
    const auto decision = services_.policy->decide(caller.subject, Action::manage_agreements, nullptr);
    if (!decision.allow) {
        auto hidden = problem(ErrorKind::not_found, "no such route", head.request_id);
        hidden.audit.reason = decision.reason;
        return {std::move(hidden), nullptr};
    }
    return {{},
            std::make_unique<JsonBody>(services_.config->max_json_bytes, [this, head, caller](const std::string& body) {
                return create_agreement_from(head, caller, body);
            })};
}

Response Handler::create_agreement_from(const RequestHead& head, const Caller& caller, const std::string& body) {
    const auto& rid = head.request_id;
    auto object = parse_object(body);
    if (!object) return problem_of(object.error(), rid);
    if (auto s = only_members(*object, {"partner", "datasets", "max_classification", "purpose", "valid_from",
                                        "valid_until", "document_name", "document_sha256"});
        !s)
        return problem_of(s.error(), rid);
    auto partner = string_member(*object, "partner", 63);
    auto level_name = string_member(*object, "max_classification", 32);
    auto purpose = string_member(*object, "purpose", 500);
    auto from_text = string_member(*object, "valid_from", 20);
    auto until_text = string_member(*object, "valid_until", 20);
    for (const auto* r : {&partner, &level_name, &purpose, &from_text, &until_text})
        if (!*r) return problem_of(r->error(), rid);
    auto level = policies::parse_classification(*level_name);
    if (!level) return problem(ErrorKind::invalid_argument, "max_classification: " + level.error().message, rid);
    auto from = parse_time(*from_text);
    auto until = parse_time(*until_text);
    if (!from) return problem(ErrorKind::invalid_argument, "valid_from: " + from.error().message, rid);
    if (!until) return problem(ErrorKind::invalid_argument, "valid_until: " + until.error().message, rid);
    if (*until <= *from) return problem(ErrorKind::invalid_argument, "valid_until must be after valid_from", rid);
    auto who = services_.store->registry().principal(*partner);
    if (!who || !who->removed_at.empty() ||
        std::find(who->roles.begin(), who->roles.end(), "partner") == who->roles.end())
        return problem(ErrorKind::invalid_argument,
                       "partner: " + *partner + " is not a registered principal with the partner role", rid);
    storage::AgreementRecord a;
    const auto* datasets = object->if_contains("datasets");
    if (datasets == nullptr || !datasets->is_array() || datasets->as_array().empty() ||
        datasets->as_array().size() > 100)
        return problem(ErrorKind::invalid_argument, "datasets must be a list of 1 to 100 patterns", rid);
    for (const auto& item : datasets->as_array()) {
        if (!item.is_string() || !policies::is_dataset_pattern(item.get_string()))
            return problem(ErrorKind::invalid_argument, "datasets: each pattern is OWNER/NAME, OWNER/* or *", rid);
        a.patterns.emplace_back(item.get_string());
    }
    if (object->contains("document_name") || object->contains("document_sha256")) {
        auto name = string_member(*object, "document_name", 255);
        auto digest = string_member(*object, "document_sha256", 64);
        if (!name || !is_safe_filename(*name))
            return problem(ErrorKind::invalid_argument, "document_name must be a plain file name", rid);
        if (!digest || !is_hex64(*digest))
            return problem(ErrorKind::invalid_argument, "document_sha256 must be 64 lowercase hex digits", rid);
        a.document_name = *name;
        a.document_sha256 = *digest;
    }
    a.id = "mou-" + crypto::random_hex(8);
    a.partner = *partner;
    a.max_classification = std::string(policies::name_of(*level));
    a.purpose = *purpose;
    a.valid_from = *from;
    a.valid_until = *until;
    a.created_by = caller.subject.id;
    std::string patterns;
    for (const auto& p : a.patterns) patterns += (patterns.empty() ? "" : ",") + p;
    auto done = change_record(caller.subject.id, "agreement.create", "agreements/" + a.id,
                              "the caller's role may manage MOU agreements; partner " + a.partner + ", datasets " +
                                  patterns + ", up to " + a.max_classification + ", from " + format_time(a.valid_from) +
                                  " until " + format_time(a.valid_until));
    done.status = 201;
    done.audit.classification = a.max_classification;
    auto added = services_.store->grants().add_agreement(a, AuditTrail::entry(head, done, body.size(), 0));
    if (!added) return problem_of(added.error(), rid);
    auto stored = services_.store->grants().agreement(a.id);
    if (!stored) return problem_of(stored.error(), rid);
    return committed(json_response(201, agreement_json(*stored)), done, *added);
}

Response Handler::list_agreements(const RequestHead& head, const Caller& caller) {
    const bool custodian = services_.policy->decide(caller.subject, Action::manage_agreements, nullptr).allow;
    if (!custodian && !caller.subject.has(policies::Role::partner))
        return problem(ErrorKind::not_found, "no such route", head.request_id);
    // A partner sees its own agreements; custodians see all.
    auto rows = services_.store->grants().agreements(custodian ? std::string() : caller.subject.id);
    if (!rows) return problem_of(rows.error(), head.request_id);
    boost::json::array out;
    for (const auto& a : *rows) out.push_back(agreement_json(a));
    return json_response(200, out);
}

Response Handler::get_agreement(const RequestHead& head, const Caller& caller, const std::string& id) {
    auto hidden = [&] { return problem(ErrorKind::not_found, "no such agreement", head.request_id); };
    if (!is_grant_id(id, "mou-")) return hidden();
    auto a = services_.store->grants().agreement(id);
    if (!a) return a.error().kind == ErrorKind::not_found ? hidden() : problem_of(a.error(), head.request_id);
    const bool custodian = services_.policy->decide(caller.subject, Action::manage_agreements, nullptr).allow;
    if (!custodian && a->partner != caller.subject.id) return hidden();
    return json_response(200, agreement_json(*a));
}

Dispatch Handler::revoke_agreement(const RequestHead& head, const Caller& caller, const std::string& id) {
    const auto decision = services_.policy->decide(caller.subject, Action::manage_agreements, nullptr);
    if (!decision.allow || !is_grant_id(id, "mou-")) {
        auto hidden = problem(ErrorKind::not_found, "no such agreement", head.request_id);
        if (!decision.allow) hidden.audit.reason = decision.reason;
        return {std::move(hidden), nullptr};
    }
    return json_body(
        head, {"reason"}, [this, head, caller, id](const boost::json::object& object, const std::string& body) {
            const auto& rid = head.request_id;
            auto reason = string_member(object, "reason", 500);
            if (!reason) return problem_of(reason.error(), rid);
            auto done = change_record(caller.subject.id, "agreement.revoke", "agreements/" + id, "revoked: " + *reason);
            auto revoked = services_.store->grants().revoke_agreement(id, caller.subject.id, *reason, now_seconds(),
                                                                      AuditTrail::entry(head, done, body.size(), 0));
            if (!revoked) return problem_of(revoked.error(), rid);
            auto stored = services_.store->grants().agreement(id);
            if (!stored) return problem_of(stored.error(), rid);
            return committed(json_response(200, agreement_json(*stored)), done, *revoked);
        });
}

// ---- Approvals

Dispatch Handler::create_approval(const RequestHead& head, const Caller& caller, const std::string& package) {
    auto hidden = [&] { return Dispatch{problem(ErrorKind::not_found, "no such package", head.request_id), nullptr}; };
    if (!storage::is_package_id(package)) return hidden();
    auto record = services_.store->packages().package(package);
    if (!record)
        return record.error().kind == ErrorKind::not_found
                   ? hidden()
                   : Dispatch{problem_of(record.error(), head.request_id), nullptr};
    auto facts = package_facts(*record);
    if (!facts) return {problem_of(facts.error(), head.request_id), nullptr};
    const auto decision = services_.policy->decide(caller.subject, Action::approve, &*facts);
    if (!decision.allow) {
        auto refused = decision.reveal ? problem(ErrorKind::conflict, decision.reason, head.request_id)
                                       : std::move(hidden().response);
        refused.audit.resource = "datasets/" + record->dataset + "/packages/" + package + "/approvals";
        refused.audit.classification = record->classification;
        refused.audit.reason = decision.reason;
        return {std::move(refused), nullptr};
    }
    return {{},
            std::make_unique<JsonBody>(services_.config->max_json_bytes,
                                       [this, head, caller, package](const std::string& body) {
                                           return create_approval_from(head, caller, package, body);
                                       })};
}

Response Handler::create_approval_from(const RequestHead& head, const Caller& caller, const std::string& package,
                                       const std::string& body) {
    const auto& rid = head.request_id;
    auto object = parse_object(body);
    if (!object) return problem_of(object.error(), rid);
    if (auto s = only_members(*object, {"partner", "expires_at", "max_downloads"}); !s)
        return problem_of(s.error(), rid);
    auto partner = string_member(*object, "partner", 63);
    if (!partner) return problem_of(partner.error(), rid);
    auto record = services_.store->packages().package(package);
    if (!record) return problem_of(record.error(), rid);
    auto facts = package_facts(*record);
    if (!facts) return problem_of(facts.error(), rid);
    // A custodian who is also the reader would release to their own organisation.
    if (*partner == caller.subject.id)
        return problem(ErrorKind::conflict, "a custodian cannot approve a release to their own organisation", rid);
    auto reader = services_.store->registry().principal(*partner);
    if (!reader || !reader->removed_at.empty())
        return problem(ErrorKind::invalid_argument,
                       "partner: " + *partner + " is not a registered principal (or was removed)", rid);

    const std::int64_t now = now_seconds();
    storage::ApprovalRecord a;
    a.id = "apv-" + crypto::random_hex(8);
    a.package = package;
    a.partner = *partner;
    a.custodian = caller.subject.id;
    a.created_at = now;
    a.expires_at = now + services_.policy->approval_seconds(facts->classification);
    if (object->contains("expires_at")) {
        auto text = string_member(*object, "expires_at", 20);
        auto at = text ? parse_time(*text) : Result<std::int64_t>(text.error());
        if (!at) return problem(ErrorKind::invalid_argument, "expires_at: " + at.error().message, rid);
        if (*at <= now || *at > now + 366 * 86400)
            return problem(ErrorKind::invalid_argument, "expires_at must be in the future and within a year", rid);
        a.expires_at = *at;
    }
    // The policy's cap is the default and the ceiling: a custodian may allow fewer downloads,
    // never more, and never "no cap" where the policy sets one.
    const std::uint32_t policy_cap = services_.policy->max_downloads(facts->classification);
    a.max_downloads = policy_cap;
    if (object->contains("max_downloads")) {
        auto cap = count_member(*object, "max_downloads", 1000000);
        if (!cap) return problem_of(cap.error(), rid);
        if (policy_cap != 0 && (*cap == 0 || *cap > policy_cap))
            return problem(ErrorKind::invalid_argument,
                           "max_downloads must be from 1 to " + std::to_string(policy_cap) + ", the policy's cap for " +
                               record->classification + " data",
                           rid);
        a.max_downloads = static_cast<std::uint32_t>(*cap);
    }

    // Would the approval release anything? Ask the policy as if every approval it needs stood:
    // a reader it still refuses (no agreement, not named) gets nothing from it.
    policies::Subject subject{reader->id, {}};
    for (const auto& name : reader->roles)
        if (auto role = policies::parse_role(name)) subject.roles.push_back(*role);
    auto existing = services_.store->grants().approvals(package, *partner);
    if (!existing) return problem_of(existing.error(), rid);
    std::vector<policies::Approval> hypothetical;
    for (const auto& e : *existing) {
        if (e.custodian == caller.subject.id && approval_state(e, now) == "standing")
            return problem(ErrorKind::conflict, "you already approved this package for " + *partner + " (" + e.id + ")",
                           rid);
        hypothetical.push_back(approval_view(e));
    }
    for (unsigned i = 0; i < services_.policy->approvals_needed(facts->classification); ++i)
        hypothetical.push_back({"trial-" + std::to_string(i), package, *partner, "trial-custodian-" + std::to_string(i),
                                now + 60, 0, 0, 0});
    std::vector<policies::Agreement> agreements;
    if (auto rows = services_.store->grants().agreements(*partner); rows)
        for (const auto& r : *rows) agreements.push_back(agreement_view(r));
    const auto trial =
        services_.policy->decide(subject, Action::read, &*facts, policies::Context{now, agreements, hypothetical});
    if (!trial.allow)
        return problem(ErrorKind::conflict,
                       "this approval would release nothing: even with every approval it needs, " + *partner +
                           " may not read the package (" + trial.reason + ")",
                       rid);

    auto done = change_record(caller.subject.id, "approval.create",
                              "datasets/" + record->dataset + "/packages/" + package + "/approvals/" + a.id,
                              "the caller's role may approve releases; released to " + *partner);
    done.status = 201;
    done.audit.classification = record->classification;
    // Does this approval complete the release? Judged in the approval's transaction, against every
    // approval then stored; then the partner's open requests are answered.
    auto releases = [&](const std::vector<storage::ApprovalRecord>& stored) {
        std::vector<policies::Approval> actual;
        for (const auto& e : stored) actual.push_back(approval_view(e));
        return services_.policy->decide(subject, Action::read, &*facts, policies::Context{now, agreements, actual})
            .allow;
    };
    auto added = services_.store->grants().add_approval(a, AuditTrail::entry(head, done, body.size(), 0), releases);
    if (!added) return problem_of(added.error(), rid);
    return committed(json_response(201, approval_json(a)), done, *added);
}

Response Handler::list_approvals(const RequestHead& head, const Caller& caller, const Query& query) {
    const bool custodian = services_.policy->decide(caller.subject, Action::approve, nullptr).allow;
    if (!custodian && !caller.subject.has(policies::Role::partner))
        return problem(ErrorKind::not_found, "no such route", head.request_id);
    const auto package = query.text("package").value_or("");
    auto partner = query.text("partner").value_or("");
    if (!custodian) partner = caller.subject.id;  // a partner sees the approvals given to it
    if (!package.empty() && !storage::is_package_id(package))
        return problem(ErrorKind::invalid_argument, "package must be a package id", head.request_id);
    auto rows = services_.store->grants().approvals(package, partner);
    if (!rows) return problem_of(rows.error(), head.request_id);
    boost::json::array out;
    for (const auto& a : *rows) out.push_back(approval_json(a));
    return json_response(200, out);
}

Dispatch Handler::withdraw_approval(const RequestHead& head, const Caller& caller, const std::string& id) {
    const auto decision = services_.policy->decide(caller.subject, Action::approve, nullptr);
    if (!decision.allow || !is_grant_id(id, "apv-")) {
        auto hidden = problem(ErrorKind::not_found, "no such approval", head.request_id);
        hidden.audit.reason = decision.reason;
        return {std::move(hidden), nullptr};
    }
    auto existing = services_.store->grants().approval(id);
    if (!existing) return {problem_of(existing.error(), head.request_id), nullptr};
    auto done =
        change_record(caller.subject.id, "approval.withdraw", "packages/" + existing->package + "/approvals/" + id,
                      "withdrawn by a custodian; it released the package to " + existing->partner);
    auto withdrawn = services_.store->grants().withdraw_approval(id, caller.subject.id, now_seconds(),
                                                                 AuditTrail::entry(head, done, 0, 0));
    if (!withdrawn) return {problem_of(withdrawn.error(), head.request_id), nullptr};
    auto stored = services_.store->grants().approval(id);
    if (!stored) return {problem_of(stored.error(), head.request_id), nullptr};
    return {committed(json_response(200, approval_json(*stored)), done, *withdrawn), nullptr};
}

// ---- Explanations: what the policy would decide for someone else, and why.

Response Handler::explain(const RequestHead& head, const Caller& caller, const Query& query) {
    const auto& rid = head.request_id;
    // Custodians manage the grants and approve releases, so what the policy decides is theirs to
    // see; an admin runs the gateway and learns nothing of the data from it.
    const auto allowed = services_.policy->decide(caller.subject, Action::manage_agreements, nullptr);
    if (!allowed.allow) {
        auto hidden = problem(ErrorKind::not_found, "no such route", rid);
        hidden.audit.reason = allowed.reason;
        return hidden;
    }
    const auto principal_id = query.text("principal");
    const auto action_name = query.text("action").value_or("pull");
    const auto package = query.text("package");
    const auto dataset_id = query.text("dataset");
    if (!principal_id || (!package == !dataset_id))
        return problem(ErrorKind::invalid_argument, "give principal= and either package= or dataset=", rid);
    auto action = policies::parse_action(action_name);
    if (!action || *action == Action::list)
        return problem(ErrorKind::invalid_argument, "action must be pull or push", rid);
    auto who = services_.store->registry().principal(*principal_id);
    if (!who) return problem(ErrorKind::not_found, "no such principal", rid);
    Caller subject;
    subject.subject.id = who->id;
    for (const auto& name : who->roles)
        if (auto role = policies::parse_role(name)) subject.subject.roles.push_back(*role);
    if (auto rows = services_.store->grants().agreements(who->id); rows)
        for (const auto& r : *rows) subject.agreements.push_back(agreement_view(r));
    policies::DatasetFacts facts;
    std::vector<policies::Approval> approvals;
    if (package) {
        auto record = storage::is_package_id(*package)
                          ? services_.store->packages().package(*package)
                          : Result<storage::PackageRecord>(make_error(ErrorKind::not_found, ""));
        if (!record) return problem(ErrorKind::not_found, "no such package", rid);
        auto f = package_facts(*record);
        if (!f) return problem_of(f.error(), rid);
        facts = *f;
        auto a = approvals_for(subject, *package);
        if (!a) return problem_of(a.error(), rid);
        approvals = std::move(a).value();
    } else {
        auto d = services_.store->registry().dataset(*dataset_id);
        if (!d) return problem(ErrorKind::not_found, "no such dataset", rid);
        auto level = policies::parse_classification(d->classification);
        if (!level) return problem_of(level.error(), rid);
        facts = policies::DatasetFacts{d->owner, *level, d->id, "", {}, ""};
    }
    const auto decision = services_.policy->decide(subject.subject, *action, &facts,
                                                   policies::Context{now_seconds(), subject.agreements, approvals});
    boost::json::array obligations;
    for (const auto& o : decision.obligations) obligations.emplace_back(o);
    Response r = json_response(
        200, boost::json::object{{"principal", who->id},
                                 {"action", action_name},
                                 {"resource", package ? "packages/" + *package : "datasets/" + *dataset_id},
                                 {"classification", std::string(policies::name_of(facts.classification))},
                                 {"decision", decision.allow ? "allow" : "deny"},
                                 {"reason", decision.reason},
                                 {"obligations", obligations}});
    r.audit.resource = package ? "packages/" + *package : "datasets/" + *dataset_id;
    r.audit.classification = std::string(policies::name_of(facts.classification));
    r.audit.reason = "explained " + action_name + " for " + who->id + ": " + (decision.allow ? "allow, " : "deny, ") +
                     decision.reason;
    return r;
}

}  // namespace serambi::gateway
