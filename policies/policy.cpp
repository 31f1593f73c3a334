#include "policies/policy.h"

#include <algorithm>
#include <sstream>
#include <toml++/toml.h>

namespace serambi::policies {
namespace {

constexpr std::array<std::string_view, 4> kLevelNames = {"biasa", "terbatas", "rahasia",
                                                         "sangat-rahasia"};
constexpr std::array<std::string_view, 5> kRoleNames = {"producer", "custodian", "partner",
                                                        "auditor", "admin"};

std::string where(std::string_view source, const toml::node& node, std::string_view key) {
    std::ostringstream out;
    out << source << ":" << node.source().begin.line << ": " << key;
    return out.str();
}

Error bad(std::string message) { return make_error(ErrorKind::invalid_argument, std::move(message)); }

Result<std::vector<Role>> role_list(std::string_view source, const toml::node& node,
                                    std::string_view key) {
    const auto* array = node.as_array();
    if (array == nullptr) return bad(where(source, node, key) + ": expected a list of role names");
    std::vector<Role> roles;
    for (const auto& item : *array) {
        const auto* text = item.as_string();
        auto role = text ? parse_role(text->get()) : Result<Role>(bad(""));
        if (!role) return bad(where(source, item, key) + ": unknown role (expected producer, "
                                                         "custodian, partner, auditor or admin)");
        roles.push_back(*role);
    }
    return roles;
}

}  // namespace

Result<Classification> parse_classification(std::string_view name) {
    for (std::size_t i = 0; i < kLevelNames.size(); ++i)
        if (kLevelNames[i] == name) return static_cast<Classification>(i);
    return bad("unknown classification (expected biasa, terbatas, rahasia or sangat-rahasia)");
}

std::string_view name_of(Classification level) noexcept {
    return kLevelNames[static_cast<std::size_t>(level)];
}

Result<Role> parse_role(std::string_view name) {
    for (std::size_t i = 0; i < kRoleNames.size(); ++i)
        if (kRoleNames[i] == name) return static_cast<Role>(i);
    return bad("unknown role (expected producer, custodian, partner, auditor or admin)");
}

std::string_view name_of(Role role) noexcept { return kRoleNames[static_cast<std::size_t>(role)]; }

bool is_slug_like(std::string_view text) noexcept {
    if (text.empty() || text.size() > 63 || text.front() == '-' || text.back() == '-') return false;
    return std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

bool Subject::has(Role role) const noexcept {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Result<std::shared_ptr<const Policy>> Policy::parse(std::string_view text,
                                                    std::string_view source_name) {
    const std::string source(source_name);
    toml::table table;
    try {
        table = toml::parse(text, source_name);
    } catch (const toml::parse_error& e) {
        std::ostringstream out;
        out << source << ":" << e.source().begin.line << ": " << e.description();
        return bad(out.str());
    }
    auto policy = std::shared_ptr<Policy>(new Policy());
    bool seen_levels[4] = {};
    bool seen_version = false;
    for (const auto& [key, node] : table) {
        if (key == "version") {
            if (node.value<std::int64_t>() != 1)
                return bad(where(source, node, "version") + ": only version 1 is understood");
            seen_version = true;
        } else if (key == "read") {
            const auto* levels = node.as_table();
            if (!levels) return bad(where(source, node, "read") + ": expected a table");
            for (const auto& [level_key, rule_node] : *levels) {
                const std::string dotted = "read." + std::string(level_key.str());
                auto level = parse_classification(level_key.str());
                if (!level) return bad(where(source, rule_node, dotted) + ": unknown classification");
                const auto* list = rule_node.as_array();
                if (!list) return bad(where(source, rule_node, dotted) + ": expected a list");
                ReaderRule rule;
                for (const auto& item : *list) {
                    const auto* word = item.as_string();
                    if (word && word->get() == "any") { rule.any = true; continue; }
                    if (word && word->get() == "owner") { rule.owner = true; continue; }
                    auto role = word ? parse_role(word->get()) : Result<Role>(bad(""));
                    if (!role)
                        return bad(where(source, item, dotted) +
                                   ": unknown reader (expected any, owner or a role name)");
                    rule.roles.push_back(*role);
                }
                policy->readers_[static_cast<std::size_t>(*level)] = std::move(rule);
                seen_levels[static_cast<std::size_t>(*level)] = true;
            }
        } else if (key == "manage") {
            const auto* manage = node.as_table();
            if (!manage) return bad(where(source, node, "manage") + ": expected a table");
            for (const auto& [what, list] : *manage) {
                const std::string dotted = "manage." + std::string(what.str());
                auto roles = role_list(source, list, dotted);
                if (!roles) return roles.error();
                if (what == "datasets") policy->dataset_creators_ = std::move(roles).value();
                else if (what == "principals") policy->principal_managers_ = std::move(roles).value();
                else return bad(where(source, list, dotted) + ": unknown key");
            }
        } else if (key == "audit") {
            const auto* audit = node.as_table();
            if (!audit) return bad(where(source, node, "audit") + ": expected a table");
            for (const auto& [what, list] : *audit) {
                const std::string dotted = "audit." + std::string(what.str());
                if (what != "readers") return bad(where(source, list, dotted) + ": unknown key");
                auto roles = role_list(source, list, dotted);
                if (!roles) return roles.error();
                policy->audit_readers_ = std::move(roles).value();
            }
        } else {
            return bad(where(source, node, key.str()) + ": unknown key");
        }
    }
    if (!seen_version) return bad(source + ": version is missing");
    for (std::size_t i = 0; i < 4; ++i)
        if (!seen_levels[i])
            return bad(source + ": read." + std::string(kLevelNames[i]) + " is missing");
    return std::shared_ptr<const Policy>(std::move(policy));
}

Result<std::shared_ptr<const Policy>> Policy::load(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size > 1024 * 1024)
        return bad(path.string() + ": cannot read the policy file");
    std::string text(size, '\0');
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return bad(path.string() + ": cannot read the policy file");
    const auto got = std::fread(text.data(), 1, size, f);
    std::fclose(f);
    if (got != size) return bad(path.string() + ": cannot read the policy file");
    return parse(text, path.string());
}

bool Policy::may_read(const Subject& subject, const DatasetFacts& dataset) const {
    const auto& rule = readers_[static_cast<std::size_t>(dataset.classification)];
    if (rule.any) return true;
    if (rule.owner && subject.id == dataset.owner) return true;
    return std::any_of(rule.roles.begin(), rule.roles.end(),
                       [&](Role r) { return subject.has(r); });
}

Decision Policy::decide(const Subject& subject, Action action, const DatasetFacts* dataset) const {
    auto any_role = [&](const std::vector<Role>& allowed) {
        return std::any_of(allowed.begin(), allowed.end(), [&](Role r) { return subject.has(r); });
    };
    switch (action) {
        case Action::create_dataset:
            if (any_role(dataset_creators_)) return {true, true, "the caller's role may create datasets"};
            return {false, true, "only an admin or a custodian may create datasets"};
        case Action::manage_principals:
            if (any_role(principal_managers_)) return {true, true, "the caller's role may manage principals"};
            return {false, false, "only an admin may manage principals"};
        case Action::list:
            return {true, true, "any authenticated principal may list what it can read"};
        case Action::read_audit:
            if (any_role(audit_readers_)) return {true, true, "the caller's role may read the access log"};
            return {false, false, "only auditors may read the access log"};
        case Action::read:
        case Action::push:
            break;
    }
    if (dataset == nullptr) return {false, false, "no dataset given"};
    const std::string level(name_of(dataset->classification));
    const bool readable = may_read(subject, *dataset);
    if (action == Action::read) {
        if (readable) return {true, true, "the policy lets the caller read " + level + " data of this dataset"};
        return {false, false, "the policy does not let the caller read " + level + " data of this dataset"};
    }
    if (subject.id == dataset->owner) return {true, true, "the caller owns the dataset"};
    if (readable) return {false, true, "only the dataset's owner may push packages to it"};
    return {false, false, "the caller may neither read nor push to this dataset"};
}

}  // namespace serambi::policies
