// Who may do what to which dataset. The policy is parsed and validated once from a TOML file into an
// immutable object that requests share; every access decision in the gateway goes through decide().
//
// This is the interim rule of the core exchange (owner pushes; anyone authenticated reads `biasa`;
// owner, custodians and admins read higher levels); the persandian classification engine with MOU
// agreements and approvals replaces the decision inside, not the interface.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"

namespace serambi::policies {

// Ordered: biasa < terbatas < rahasia < sangat-rahasia.
enum class Classification { biasa = 0, terbatas = 1, rahasia = 2, sangat_rahasia = 3 };
Result<Classification> parse_classification(std::string_view name);
std::string_view name_of(Classification level) noexcept;

enum class Role { producer, custodian, partner, auditor, admin };
Result<Role> parse_role(std::string_view name);
std::string_view name_of(Role role) noexcept;

enum class Action { read, push, list, create_dataset, manage_principals, read_audit };

struct Subject {
    std::string id;
    std::vector<Role> roles;
    bool has(Role role) const noexcept;
};

struct DatasetFacts {
    std::string owner;
    Classification classification;
};

struct Decision {
    bool allow = false;
    // When denied: whether the caller may learn the resource exists. False means answer 404.
    bool reveal = false;
    std::string reason;  // for a person: the auditor, the operator, the caller
};

// An identifier for principals and dataset parts: 1 to 63 of [a-z0-9-], not starting or ending
// with a hyphen.
bool is_slug_like(std::string_view text) noexcept;

// The policy shipped with Serambi (policies/default.toml), which `serambi init` installs.
std::string_view default_policy_text() noexcept;

class Policy {
public:
    // Parses and validates a policy; errors name the source, line and key.
    static Result<std::shared_ptr<const Policy>> parse(std::string_view text,
                                                       std::string_view source_name);
    static Result<std::shared_ptr<const Policy>> load(const std::filesystem::path& path);

    // `dataset` is null for actions that are not about one dataset.
    Decision decide(const Subject& subject, Action action, const DatasetFacts* dataset) const;

private:
    // A reader rule: a role, the dataset owner, or any authenticated principal.
    struct ReaderRule {
        bool any = false;
        bool owner = false;
        std::vector<Role> roles;
    };
    std::array<ReaderRule, 4> readers_;
    std::vector<Role> dataset_creators_;
    std::vector<Role> principal_managers_;
    std::vector<Role> audit_readers_{Role::auditor};

    bool may_read(const Subject& subject, const DatasetFacts& dataset) const;
};

}  // namespace serambi::policies
