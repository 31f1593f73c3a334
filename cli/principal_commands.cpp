// The principal verbs: registering units and partners, their certificates (enrol, renew, revoke,
// the CRL) and age recipients, and whoami.
#include <unistd.h>

#include <boost/json.hpp>
#include <iostream>
#include <sstream>

#include "base/time.h"
#include "certs/certs.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/messages.h"
#include "crypto/age.h"
#include "policies/policy.h"
#include "storage/store.h"

namespace serambi::cli {

int run_principal_add(const PrincipalAddOptions& options) {
    const std::string command = "principal add";
    if (!policies::is_slug_like(options.id))
        return report(command, make_error(ErrorKind::invalid_argument,
                                          tr("the id must be lowercase letters, digits and hyphens")));
    if (std::filesystem::exists(std::filesystem::path(options.out) / "profile.toml"))
        return report(command, make_error(ErrorKind::conflict, tr("a profile already exists in {}", {options.out})));
    Profile admin;
    auto client = connect(options.profile, &admin);
    if (!client) return report(command, client.error());
    // With --csr the unit made its key itself (serambi enroll) and it never reaches us.
    const bool enrolled = !options.csr.empty();
    Result<crypto::SecretBuffer> key = crypto::SecretBuffer();
    Result<std::string> csr = make_error(ErrorKind::internal, "");
    if (enrolled) {
        csr = storage::read_small_file(options.csr, 8192);
        if (!csr) return report(command, csr.error());
        auto contents = certs::read_csr(*csr);
        if (!contents) return report(command, contents.error());
        if (contents->common_name != options.id)
            return report(
                command, make_error(ErrorKind::invalid_argument, tr("{} is a request for '{}', not {}",
                                                                    {options.csr, contents->common_name, options.id})));
    } else {
        key = certs::generate_private_key();
        if (!key) return report(command, key.error());
        csr = certs::make_csr(*key, options.id);
        if (!csr) return report(command, csr.error());
    }
    boost::json::array roles;
    for (const auto& r : options.roles) roles.emplace_back(r);
    // The age identity is made beside the profile unless the unit brought its own recipient,
    // so that its secret never leaves its machine.
    std::string age_recipient = options.age_recipient;
    const auto identity_path = std::filesystem::path(options.out) / "age.key";
    if (age_recipient.empty() && !enrolled) {
        std::error_code ec;
        std::filesystem::create_directories(options.out, ec);
        auto made = create_age_identity_file(identity_path);
        if (!made) return report(command, made.error());
        age_recipient = *made;
    } else if (!age_recipient.empty() && !crypto::age::parse_recipient(age_recipient)) {
        return report(command, make_error(ErrorKind::invalid_argument,
                                          tr("--age-recipient must be an age X25519 recipient (age1…)")));
    }
    boost::json::object body{{"id", options.id}, {"name", options.name}, {"roles", roles}, {"csr", *csr}};
    if (!age_recipient.empty()) body["age_recipient"] = age_recipient;
    auto reply = (*client)->request("POST", "/v1/principals", boost::json::serialize(body));
    auto forget_identity = [&] {
        std::error_code ec;
        if (options.age_recipient.empty() && !enrolled) std::filesystem::remove(identity_path, ec);
    };
    if (!reply) {
        forget_identity();
        return report(command, reply.error());
    }
    if (reply->status != 201) {
        forget_identity();
        return report_reply(command, *reply);
    }
    boost::system::error_code ec;
    auto answer = boost::json::parse(reply->body, ec);
    if (ec || !answer.is_object() || !answer.as_object().contains("certificate"))
        return report(command, make_error(ErrorKind::corruption, tr("the gateway's answer is not understood")));
    const auto& o = answer.as_object();
    auto status =
        write_profile(options.out, admin.gateway_url, options.id, std::string(o.at("certificate").as_string()), *key,
                      std::string(o.at("ca_certificate").as_string()));
    if (!status) return report(command, status.error());
    std::cout << boost::json::serialize(o.at("principal")) << "\n";
    if (enrolled)
        std::cerr << tr("profile for {} written to {} without a key: hand it to the unit, which puts it beside its own "
                        "client.key",
                        {options.id, options.out})
                  << "\n";
    else if (options.age_recipient.empty())
        std::cerr << tr("profile for {} written to {} (client.key and age.key are secret: hand them over on a trusted "
                        "channel)",
                        {options.id, options.out})
                  << "\n";
    else
        std::cerr << tr("profile for {} written to {} (client.key is secret: hand it over on a trusted channel)",
                        {options.id, options.out})
                  << "\n";
    return 0;
}

int run_principal_reissue(const ReissueOptions& options) {
    const std::string command = "principal reissue";
    if (!policies::is_slug_like(options.id))
        return report(command, make_error(ErrorKind::invalid_argument,
                                          tr("the id must be lowercase letters, digits and hyphens")));
    // Checked before asking: once the gateway answers, the old certificate is revoked already.
    for (const char* name : {"profile.toml", "client.crt", "ca.crt"})
        if (std::filesystem::exists(std::filesystem::path(options.out) / name))
            return report(command,
                          make_error(ErrorKind::conflict, tr("{} exists; give an empty --out folder",
                                                             {(std::filesystem::path(options.out) / name).string()})));
    auto csr = storage::read_small_file(options.csr, 8192);
    if (!csr) return report(command, csr.error());
    auto contents = certs::read_csr(*csr);
    if (!contents) return report(command, contents.error());
    if (contents->common_name != options.id)
        return report(command,
                      make_error(ErrorKind::invalid_argument, tr("{} is a request for '{}', not {}",
                                                                 {options.csr, contents->common_name, options.id})));
    Profile admin;
    auto client = connect(options.profile, &admin);
    if (!client) return report(command, client.error());
    const boost::json::object body{{"csr", *csr}};
    auto reply = (*client)->request("POST", "/v1/principals/" + options.id + "/reissue", boost::json::serialize(body));
    if (!reply) return report(command, reply.error());
    if (reply->status != 200) return report_reply(command, *reply);
    boost::system::error_code ec;
    auto answer = boost::json::parse(reply->body, ec);
    const auto* o = !ec && answer.is_object() ? &answer.as_object() : nullptr;
    auto text = [&](const char* name) {
        const auto* v = o != nullptr ? o->if_contains(name) : nullptr;
        return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    // The answer first, so that the certificate is not lost if the files cannot be written.
    std::cout << reply->body << (reply->body.ends_with('\n') ? "" : "\n") << std::flush;
    if (text("certificate").empty() || text("ca_certificate").empty())
        return report(command, make_error(ErrorKind::corruption, tr("the gateway's answer is not understood")));
    if (auto s = write_profile(options.out, admin.gateway_url, options.id, text("certificate"), std::string_view(),
                               text("ca_certificate"));
        !s)
        return report(command, s.error());
    std::cerr << tr("{} has a new certificate (serial {}); {} is revoked. The profile in {} holds no key: hand it to "
                    "the unit, which puts it beside the client.key it made",
                    {options.id, for_terminal(text("serial")), for_terminal(text("replaced_serial")), options.out})
              << "\n";
    return 0;
}

int run_recipient_show(const RecipientOptions& options) {
    Profile me;
    auto client = connect(options.profile, &me);
    if (!client) return report("recipient show", client.error());
    const auto who = options.principal.empty() ? me.principal : options.principal;
    if (!policies::is_slug_like(who))
        return report("recipient show", make_error(ErrorKind::invalid_argument, tr("not a principal id")));
    auto reply = (*client)->request("GET", "/v1/principals/" + who + "/recipient", "");
    if (!reply) return report("recipient show", reply.error());
    if (reply->status != 200) return report_reply("recipient show", *reply);
    std::cout << reply->body;
    return 0;
}

int run_recipient_set(const RecipientOptions& options) {
    Profile me;
    auto client = connect(options.profile, &me);
    if (!client) return report("recipient set", client.error());
    const auto& who = me.principal;
    if (!crypto::age::parse_recipient(options.recipient))
        return report("recipient set",
                      make_error(ErrorKind::invalid_argument, tr("not an age X25519 recipient (age1…)")));
    const boost::json::object body{{"recipient", options.recipient}};
    auto reply = (*client)->request("POST", "/v1/principals/" + who + "/recipient", boost::json::serialize(body));
    if (!reply) return report("recipient set", reply.error());
    if (reply->status != 200) return report_reply("recipient set", *reply);
    std::cout << reply->body;
    return 0;
}

// On the unit's own machine: its key and age identity are made here and never leave it; the
// certificate request and the age recipient go to the admin.
int run_enroll(const EnrollOptions& options) {
    const std::string command = "enroll";
    if (!policies::is_slug_like(options.id))
        return report(command, make_error(ErrorKind::invalid_argument,
                                          tr("the id must be lowercase letters, digits and hyphens")));
    const std::filesystem::path dir(options.out);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    if (std::filesystem::exists(dir / "client.key") || std::filesystem::exists(dir / "age.key"))
        return report(command, make_error(ErrorKind::conflict,
                                          tr("{} already holds a key; enrol into an empty directory", {dir.string()})));
    auto key = certs::generate_private_key();
    if (!key) return report(command, key.error());
    auto csr = certs::make_csr(*key, options.id);
    auto written = csr ? write_file(dir / "client.key", *key, 0600, Existing::refuse) : Status(csr.error());
    if (!written) return report(command, written.error());
    if (auto s = write_file(dir / "client.csr", *csr, 0644, Existing::refuse); !s) return report(command, s.error());
    auto recipient = create_age_identity_file(dir / "age.key");
    if (!recipient) return report(command, recipient.error());
    if (auto s = write_file(dir / "age.recipient", *recipient + "\n", 0644, Existing::refuse); !s)
        return report(command, s.error());
    std::cout
        << tr("Made in {}: client.key and age.key (secret, 0600: they stay here), client.csr and age.recipient "
              "(public: send both to the gateway's admin).",
              {dir.string()})
        << "\n"
        << tr("The admin runs:  serambi principal add {} --role ROLE --name NAME --csr client.csr --age-recipient "
              "{} --out DIR",
              {options.id, *recipient})
        << "\n"
        << tr("and sends back DIR's client.crt, ca.crt and profile.toml; put them in {}.", {dir.string()}) << "\n";
    return 0;
}

int run_revoke(const RevokeOptions& options) {
    const std::string command = options.remove              ? "principal remove"
                                : options.principal.empty() ? "cert revoke"
                                                            : "principal revoke";
    if (certs::parse_revocation_reason(options.reason).ok() == false)
        return report(command, certs::parse_revocation_reason(options.reason).error());
    boost::json::object body{{"reason", options.reason}};
    std::string target;
    if (!options.principal.empty()) {
        if (!policies::is_slug_like(options.principal))
            return report(command, make_error(ErrorKind::invalid_argument, tr("not a principal id")));
        target = "/v1/principals/" + options.principal + (options.remove ? "/remove" : "/revoke");
    } else {
        body["serial"] = options.serial;
        target = "/v1/pki/revoke";
    }
    return simple_request(command, options.profile, "POST", target, boost::json::serialize(body), 200);
}

int run_crl(const RevokeOptions& options) {
    const std::string command = "pki crl";
    auto client = connect(options.profile);
    if (!client) return report(command, client.error());
    auto reply = (*client)->request("GET", "/v1/pki/crl", "");
    if (!reply) return report(command, reply.error());
    if (reply->status != 200) return report_reply(command, *reply);
    if (options.output.empty() || options.output == "-") {
        std::cout << reply->body << std::flush;
        return 0;
    }
    if (auto s = write_file(options.output, reply->body, 0644); !s) return report(command, s.error());
    std::cerr << tr("CRL (DER) written to {}", {options.output}) << "\n";
    return 0;
}

int run_renew(const RenewOptions& options) {
    const std::string command = "renew";
    Profile me;
    auto client = connect(options.profile, &me);
    if (!client) return report(command, client.error());
    auto key =
        options.new_key ? certs::generate_private_key() : crypto::read_secret_file(me.dir / "client.key", 1 << 16);
    if (!key) return report(command, key.error());
    auto csr = certs::make_csr(*key, me.principal);
    if (!csr) return report(command, csr.error());
    const boost::json::object body{{"csr", *csr}};
    auto reply = (*client)->request("POST", "/v1/principals/" + me.principal + "/renew", boost::json::serialize(body));
    if (!reply || reply->status != 200) return reply ? report_reply(command, *reply) : report(command, reply.error());
    boost::system::error_code ec;
    auto answer = boost::json::parse(reply->body, ec);
    if (ec || !answer.is_object() || !answer.as_object().contains("certificate"))
        return report(command, make_error(ErrorKind::corruption, tr("the gateway's answer is not understood")));
    const auto& o = answer.as_object();
    // The old certificate is already revoked: the new one (and its key) must land now.
    Status written = options.new_key ? write_file(me.dir / "client.key", *key, 0600) : Status{};
    if (written) written = write_file(me.dir / "client.crt", std::string(o.at("certificate").as_string()), 0644);
    if (!written)
        return report(command, make_error(ErrorKind::io_error,
                                          tr("{}; the new certificate is in the gateway's answer below, put it in "
                                             "client.crt by hand",
                                             {written.error().message}) +
                                              "\n" + reply->body));
    const std::string serial = for_terminal(std::string(o.at("serial").as_string())),
                      until = for_terminal(std::string(o.at("not_after").as_string()));
    std::cout << (options.new_key ? tr("renewed {}: certificate {} valid until {}, with a new key; the previous "
                                       "certificate is revoked",
                                       {me.principal, serial, until})
                                  : tr("renewed {}: certificate {} valid until {}; the previous certificate is revoked",
                                       {me.principal, serial, until}))
              << "\n";
    return 0;
}

int run_principal_list(const std::string& profile, bool json) {
    return list_request("principal list", profile, "/v1/principals",
                        {{static_cast<int>(Msg::column_id), "id"},
                         {static_cast<int>(Msg::column_name), "name"},
                         {static_cast<int>(Msg::column_roles), "roles", Column::list},
                         {static_cast<int>(Msg::column_certificate_end), "certificate_not_after", Column::time},
                         {static_cast<int>(Msg::column_removed), "removed_at", Column::time}},
                        json);
}

int run_whoami(const std::string& profile, bool json) {
    return object_request("whoami", profile, "GET", "/v1/whoami", "", 200, json, [](const Fields& f) {
        return say(Msg::whoami_line, {f("id"), f("roles"), f("name"), f("certificate_serial")});
    });
}

int run_status(const std::string& profile_flag, bool json) {
    const std::string command = "status";
    auto profile = find_profile(profile_flag);
    if (!profile) return report(command, profile.error());
    // The certificate's end is read from the profile itself: it is known even when the gateway
    // cannot be reached, which is when a clerk most needs to know whether it ran out.
    auto pem = storage::read_small_file(profile->dir / "client.crt", 1 << 20);
    if (!pem) return report(command, pem.error());
    auto cert = certs::inspect(*pem);
    if (!cert) return report(command, cert.error());
    auto ends = parse_time(cert->not_after);
    if (!ends)
        return report(command, make_error(ErrorKind::invalid_argument,
                                          tr("the profile's certificate has an end date this CLI cannot read ({})",
                                             {for_terminal(cert->not_after)})));
    // Whole days left, rounded down: an hour past the end is -1, expired.
    const std::int64_t left = *ends - now_seconds();
    const std::int64_t days_left = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);

    // The JSON form is the same in every language, its "error" included.
    const bool machine = json || ::isatty(STDOUT_FILENO) != 1;
    if (machine) use_profile_language("en");
    std::string roles, failure;
    std::optional<std::size_t> open_requests;
    if (auto client = Client::connect(*profile); !client) {
        failure = for_terminal(client.error().message);
    } else if (auto me = (*client)->request("GET", "/v1/whoami", ""); !me || me->status != 200) {
        failure = for_terminal(me ? describe_failure(*me) : me.error().message);
    } else {
        boost::system::error_code ec;
        auto v = boost::json::parse(me->body, ec);
        const auto* list = !ec && v.is_object() ? v.as_object().if_contains("roles") : nullptr;
        if (list && list->is_array())
            for (const auto& r : list->as_array())
                if (r.is_string()) roles += (roles.empty() ? "" : ",") + for_terminal(r.as_string());
        // Release requests waiting for a decision: a custodian's to decide, a partner's own.
        if (auto waiting = (*client)->request("GET", "/v1/requests?state=open", "");
            waiting && waiting->status == 200) {
            auto list_value = boost::json::parse(waiting->body, ec);
            if (!ec && list_value.is_array()) open_requests = list_value.as_array().size();
        }
    }
    if (machine) {
        boost::json::object o{{"profile", profile->dir.string()},         {"principal", profile->principal},
                              {"gateway", profile->gateway_url},          {"connected", failure.empty()},
                              {"certificate_not_after", cert->not_after}, {"certificate_days_left", days_left}};
        if (!failure.empty()) o["error"] = failure;
        if (!roles.empty()) o["roles"] = roles;
        if (open_requests) o["open_requests"] = *open_requests;
        std::cout << boost::json::serialize(o) << "\n";
        return failure.empty() ? 0 : 1;
    }
    // Labels padded to the longest in the chosen language, so that the values line up.
    const std::string labels[] = {say(Msg::status_profile), say(Msg::status_gateway), say(Msg::status_certificate),
                                  say(Msg::status_requests)};
    std::size_t width = 0;
    for (const auto& l : labels) width = std::max(width, l.size());
    auto label = [&](const std::string& l) { return l + std::string(width + 2 - l.size(), ' '); };
    std::cout << label(labels[0]) << profile->principal << (roles.empty() ? "" : " (" + roles + ")") << " — "
              << profile->dir.string() << "\n"
              << label(labels[1]) << profile->gateway_url << " — "
              << (failure.empty() ? say(Msg::status_connected) : say(Msg::status_not_connected, {failure})) << "\n"
              << label(labels[2]);
    const std::string end_date = cert->not_after.substr(0, 10);
    if (left < 0)
        std::cout << say(Msg::status_expired, {end_date});
    else
        std::cout << say(Msg::status_valid_until, {end_date, std::to_string(days_left)})
                  << (days_left < 30 ? say(Msg::status_renew) : "");
    std::cout << "\n";
    if (open_requests)
        std::cout << label(labels[3]) << say(Msg::status_requests_open, {std::to_string(*open_requests)}) << "\n";
    return failure.empty() ? 0 : 1;
}

}  // namespace serambi::cli
