// The principals' routes: the registry (list, register from a CSR), each principal's age
// recipient, and its certificate's life: renewal, revocation, removal, and the CRL. Every change
// commits with its access-log entry.
#include <algorithm>
#include <boost/algorithm/string/join.hpp>
#include <boost/json.hpp>

#include "crypto/age.h"
#include "gateway/handler.h"

namespace serambi::gateway {

using policies::Action;

namespace {

boost::json::object principal_json(const storage::Principal& p) {
    boost::json::array roles;
    for (const auto& r : p.roles) roles.emplace_back(r);
    return {{"id", p.id},
            {"name", p.name},
            {"roles", roles},
            {"certificate_serial", p.cert_serial},
            {"age_recipient", p.age_recipient},
            {"certificate_not_after", p.cert_not_after},
            {"created_at", p.created_at},
            {"removed_at", p.removed_at}};
}

}  // namespace

Response Handler::get_whoami(const RequestHead& head, const Caller& caller) {
    auto principal = services_.store->registry().principal(caller.subject.id);
    if (!principal) return problem_of(principal.error(), head.request_id);
    return json_response(200, principal_json(*principal));
}

Response Handler::list_principals(const RequestHead& head, const Caller& caller) {
    const auto decision = services_.policy->decide(caller.subject, Action::manage_principals, nullptr);
    if (!decision.allow) return problem(ErrorKind::not_found, "no such route", head.request_id);
    auto all = services_.store->registry().principals();
    if (!all) return problem_of(all.error(), head.request_id);
    boost::json::array out;
    for (const auto& p : *all) out.push_back(principal_json(p));
    return json_response(200, out);
}

Dispatch Handler::create_principal(const RequestHead& head, const Caller& caller) {
    const auto decision = services_.policy->decide(caller.subject, Action::manage_principals, nullptr);
    if (!decision.allow) return {problem(ErrorKind::not_found, "no such route", head.request_id), nullptr};
    return {{},
            std::make_unique<JsonBody>(services_.config->max_json_bytes, [this, head, caller](const std::string& body) {
                return create_principal_from(head, caller, body);
            })};
}

Response Handler::create_principal_from(const RequestHead& head, const Caller& caller, const std::string& body) {
    const auto& rid = head.request_id;
    auto object = parse_object(body);
    if (!object) return problem_of(object.error(), rid);
    if (auto s = only_members(*object, {"id", "name", "roles", "csr", "age_recipient"}); !s)
        return problem_of(s.error(), rid);
    std::string age_recipient;
    if (object->contains("age_recipient")) {
        auto text = string_member(*object, "age_recipient", 100);
        auto canonical = text ? canonical_recipient(*text) : Result<std::string>(text.error());
        if (!canonical)
            return problem(ErrorKind::invalid_argument, "age_recipient must be an age X25519 recipient (age1…)", rid);
        age_recipient = *canonical;
    }
    auto id = string_member(*object, "id", 63);
    auto name = string_member(*object, "name", 200);
    const auto* csr_value = object->if_contains("csr");
    const auto* roles_value = object->if_contains("roles");
    if (!id) return problem_of(id.error(), rid);
    if (!is_slug(*id))
        return problem(ErrorKind::invalid_argument, "id must be lowercase letters, digits and hyphens", rid);
    if (!name) return problem_of(name.error(), rid);
    if (csr_value == nullptr || !csr_value->is_string() || csr_value->get_string().size() > 8192)
        return problem(ErrorKind::invalid_argument, "csr must be a PEM certificate request", rid);
    if (roles_value == nullptr || !roles_value->is_array() || roles_value->get_array().empty() ||
        roles_value->get_array().size() > 5)
        return problem(ErrorKind::invalid_argument, "roles must be a non-empty list of role names", rid);
    std::vector<std::string> roles;
    for (const auto& r : roles_value->get_array()) {
        auto role = r.is_string()
                        ? policies::parse_role(r.get_string())
                        : Result<policies::Role>(make_error(ErrorKind::invalid_argument, "roles must be strings"));
        if (!role) return problem_of(role.error(), rid);
        std::string role_name(policies::name_of(*role));
        if (std::find(roles.begin(), roles.end(), role_name) == roles.end()) roles.push_back(role_name);
    }
    auto csr = certs::read_csr(std::string(csr_value->get_string()));
    if (!csr) return problem_of(csr.error(), rid);
    if (csr->common_name != *id)
        return problem(ErrorKind::invalid_argument, "the certificate request's common name must be the principal id",
                       rid);
    if (auto existing = services_.store->registry().principal(*id); existing.ok())
        return problem(ErrorKind::conflict,
                       existing->removed_at.empty()
                           ? "principal " + *id + " already exists"
                           : "principal " + *id + " was removed at " + existing->removed_at +
                                 "; an id is never given again, so that the access log stays unambiguous",
                       rid);

    auto issued = issue_client_certificate(*id, csr->public_key_pem);
    if (!issued) return problem_of(issued.error(), rid);
    const auto& cert = issued->pem;
    const auto* info = &issued->info;
    storage::Principal principal{
        *id, *name, roles, info->serial_hex, info->fingerprint_sha256_hex, {}, age_recipient, info->not_after, {}};
    Response done;
    done.status = 201;
    done.principal = caller.subject.id;
    done.audit.resource = "principals/" + *id;
    done.audit.reason = "the caller's role may manage principals; roles " + boost::algorithm::join(roles, ",") +
                        ", certificate " + info->serial_hex;
    auto added = services_.store->registry().add_principal(principal, AuditTrail::entry(head, done, body.size(), 0));
    if (!added) return problem_of(added.error(), rid);
    auto stored = services_.store->registry().principal(*id);
    if (!stored) return problem_of(stored.error(), rid);
    auto r = json_response(
        201,
        {{"principal", principal_json(*stored)}, {"certificate", cert}, {"ca_certificate", services_.ca.cert_pem}});
    r.audit = done.audit;
    r.audit.committed_index = *added;
    return r;
}

// A client certificate for principal `id` and the key in its request: what add, renew and
// reissue give, alike in every field.
Result<Handler::IssuedCertificate> Handler::issue_client_certificate(const std::string& id,
                                                                     const std::string& public_key_pem) {
    certs::IssueRequest request;
    request.common_name = id;
    request.usage = certs::Usage::client;
    request.uri = "serambi:principal:" + id;
    request.days = static_cast<int>(services_.config->principal_days);
    auto cert = certs::issue(services_.ca, public_key_pem, request);
    if (!cert) return cert.error();
    auto info = certs::inspect(*cert);
    if (!info) return info.error();
    return IssuedCertificate{std::move(*cert), std::move(*info)};
}

// The "csr" member of a renew or reissue body: a PEM request for exactly `id`.
Result<certs::CsrContents> Handler::csr_for(const boost::json::object& object, const std::string& id) {
    const auto* value = object.if_contains("csr");  // PEM: lines, so not a plain string member
    if (value == nullptr || !value->is_string() || value->get_string().size() > 8192)
        return make_error(ErrorKind::invalid_argument, "csr must be a PEM certificate request");
    auto csr = certs::read_csr(std::string(value->get_string()));
    if (!csr) return csr.error();
    if (csr->common_name != id)
        return make_error(ErrorKind::invalid_argument, "the request is for '" + csr->common_name + "', not " + id +
                                                           " (serambi enroll --id " + id + " makes one)");
    return csr;
}

// ---- Principals' age recipients

Result<std::string> canonical_recipient(std::string_view text) {
    auto r = crypto::age::parse_recipient(text);
    if (!r) return r.error();
    return crypto::age::encode_recipient(*r);
}

Response Handler::get_recipient(const RequestHead& head, const Caller&, const std::string& id) {
    auto hidden = [&] {
        return problem(ErrorKind::not_found, "no such principal, or it has no age recipient", head.request_id);
    };
    if (!is_slug(id)) return hidden();
    auto p = services_.store->registry().principal(id);
    if (!p) return p.error().kind == ErrorKind::not_found ? hidden() : problem_of(p.error(), head.request_id);
    if (p->age_recipient.empty() || !p->removed_at.empty())
        return hidden();  // nothing more is sealed for a removed unit
    Response r;
    r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    r.body = p->age_recipient + "\n";
    r.audit.resource = "principals/" + id + "/recipient";
    r.audit.reason = "an age recipient is a public key";
    return r;
}

Dispatch Handler::set_recipient(const RequestHead& head, const Caller& caller, const std::string& id) {
    // Only the principal itself: a recipient another could replace would let that other (an
    // admin, or whoever holds the gateway) read what producers seal to it.
    if (caller.subject.id != id || !is_slug(id)) {
        auto refused = problem(ErrorKind::not_found, "no such route", head.request_id);
        refused.audit.reason = "only the principal itself replaces its age recipient";
        return {std::move(refused), nullptr};
    }
    return json_body(
        head, {"recipient"}, [this, head, caller, id](const boost::json::object& object, const std::string& body) {
            const auto& rid = head.request_id;
            auto text = string_member(object, "recipient", 100);
            auto recipient = text ? canonical_recipient(*text) : Result<std::string>(text.error());
            if (!recipient)
                return problem(ErrorKind::invalid_argument, "recipient must be a usable age X25519 recipient (age1…)",
                               rid);
            auto before = services_.store->registry().principal(id);
            if (!before) return problem_of(before.error(), rid);
            auto done =
                change_record(caller.subject.id, "principal.recipient", "principals/" + id + "/recipient",
                              "the principal replaced its age recipient " +
                                  (before->age_recipient.empty() ? std::string("(none)") : before->age_recipient) +
                                  " with " + *recipient);
            auto changed = services_.store->registry().set_age_recipient(id, *recipient,
                                                                         AuditTrail::entry(head, done, body.size(), 0));
            if (!changed) return problem_of(changed.error(), rid);
            Response r = json_response(200, boost::json::object{{"id", id}, {"age_recipient", *recipient}});
            return committed(std::move(r), done, *changed);
        });
}

// ---- Revocation

Dispatch Handler::revoke(const RequestHead& head, const Caller& caller, const std::string& principal_id) {
    const auto decision = services_.policy->decide(caller.subject, Action::manage_principals, nullptr);
    if (!decision.allow || (!principal_id.empty() && !is_slug(principal_id))) {
        auto hidden = problem(ErrorKind::not_found, "no such route", head.request_id);
        hidden.audit.reason = decision.reason;
        return {std::move(hidden), nullptr};
    }
    return json_body(
        head, {"reason", "serial"},
        [this, head, caller, principal_id](const boost::json::object& object, const std::string& body) {
            const auto& rid = head.request_id;
            auto reason_name = string_member(object, "reason", 40);
            auto reason = reason_name ? certs::parse_revocation_reason(*reason_name) : Result<int>(reason_name.error());
            if (!reason) return problem_of(reason.error(), rid);
            storage::Revocation r;
            r.reason = *reason;
            r.revoked_at = now_seconds();
            r.revoked_by = caller.subject.id;
            if (!principal_id.empty()) {
                auto p = services_.store->registry().principal(principal_id);
                if (!p) return problem(ErrorKind::not_found, "no such principal", rid);
                r.serial_hex = p->cert_serial;
                r.principal = p->id;
            } else {
                auto serial = string_member(object, "serial", 64);
                if (!serial || serial->find_first_not_of("0123456789ABCDEF") != std::string::npos)
                    return problem(ErrorKind::invalid_argument,
                                   "serial must be the certificate's serial in uppercase hex", rid);
                r.serial_hex = *serial;
                if (auto all = services_.store->registry().principals(); all)
                    for (const auto& p : *all)
                        if (p.cert_serial == r.serial_hex) r.principal = p.id;
            }
            if (r.principal == caller.subject.id)
                return problem(ErrorKind::conflict, "you cannot revoke your own certificate: another admin must", rid);
            auto done =
                change_record(caller.subject.id, "certificate.revoke", "pki/certificates/" + r.serial_hex,
                              "revoked (" + std::string(certs::revocation_reason_name(r.reason)) + ")" +
                                  (r.principal.empty() ? std::string() : ", the certificate of " + r.principal));
            auto added =
                services_.store->registry().revoke_certificate(r, AuditTrail::entry(head, done, body.size(), 0));
            if (!added) return problem_of(added.error(), rid);
            if (services_.revoked != nullptr) services_.revoked->add(r.serial_hex);
            Response out =
                json_response(200, boost::json::object{{"serial", r.serial_hex},
                                                       {"principal", r.principal},
                                                       {"reason", std::string(certs::revocation_reason_name(r.reason))},
                                                       {"revoked_at", format_time(r.revoked_at)}});
            return committed(std::move(out), done, *added);
        });
}

// Removal: a unit that leaves for good. Its certificate is revoked (cessationOfOperation unless
// told otherwise) and it is marked removed; the row stays, so that the access log, its datasets
// and its packages keep naming a principal the registry knows, and the id is never given again.
Dispatch Handler::remove_principal(const RequestHead& head, const Caller& caller, const std::string& id) {
    const auto decision = services_.policy->decide(caller.subject, Action::manage_principals, nullptr);
    if (!decision.allow || !is_slug(id)) {
        auto hidden = problem(ErrorKind::not_found, "no such route", head.request_id);
        hidden.audit.reason = decision.allow ? "not a principal id" : decision.reason;
        return {std::move(hidden), nullptr};
    }
    return json_body(
        head, {"reason"}, [this, head, caller, id](const boost::json::object& object, const std::string& body) {
            const auto& rid = head.request_id;
            int reason_code = 5;  // cessationOfOperation
            if (object.contains("reason")) {
                auto reason_name = string_member(object, "reason", 40);
                auto reason =
                    reason_name ? certs::parse_revocation_reason(*reason_name) : Result<int>(reason_name.error());
                if (!reason) return problem_of(reason.error(), rid);
                reason_code = *reason;
            }
            auto p = services_.store->registry().principal(id);
            if (!p)
                return p.error().kind == ErrorKind::not_found ? problem(ErrorKind::not_found, "no such principal", rid)
                                                              : problem_of(p.error(), rid);
            if (id == caller.subject.id)
                return problem(ErrorKind::conflict, "you cannot remove yourself: another admin must", rid);
            if (!p->removed_at.empty())
                return problem(ErrorKind::conflict, "principal " + id + " was removed at " + p->removed_at, rid);
            storage::Revocation r;
            r.serial_hex = p->cert_serial;
            r.principal = id;
            r.reason = reason_code;
            r.revoked_at = now_seconds();
            r.revoked_by = caller.subject.id;
            // One revoked earlier keeps its first reason; say so rather than claim this one.
            const bool already = services_.revoked != nullptr && services_.revoked->contains(r.serial_hex);
            const std::string revocation_text =
                already ? "already revoked" : std::string(certs::revocation_reason_name(r.reason));
            auto done = change_record(caller.subject.id, "principal.remove", "principals/" + id,
                                      "removed; certificate " + r.serial_hex + " " +
                                          (already ? revocation_text : "revoked (" + revocation_text + ")"));
            auto removed =
                services_.store->registry().remove_principal(id, r, AuditTrail::entry(head, done, body.size(), 0));
            if (!removed) return problem_of(removed.error(), rid);
            if (services_.revoked != nullptr) services_.revoked->add(r.serial_hex);
            Response out = json_response(200, boost::json::object{{"id", id},
                                                                  {"removed_at", format_time(r.revoked_at)},
                                                                  {"revoked_serial", r.serial_hex},
                                                                  {"reason", revocation_text}});
            return committed(std::move(out), done, *removed);
        });
}

// Reissue: the unit lost its key (a stolen laptop) or its certificate was revoked; it makes a new
// key and request (serambi enroll) and an admin registers it under the same id.
Dispatch Handler::reissue(const RequestHead& head, const Caller& caller, const std::string& id) {
    const auto decision = services_.policy->decide(caller.subject, Action::manage_principals, nullptr);
    if (!decision.allow || !is_slug(id)) {
        auto hidden = problem(ErrorKind::not_found, "no such route", head.request_id);
        hidden.audit.reason = decision.allow ? "not a principal id" : decision.reason;
        return {std::move(hidden), nullptr};
    }
    if (caller.subject.id == id) {
        // Two people for an admin's own key: a stolen admin certificate must not be able to mint
        // its thief a fresh one.
        auto refused = problem(ErrorKind::conflict,
                               "you cannot reissue your own certificate: another admin must (or use serambi renew)",
                               head.request_id);
        return {std::move(refused), nullptr};
    }
    return json_body(head, {"csr"},
                     [this, head, caller, id](const boost::json::object& object, const std::string& body) {
                         const auto& rid = head.request_id;
                         auto csr = csr_for(object, id);
                         if (!csr) return problem_of(csr.error(), rid);
                         auto principal = services_.store->registry().principal(id);
                         if (!principal)
                             return principal.error().kind == ErrorKind::not_found
                                        ? problem(ErrorKind::not_found, "no principal " + id, rid)
                                        : problem_of(principal.error(), rid);
                         if (!principal->removed_at.empty())
                             return problem(ErrorKind::conflict,
                                            "principal " + id + " was removed at " + principal->removed_at +
                                                "; a removed principal is not given certificates again",
                                            rid);
                         auto issued = issue_client_certificate(id, csr->public_key_pem);
                         if (!issued) return problem_of(issued.error(), rid);
                         const auto& cert = issued->pem;
                         const auto* info = &issued->info;
                         const bool was_revoked =
                             services_.revoked != nullptr && services_.revoked->contains(principal->cert_serial);
                         const storage::Revocation old{principal->cert_serial, id, 4 /* superseded */, now_seconds(),
                                                       caller.subject.id};
                         auto done = change_record(caller.subject.id, "certificate.reissue", "principals/" + id,
                                                   "reissued: certificate " + info->serial_hex + " until " +
                                                       info->not_after + " replaces " + principal->cert_serial +
                                                       (was_revoked ? " (revoked before)" : ", revoked as superseded"));
                         auto changed = services_.store->registry().replace_certificate(
                             id, info->serial_hex, info->fingerprint_sha256_hex, info->not_after, old,
                             AuditTrail::entry(head, done, body.size(), 0), true);
                         if (!changed) return problem_of(changed.error(), rid);
                         if (services_.revoked != nullptr) services_.revoked->add(old.serial_hex);
                         Response r = json_response(200, boost::json::object{{"principal", id},
                                                                             {"certificate", cert},
                                                                             {"ca_certificate", services_.ca.cert_pem},
                                                                             {"serial", info->serial_hex},
                                                                             {"replaced_serial", old.serial_hex},
                                                                             {"not_after", info->not_after}});
                         return committed(std::move(r), done, *changed);
                     });
}

// Renewal from a profile: the principal itself sends a request for its own id, made with the
// same key or a new one; the certificate it authenticated with is revoked as superseded.
Dispatch Handler::renew(const RequestHead& head, const Caller& caller, const std::string& id) {
    if (caller.subject.id != id) {
        auto refused = problem(ErrorKind::not_found, "no such route", head.request_id);
        refused.audit.reason = "a principal renews only its own certificate";
        return {std::move(refused), nullptr};
    }
    return json_body(
        head, {"csr"}, [this, head, caller, id](const boost::json::object& object, const std::string& body) {
            const auto& rid = head.request_id;
            auto csr = csr_for(object, id);
            if (!csr) return problem_of(csr.error(), rid);
            auto issued = issue_client_certificate(id, csr->public_key_pem);
            if (!issued) return problem_of(issued.error(), rid);
            const auto& cert = issued->pem;
            const auto* info = &issued->info;
            const storage::Revocation old{head.cert_serial, id, 4 /* superseded */, now_seconds(), id};
            auto done = change_record(caller.subject.id, "certificate.renew", "principals/" + id,
                                      "renewed: certificate " + info->serial_hex + " until " + info->not_after +
                                          " replaces " + head.cert_serial + ", revoked as superseded");
            auto changed = services_.store->registry().replace_certificate(
                id, info->serial_hex, info->fingerprint_sha256_hex, info->not_after, old,
                AuditTrail::entry(head, done, body.size(), 0));
            if (!changed) return problem_of(changed.error(), rid);
            if (services_.revoked != nullptr) services_.revoked->add(old.serial_hex);
            Response r = json_response(200, boost::json::object{{"certificate", cert},
                                                                {"ca_certificate", services_.ca.cert_pem},
                                                                {"serial", info->serial_hex},
                                                                {"not_after", info->not_after}});
            return committed(std::move(r), done, *changed);
        });
}

Response Handler::get_crl(const RequestHead& head, const Caller&) {
    auto rows = services_.store->registry().revocations();
    if (!rows) return problem_of(rows.error(), head.request_id);
    std::vector<certs::RevokedCertificate> revoked;
    for (const auto& r : *rows) revoked.push_back({r.serial_hex, r.revoked_at, r.reason});
    auto der = certs::make_crl(services_.ca, revoked, now_seconds(), static_cast<std::int64_t>(rows->size()) + 1, 7);
    if (!der) return problem_of(der.error(), head.request_id);
    Response r;
    r.headers.emplace_back("Content-Type", "application/pkix-crl");
    r.headers.emplace_back("Cache-Control", "no-store");
    r.body.assign(der->begin(), der->end());
    r.audit.resource = "pki/crl";
    r.audit.reason = "the CRL is public";
    return r;
}

}  // namespace serambi::gateway
