#include "policies/policy.h"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

namespace serambi::policies {
namespace {

constexpr std::array<std::string_view, 4> kLevelNames = {"biasa", "terbatas", "rahasia", "sangat-rahasia"};
constexpr std::array<std::string_view, 5> kRoleNames = {"producer", "custodian", "partner", "auditor", "admin"};

std::string where(std::string_view source, const toml::node& node, std::string_view key) {
    std::ostringstream out;
    out << source << ":" << node.source().begin.line << ": " << key;
    return out.str();
}

Error bad(std::string message) { return make_error(ErrorKind::invalid_argument, std::move(message)); }

Result<std::vector<Role>> role_list(std::string_view source, const toml::node& node, std::string_view key) {
    const auto* array = node.as_array();
    if (array == nullptr) return bad(where(source, node, key) + ": expected a list of role names");
    std::vector<Role> roles;
    for (const auto& item : *array) {
        const auto* text = item.as_string();
        auto role = text ? parse_role(text->get()) : Result<Role>(bad(""));
        if (!role)
            return bad(where(source, item, key) +
                       ": unknown role (expected producer, "
                       "custodian, partner, auditor or admin)");
        roles.push_back(*role);
    }
    return roles;
}

// A table of `readers`, a list of roles: [audit] and [metrics]. [audit] also takes
// `package_metadata` (true or false), when `metadata` is given.
Status readers_table(std::string_view source, const toml::node& node, std::string_view table,
                     std::vector<Role>& readers, bool* metadata = nullptr) {
    const auto* entries = node.as_table();
    if (!entries) return bad(where(source, node, table) + ": expected a table");
    for (const auto& [what, list] : *entries) {
        const std::string dotted = std::string(table) + "." + std::string(what.str());
        if (metadata != nullptr && what == "package_metadata") {
            const auto* flag = list.as_boolean();
            if (flag == nullptr) return bad(where(source, list, dotted) + ": expected true or false");
            *metadata = flag->get();
            continue;
        }
        if (what != "readers") return bad(where(source, list, dotted) + ": unknown key");
        auto roles = role_list(source, list, dotted);
        if (!roles) return roles.error();
        readers = std::move(roles).value();
    }
    return {};
}

}  // namespace

Result<Classification> parse_classification(std::string_view name) {
    for (std::size_t i = 0; i < kLevelNames.size(); ++i)
        if (kLevelNames[i] == name) return static_cast<Classification>(i);
    return bad("unknown classification (expected biasa, terbatas, rahasia or sangat-rahasia)");
}

std::string_view name_of(Classification level) noexcept { return kLevelNames[static_cast<std::size_t>(level)]; }

Result<Role> parse_role(std::string_view name) {
    for (std::size_t i = 0; i < kRoleNames.size(); ++i)
        if (kRoleNames[i] == name) return static_cast<Role>(i);
    return bad("unknown role (expected producer, custodian, partner, auditor or admin)");
}

std::string_view name_of(Role role) noexcept { return kRoleNames[static_cast<std::size_t>(role)]; }

bool is_slug_like(std::string_view text) noexcept {
    if (text.empty() || text.size() > 63 || text.front() == '-' || text.back() == '-') return false;
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool Subject::has(Role role) const noexcept { return std::find(roles.begin(), roles.end(), role) != roles.end(); }

// Reads one level's rule, a `[levels.NAME]` table.
struct PolicyParser {
    const std::string& source;

    Status readers(const toml::node& list_node, const std::string& dotted, Policy::LevelRule& rule) const {
        const auto* list = list_node.as_array();
        if (!list) return bad(where(source, list_node, dotted) + ": expected a list");
        for (const auto& item : *list) {
            const auto* word = item.as_string();
            const std::string w = word ? word->get() : std::string();
            if (w == "any")
                rule.any = true;
            else if (w == "owner")
                rule.owner = true;
            else if (w == "agreement")
                rule.agreement = true;
            else if (w == "named")
                rule.named = true;
            else if (auto role = parse_role(w); role)
                rule.roles.push_back(*role);
            else
                return bad(where(source, item, dotted) +
                           ": unknown reader (expected any, owner, agreement, named or a role name)");
        }
        return {};
    }

    Status level(const toml::node& node, const std::string& dotted, Policy::LevelRule& rule) const {
        const auto* table = node.as_table();
        if (!table) return bad(where(source, node, dotted) + ": expected a table");
        bool seen_readers = false;
        // Not a structured binding: clang before 16 cannot capture one in the lambda below.
        for (const auto& entry : *table) {
            const auto& key = entry.first;
            const toml::node& value = entry.second;
            const std::string name = dotted + "." + std::string(key.str());
            auto count = [&](std::int64_t lo, std::int64_t hi, auto& out) -> Status {
                // Exact: toml++ would convert a float such as 1e300 to an integer with undefined behaviour.
                const auto v = value.value_exact<std::int64_t>();
                if (!value.is_integer() || !v || *v < lo || *v > hi)
                    return bad(where(source, value, name) + ": expected a whole number from " + std::to_string(lo) +
                               " to " + std::to_string(hi));
                out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
                return {};
            };
            Status s;
            if (key == "readers") {
                s = readers(value, name, rule);
                seen_readers = true;
            } else if (key == "approvals")
                s = count(0, 2, rule.approvals);
            else if (key == "approval_days")
                s = count(1, 366, rule.approval_days);
            else if (key == "max_downloads")
                s = count(0, 1000000, rule.max_downloads);
            else if (key == "list_before_release") {
                const auto v = value.value<bool>();
                if (!value.is_boolean() || !v)
                    s = bad(where(source, value, name) + ": expected true or false");
                else
                    rule.list_before_release = *v;
            } else if (key == "obligations") {
                const auto* list = value.as_array();
                if (!list) return bad(where(source, value, name) + ": expected a list");
                for (const auto& item : *list) {
                    const auto* word = item.as_string();
                    if (word && word->get() == "encrypt-to-recipient")
                        rule.encrypt_to_recipient = true;
                    else
                        return bad(where(source, item, name) + ": unknown obligation (expected encrypt-to-recipient)");
                }
            } else
                return bad(where(source, value, name) + ": unknown key");
            if (!s) return s;
        }
        if (!seen_readers) return bad(where(source, node, dotted) + ": readers is missing");
        if (rule.approvals > 0 && !rule.agreement && !rule.named)
            return bad(where(source, node, dotted) +
                       ": approvals apply to readers by agreement or named; neither is listed");
        return {};
    }
};

Result<Action> parse_action(std::string_view name) {
    if (name == "pull" || name == "read") return Action::read;
    if (name == "push") return Action::push;
    if (name == "list") return Action::list;
    return bad("unknown action (expected pull, push or list)");
}

bool is_dataset_pattern(std::string_view pattern) noexcept {
    if (pattern == "*") return true;
    const auto slash = pattern.find('/');
    if (slash == std::string_view::npos) return false;
    const auto owner = pattern.substr(0, slash), name = pattern.substr(slash + 1);
    return is_slug_like(owner) && (name == "*" || is_slug_like(name));
}

bool pattern_matches(std::string_view pattern, std::string_view dataset) noexcept {
    if (pattern == "*") return true;
    if (pattern.ends_with("/*")) {
        const auto prefix = pattern.substr(0, pattern.size() - 1);  // "owner/"
        return dataset.size() > prefix.size() && dataset.starts_with(prefix);
    }
    return pattern == dataset;
}

Result<std::shared_ptr<const Policy>> Policy::parse(std::string_view text, std::string_view source_name) {
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
    const PolicyParser parser{source};
    bool seen_levels[4] = {};
    std::int64_t version = 0;
    if (const auto* v = table.get("version")) {
        version = v->value_exact<std::int64_t>().value_or(0);  // a float is no version (see count above)
        // Version 1 was the interim rule of the first release: it has no agreements, approvals
        // or named recipients, so serving it would not be the persandian rule. Refused, loudly.
        if (version == 1)
            return bad(where(source, *v, "version") +
                       ": version 1 (the interim rule, with no agreements, approvals or named recipients) is no longer "
                       "served; start from policies/default.toml (version 2) and carry over your [manage] lists");
        if (version != 2) return bad(where(source, *v, "version") + ": only version 2 is understood");
    } else {
        return bad(source + ": version is missing");
    }
    const char* levels_key = "levels";
    for (const auto& [key, node] : table) {
        if (key == "version") continue;
        if (key == levels_key) {
            const auto* levels = node.as_table();
            if (!levels) return bad(where(source, node, key.str()) + ": expected a table");
            for (const auto& [level_key, rule_node] : *levels) {
                const std::string dotted = std::string(levels_key) + "." + std::string(level_key.str());
                auto level = parse_classification(level_key.str());
                if (!level) return bad(where(source, rule_node, dotted) + ": unknown classification");
                LevelRule rule;
                // Never shown before release at the top level unless the policy says so.
                rule.list_before_release = *level != Classification::sangat_rahasia;
                auto s = parser.level(rule_node, dotted, rule);
                if (!s) return s.error();
                policy->levels_[static_cast<std::size_t>(*level)] = std::move(rule);
                seen_levels[static_cast<std::size_t>(*level)] = true;
            }
        } else if (key == "manage") {
            const auto* manage = node.as_table();
            if (!manage) return bad(where(source, node, "manage") + ": expected a table");
            for (const auto& [what, list] : *manage) {
                const std::string dotted = "manage." + std::string(what.str());
                auto roles = role_list(source, list, dotted);
                if (!roles) return roles.error();
                if (what == "datasets")
                    policy->dataset_creators_ = std::move(roles).value();
                else if (what == "principals")
                    policy->principal_managers_ = std::move(roles).value();
                else if (what == "agreements")
                    policy->agreement_managers_ = std::move(roles).value();
                else if (what == "approvals")
                    policy->approvers_ = std::move(roles).value();
                else
                    return bad(where(source, list, dotted) + ": unknown key");
            }
        } else if (key == "audit") {
            if (auto s = readers_table(source, node, "audit", policy->audit_readers_, &policy->audit_package_metadata_);
                !s)
                return s.error();
        } else if (key == "metrics") {
            if (auto s = readers_table(source, node, "metrics", policy->metrics_readers_); !s) return s.error();
        } else {
            return bad(where(source, node, key.str()) + ": unknown key");
        }
    }
    for (std::size_t i = 0; i < 4; ++i)
        if (!seen_levels[i]) return bad(source + ": " + levels_key + "." + std::string(kLevelNames[i]) + " is missing");
    return std::shared_ptr<const Policy>(std::move(policy));
}

Result<std::shared_ptr<const Policy>> Policy::load(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size > 1024 * 1024) return bad(path.string() + ": cannot read the policy file");
    std::string text(size, '\0');
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return bad(path.string() + ": cannot read the policy file");
    const auto got = std::fread(text.data(), 1, size, f);
    std::fclose(f);
    if (got != size) return bad(path.string() + ": cannot read the policy file");
    return parse(text, path.string());
}

std::int64_t Policy::approval_seconds(Classification level) const noexcept {
    return std::int64_t{levels_[static_cast<std::size_t>(level)].approval_days} * 86400;
}

unsigned Policy::approvals_needed(Classification level) const noexcept {
    return levels_[static_cast<std::size_t>(level)].approvals;
}

bool Policy::names_readers(Classification level) const noexcept {
    return levels_[static_cast<std::size_t>(level)].named;
}

std::uint32_t Policy::max_downloads(Classification level) const noexcept {
    return levels_[static_cast<std::size_t>(level)].max_downloads;
}

bool Policy::encrypts_to_reader(Classification level) const noexcept {
    return levels_[static_cast<std::size_t>(level)].encrypt_to_recipient;
}

bool Policy::lists_before_release(Classification level) const noexcept {
    return levels_[static_cast<std::size_t>(level)].list_before_release;
}

namespace {

std::string plural(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Why an agreement does not cover this read (empty when it does), and how much that reason says
// about this read: an agreement for this dataset and level that lapsed (3) says more than one
// in force whose ceiling is too low (2), than one for this dataset both lapsed and too low (1),
// than one for another dataset (0).
struct Gap {
    int rank = -1;
    std::string why;
};

Gap agreement_gap(const Agreement& a, const DatasetFacts& dataset, std::int64_t now) {
    const bool covers = std::any_of(a.patterns.begin(), a.patterns.end(),
                                    [&](const std::string& p) { return pattern_matches(p, dataset.dataset); });
    const bool reaches = dataset.classification <= a.max_classification;
    std::string lapse;
    if (a.revoked_at != 0)
        lapse = "agreement " + a.id + " was revoked";
    else if (now < a.valid_from)
        lapse = "agreement " + a.id + " is not in force yet";
    else if (now >= a.valid_until)
        lapse = "agreement " + a.id + " has expired";
    if (!covers) return {0, "agreement " + a.id + " does not cover dataset " + dataset.dataset};
    if (!reaches) {
        std::string ceiling = "agreement " + a.id + " covers data up to " + std::string(name_of(a.max_classification)) +
                              ", not " + std::string(name_of(dataset.classification));
        return lapse.empty() ? Gap{2, std::move(ceiling)} : Gap{1, lapse + "; " + ceiling};
    }
    if (!lapse.empty()) return {3, std::move(lapse)};
    return {};
}

}  // namespace

Decision Policy::by_approvals(const Subject& subject, const DatasetFacts& dataset, const LevelRule& rule,
                              const Context& context, std::string granted_by) const {
    const std::string level(name_of(dataset.classification));
    Decision d;
    if (rule.encrypt_to_recipient) d.obligations.push_back("encrypt-to-recipient");
    if (rule.approvals == 0 || dataset.package.empty()) {
        d.allow = true;
        d.reveal = true;
        d.reason = granted_by + (rule.approvals > 0 ? "; each package needs approvals" : "");
        return d;
    }
    std::vector<const Approval*> standing;
    std::size_t expired = 0, exhausted = 0, withdrawn = 0, by_producer = 0;
    for (const auto& a : context.approvals) {
        if (a.package != dataset.package || a.partner != subject.id) continue;
        if (a.withdrawn_at != 0)
            ++withdrawn;
        else if (context.now >= a.expires_at)
            ++expired;
        else if (a.max_downloads != 0 && a.downloads >= a.max_downloads)
            ++exhausted;
        else if (a.custodian == subject.id)
            continue;  // never counts: nobody approves their own release
        // Nor does the producer's, however it was stored (approvals made before the gateway refused
        // them, or written around it): the rule asks for judgement other than the producer's own.
        else if (!dataset.producer.empty() && a.custodian == dataset.producer)
            ++by_producer;
        else if (std::none_of(standing.begin(), standing.end(),
                              [&](const Approval* s) { return s->custodian == a.custodian; }))
            standing.push_back(&a);
    }
    if (standing.size() >= rule.approvals) {
        d.allow = true;
        d.reveal = true;
        standing.resize(rule.approvals);
        bool capped = false;
        for (const auto* a : standing) {
            d.approvals_used.push_back(a->id);
            capped = capped || a->max_downloads != 0;
        }
        if (capped) d.obligations.push_back("max-downloads");
        d.reason =
            granted_by + ", released by " +
            (rule.approvals == 1 ? "approval " + standing[0]->id + " of " + standing[0]->custodian
                                 : "approvals of " + plural(standing.size(), "custodian", "different custodians"));
        return d;
    }
    d.release_needed = true;
    d.reason = granted_by + ", but " + level + " data needs " +
               (rule.approvals == 1 ? std::string("a custodian's approval")
                                    : plural(rule.approvals, "approval", "approvals") + " from different custodians") +
               " for this package and this partner; " + std::to_string(standing.size()) + " standing";
    if (expired) d.reason += ", " + plural(expired, "expired", "expired");
    if (exhausted) d.reason += ", " + plural(exhausted, "with its downloads used up", "with their downloads used up");
    if (withdrawn) d.reason += ", " + plural(withdrawn, "withdrawn", "withdrawn");
    if (by_producer)
        d.reason += ", " + plural(by_producer, "by the package's producer, which does not count",
                                  "by the package's producer, which do not count");
    return d;
}

Decision Policy::decide_read(const Subject& subject, const DatasetFacts& dataset, const Context& context) const {
    const auto& rule = levels_[static_cast<std::size_t>(dataset.classification)];
    const std::string level(name_of(dataset.classification));
    auto allow = [&](std::string reason) {
        Decision d{true, true, std::move(reason), {}, {}, {}};
        if (rule.encrypt_to_recipient) d.obligations.push_back("encrypt-to-recipient");
        return d;
    };
    if (rule.owner && subject.id == dataset.owner) return allow("the caller owns the dataset");
    for (const Role r : rule.roles)
        if (subject.has(r)) return allow("the policy lets a " + std::string(name_of(r)) + " read " + level + " data");
    if (rule.any) return allow("any authenticated principal may read " + level + " data");
    if (rule.named &&
        std::find(dataset.recipients.begin(), dataset.recipients.end(), subject.id) != dataset.recipients.end())
        return by_approvals(subject, dataset, rule, context, "the producer named the caller as a recipient");
    if (rule.agreement && subject.has(Role::partner)) {
        std::string gap, awaiting;
        int rank = -1;
        for (const auto& a : context.agreements) {
            if (a.partner != subject.id) continue;
            auto found = agreement_gap(a, dataset, context.now);
            if (found.why.empty()) {
                auto d = by_approvals(subject, dataset, rule, context,
                                      "agreement " + a.id + " covers " + dataset.dataset + " up to " +
                                          std::string(name_of(a.max_classification)));
                d.agreement_used = a.id;
                if (d.allow) return d;
                gap = std::move(d.reason);
                rank = 4;
                awaiting = a.id;
                continue;
            }
            if (found.rank > rank) {
                rank = found.rank;
                gap = std::move(found.why);
            } else if (found.rank == rank && rank > 0) {
                gap += "; " + found.why;  // every agreement that nearly applies is named
            }
        }
        if (rank < 0)
            return {false, false, "no agreement lets the caller read " + level + " data of this dataset", {}, {}, {}};
        Decision denied{false, false, gap, {}, {}, {}};
        if (rank == 4) {
            denied.release_needed = true;
            denied.agreement_used = awaiting;
        }
        return denied;
    }
    return {false, false, "the policy does not let the caller read " + level + " data of this dataset", {}, {}, {}};
}

Decision Policy::decide(const Subject& subject, Action action, const DatasetFacts* dataset,
                        const Context& context) const {
    auto any_role = [&](const std::vector<Role>& allowed) {
        return std::any_of(allowed.begin(), allowed.end(), [&](Role r) { return subject.has(r); });
    };
    auto answer = [](bool allow, bool reveal, std::string reason) {
        return Decision{allow, reveal, std::move(reason), {}, {}, {}};
    };
    switch (action) {
        case Action::create_dataset:
            if (any_role(dataset_creators_)) return answer(true, true, "the caller's role may create datasets");
            return answer(false, true, "only an admin or a custodian may create datasets");
        case Action::manage_principals:
            if (any_role(principal_managers_)) return answer(true, true, "the caller's role may manage principals");
            return answer(false, false, "only an admin may manage principals");
        case Action::manage_agreements:
            if (any_role(agreement_managers_)) return answer(true, true, "the caller's role may manage MOU agreements");
            return answer(false, false, "only a custodian may manage MOU agreements");
        case Action::list:
            return answer(true, true, "any authenticated principal may list what it can read");
        case Action::read_metrics:
            if (any_role(metrics_readers_))
                return answer(true, true, "the caller's role may read the gateway's metrics");
            return answer(false, false, "only an admin or an auditor may read the gateway's metrics");
        case Action::read_audit:
            if (any_role(audit_readers_)) return answer(true, true, "the caller's role may read the access log");
            return answer(false, false, "only auditors may read the access log");
        case Action::read_package_metadata:
            if (!any_role(audit_readers_)) return answer(false, false, "only auditors may read packages' metadata");
            if (!audit_package_metadata_)
                return answer(false, false, "the policy does not show packages' metadata to auditors");
            return answer(true, true, "auditors read a package's metadata, never its content, to read the access log");
        case Action::read_proof:
            if (any_role(audit_readers_)) return answer(true, true, "the caller's role may read the access log");
            if (!context.entry_principal.empty() && context.entry_principal == subject.id)
                return answer(true, true, "the entry records the caller's own request");
            return answer(false, false, "a principal may have the proofs of its own requests only");
        case Action::approve:
        case Action::read:
        case Action::push:
            break;
    }
    if (action == Action::approve && dataset == nullptr) {
        if (any_role(approvers_)) return answer(true, true, "the caller's role may approve releases");
        return answer(false, false, "only a custodian may approve releases");
    }
    if (dataset == nullptr) return answer(false, false, "no dataset given");
    if (action == Action::approve) {
        if (!any_role(approvers_)) return answer(false, false, "only a custodian may approve releases");
        if (approvals_needed(dataset->classification) == 0)
            return answer(false, true, std::string(name_of(dataset->classification)) + " data needs no approval");
        // The two-person rule is about people besides the producer: a producer that is also a
        // custodian would otherwise release its own rahasia push alone, and be one of the two
        // for sangat-rahasia.
        if (!dataset->producer.empty() && subject.id == dataset->producer)
            return answer(
                false, true,
                "the package's producer (" + subject.id + ") cannot approve its release; another custodian must");
        return answer(true, true, "the caller's role may approve releases");
    }
    if (action == Action::read) return decide_read(subject, *dataset, context);
    if (subject.id == dataset->owner) return answer(true, true, "the caller owns the dataset");
    if (decide_read(subject, *dataset, context).allow)
        return answer(false, true, "only the dataset's owner may push packages to it");
    return answer(false, false, "the caller may neither read nor push to this dataset");
}

bool is_safe_filename(std::string_view name) noexcept {
    if (name.empty() || name.size() > 255 || name.front() == '.' || name.front() == ' ' || name.back() == ' ')
        return false;
    // Printable, no separators or quoting characters, valid UTF-8.
    for (std::size_t i = 0; i < name.size();) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '"' || c == ':' || c == '*' || c == '?' ||
                c == '<' || c == '>' || c == '|')
                return false;
            ++i;
            continue;
        }
        std::size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        if (len == 0 || i + len > name.size()) return false;
        std::uint32_t cp = c & (0xff >> (len + 1));
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(name[i + k]);
            if ((cc >> 6) != 0x2) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        if (cp >= 0x80 && cp < 0xa0) return false;  // C1 controls
        if (cp == 0x202e || cp == 0x202d || cp == 0x2066 || cp == 0x2067 || cp == 0x2068 ||
            cp == 0x2069)  // bidirectional overrides disguise extensions
            return false;
        i += len;
    }
    return true;
}

}  // namespace serambi::policies
