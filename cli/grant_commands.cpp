// The custodian's commands (MOU agreements, release approvals), the policy check an admin runs
// before deploying a policy, and the explanation of a decision.
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/messages.h"
#include "policies/policy.h"
#include "storage/store.h"

namespace serambi::cli {
namespace {

Error bad(std::string message) { return make_error(ErrorKind::invalid_argument, std::move(message)); }

// Query values are ids and slugs: anything else is refused here rather than escaped.
bool is_query_safe(const std::string& text) {
    return !text.empty() && text.size() <= 200 &&
           text.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-/") == std::string::npos;
}

Result<std::string> sha256_of_file(const std::string& path) {
    std::FILE* in = std::fopen(path.c_str(), "rb");
    if (in == nullptr) return make_error(ErrorKind::io_error, tr("cannot read {}", {path}));
    crypto::Sha256 digest;
    std::vector<std::uint8_t> buf(256 * 1024);
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), in)) > 0;) digest.update({buf.data(), n});
    const bool ok = std::ferror(in) == 0;
    std::fclose(in);
    if (!ok) return make_error(ErrorKind::io_error, tr("cannot read {}", {path}));
    return crypto::to_hex(digest.finish());
}

}  // namespace

int run_policy_check(const std::string& file) {
    auto policy = policies::Policy::load(file);
    if (!policy) return report("policy check", policy.error());
    std::cout << "OK " << file << ": a valid policy";
    for (auto level : {policies::Classification::biasa, policies::Classification::terbatas,
                       policies::Classification::rahasia, policies::Classification::sangat_rahasia}) {
        const auto n = (*policy)->approvals_needed(level);
        std::cout << "; " << policies::name_of(level) << ": "
                  << (n == 0 ? std::string("no approval") : std::to_string(n) + (n == 1 ? " approval" : " approvals"))
                  << ((*policy)->names_readers(level) ? ", named recipients" : "")
                  << ((*policy)->encrypts_to_reader(level) ? ", delivered age-encrypted to the reader" : "");
    }
    std::cout << "\n";
    return 0;
}

int run_policy_explain(const ExplainOptions& options) {
    const std::string command = "policy explain";
    if (options.package.empty() == options.dataset.empty())
        return report(command, bad(tr("give either --package or --dataset")));
    for (const auto* value :
         {&options.principal, &options.action, options.package.empty() ? &options.dataset : &options.package})
        if (!is_query_safe(*value)) return report(command, bad(tr("'{}' is not an id", {*value})));
    const std::string target =
        "/v1/policy/explain?principal=" + options.principal + "&action=" + options.action +
        (options.package.empty() ? "&dataset=" + options.dataset : "&package=" + options.package);
    return simple_request(command, options.profile, "GET", target, "", 200);
}

int run_agreement_add(const AgreementOptions& options) {
    const std::string command = "agreement add";
    boost::json::array datasets;
    for (const auto& d : options.datasets) {
        if (!policies::is_dataset_pattern(d))
            return report(command, bad(tr("--datasets: '{}' is not OWNER/NAME, OWNER/* or *", {d})));
        datasets.emplace_back(d);
    }
    boost::json::object body{{"partner", options.partner},
                             {"datasets", datasets},
                             {"max_classification", options.max_classification},
                             {"purpose", options.purpose},
                             {"valid_from", options.valid_from},
                             {"valid_until", options.valid_until}};
    if (!options.document.empty()) {
        auto digest = sha256_of_file(options.document);
        if (!digest) return report(command, digest.error());
        body["document_name"] = std::filesystem::path(options.document).filename().string();
        body["document_sha256"] = *digest;
    }
    return object_request(command, options.profile, "POST", "/v1/agreements", boost::json::serialize(body), 201,
                          options.json, [](const Fields& f) {
                              return say(Msg::agreement_added,
                                         {f("id"), f("partner"), f("datasets"), f("max_classification"),
                                          local_time(f("valid_from")), local_time(f("valid_until"))});
                          });
}

int run_agreement_list(const AgreementOptions& options) {
    return list_request("agreement list", options.profile, "/v1/agreements",
                        {{static_cast<int>(Msg::column_id), "id"},
                         {static_cast<int>(Msg::column_partner), "partner"},
                         {static_cast<int>(Msg::column_state), "state", Column::state},
                         {static_cast<int>(Msg::column_class), "max_classification"},
                         {static_cast<int>(Msg::column_valid_from), "valid_from", Column::time},
                         {static_cast<int>(Msg::column_valid_until), "valid_until", Column::time},
                         {static_cast<int>(Msg::column_datasets), "datasets", Column::list},
                         {static_cast<int>(Msg::column_purpose), "purpose"}},
                        options.json);
}

int run_agreement_show(const AgreementOptions& options) {
    if (!is_query_safe(options.id))
        return report("agreement show", bad(tr("'{}' is not an agreement id", {options.id})));
    return simple_request("agreement show", options.profile, "GET", "/v1/agreements/" + options.id, "", 200);
}

int run_agreement_revoke(const AgreementOptions& options) {
    if (!is_query_safe(options.id))
        return report("agreement revoke", bad(tr("'{}' is not an agreement id", {options.id})));
    const boost::json::object body{{"reason", options.reason}};
    return object_request("agreement revoke", options.profile, "POST", "/v1/agreements/" + options.id + "/revoke",
                          boost::json::serialize(body), 200, options.json,
                          [](const Fields& f) { return say(Msg::agreement_revoked, {f("id")}); });
}

int run_approve(const ApprovalOptions& options) {
    if (!storage::is_package_id(options.package))
        return report("approve", bad(tr("'{}' is not a package id", {options.package})));
    boost::json::object body{{"partner", options.partner}};
    if (!options.expires.empty()) body["expires_at"] = options.expires;
    if (options.max_downloads) body["max_downloads"] = *options.max_downloads;
    return object_request("approve", options.profile, "POST", "/v1/packages/" + options.package + "/approvals",
                          boost::json::serialize(body), 201, options.json, [](const Fields& f) {
                              const std::string most = f("max_downloads");
                              // The first of two approvals a package may need releases nothing yet: the line
                              // says what was approved, not that the partner has the data.
                              return say(Msg::approved,
                                         {f("id"), f("package_id"), f("partner"), local_time(f("expires_at"))}) +
                                     (most.empty() || most == "0" ? "" : say(Msg::approved_downloads, {most}));
                          });
}

int run_approvals_list(const ApprovalOptions& options) {
    std::string query;
    if (!options.package.empty()) {
        if (!storage::is_package_id(options.package))
            return report("approvals list", bad(tr("'{}' is not a package id", {options.package})));
        query += "package=" + options.package;
    }
    if (!options.partner.empty()) {
        if (!policies::is_slug_like(options.partner))
            return report("approvals list", bad(tr("'{}' is not a principal id", {options.partner})));
        query += (query.empty() ? "" : "&") + std::string("partner=") + options.partner;
    }
    return list_request("approvals list", options.profile, "/v1/approvals" + (query.empty() ? "" : "?" + query),
                        {{static_cast<int>(Msg::column_id), "id"},
                         {static_cast<int>(Msg::column_package), "package_id"},
                         {static_cast<int>(Msg::column_partner), "partner"},
                         {static_cast<int>(Msg::column_custodian), "custodian"},
                         {static_cast<int>(Msg::column_state), "state", Column::state},
                         {static_cast<int>(Msg::column_downloads), "downloads"},
                         {static_cast<int>(Msg::column_expires), "expires_at", Column::time}},
                        options.json);
}

int run_approval_withdraw(const ApprovalOptions& options) {
    if (!is_query_safe(options.id))
        return report("approvals withdraw", bad(tr("'{}' is not an approval id", {options.id})));
    return object_request("approvals withdraw", options.profile, "POST", "/v1/approvals/" + options.id + "/withdraw",
                          "", 200, options.json,
                          [](const Fields& f) { return say(Msg::approval_withdrawn, {f("id")}); });
}

int run_request(const RequestOptions& options) {
    if (!storage::is_package_id(options.package))
        return report("request", bad(tr("'{}' is not a package id", {options.package})));
    return object_request("request", options.profile, "POST", "/v1/packages/" + options.package + "/requests",
                          boost::json::serialize(boost::json::object{{"purpose", options.purpose}}), 201, options.json,
                          [](const Fields& f) {
                              return say(Msg::requested, {f("id"), f("package_id"), state_for_people(f("state"))});
                          });
}

int run_requests_list(const RequestOptions& options) {
    if (!options.state.empty() && options.state != "open" && options.state != "released" && options.state != "refused")
        return report("requests list", bad(tr("--state is open, released or refused")));
    return list_request("requests list", options.profile,
                        "/v1/requests" + (options.state.empty() ? std::string() : "?state=" + options.state),
                        {{static_cast<int>(Msg::column_id), "id"},
                         {static_cast<int>(Msg::column_package), "package_id"},
                         {static_cast<int>(Msg::column_partner), "partner"},
                         {static_cast<int>(Msg::column_state), "state", Column::state},
                         {static_cast<int>(Msg::column_time), "created_at", Column::time},
                         {static_cast<int>(Msg::column_reason), "reason"},
                         {static_cast<int>(Msg::column_purpose), "purpose"}},
                        options.json);
}

int run_request_refuse(const RequestOptions& options) {
    if (!is_query_safe(options.id)) return report("requests refuse", bad(tr("'{}' is not a request id", {options.id})));
    return object_request("requests refuse", options.profile, "POST", "/v1/requests/" + options.id + "/refuse",
                          boost::json::serialize(boost::json::object{{"reason", options.reason}}), 200, options.json,
                          [](const Fields& f) {
                              return say(Msg::request_refused, {f("id"), f("reason")});
                          });
}

}  // namespace serambi::cli
