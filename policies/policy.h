// Who may do what to which dataset or package: the persandian classification policy. The policy
// is parsed and validated once from a TOML file into an immutable object that requests share;
// every access decision in the gateway goes through decide(), which sees the caller, the action,
// the resource and the context (time, the caller's MOU agreements, the approvals for the package)
// and answers allow or deny, a reason a person can read, and the obligations that come with it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace serambi::policies {

// Ordered: biasa < terbatas < rahasia < sangat-rahasia.
enum class Classification { biasa = 0, terbatas = 1, rahasia = 2, sangat_rahasia = 3 };
Result<Classification> parse_classification(std::string_view name);
std::string_view name_of(Classification level) noexcept;

enum class Role { producer, custodian, partner, auditor, admin };
Result<Role> parse_role(std::string_view name);
std::string_view name_of(Role role) noexcept;

enum class Action {
    read,
    push,
    list,
    create_dataset,
    manage_principals,
    read_audit,
    manage_agreements,
    approve,
    read_metrics,
    // The inclusion proof of one access-log entry: auditors may have any; anyone else only that
    // of an entry recording its own request (Context::entry_principal).
    read_proof,
    // What a package is (dataset, producer, filename, size, digest, classification, time), never
    // its content: what an auditor needs to read the access log. [audit] package_metadata.
    read_package_metadata
};
Result<Action> parse_action(std::string_view name);  // pull, push, list, …

struct Subject {
    std::string id;
    std::vector<Role> roles;
    bool has(Role role) const noexcept;
};

// The dataset, or one package of it, that an action concerns.
struct DatasetFacts {
    std::string owner;
    Classification classification;
    std::string dataset;                  // its id, which agreement patterns are matched against
    std::string package;                  // set when the resource is one package
    std::vector<std::string> recipients;  // sangat-rahasia: the readers the producer named
    std::string producer;                 // the package's producer; its approvals never count
};

// An MOU between the province and a partner: which datasets, up to which level, for how long.
struct Agreement {
    std::string id;
    std::string partner;
    std::vector<std::string> patterns;  // "dinkes-malut/*", "bps-malut/penduduk", "*"
    Classification max_classification = Classification::biasa;
    std::int64_t valid_from = 0;   // Unix seconds, inclusive
    std::int64_t valid_until = 0;  // Unix seconds, exclusive
    std::int64_t revoked_at = 0;   // 0 while in force
};

// A custodian's release of one package to one partner.
struct Approval {
    std::string id;
    std::string package;
    std::string partner;
    std::string custodian;
    std::int64_t expires_at = 0;      // Unix seconds, exclusive
    std::uint32_t max_downloads = 0;  // 0: no cap
    std::uint32_t downloads = 0;
    std::int64_t withdrawn_at = 0;  // 0 while it stands
};

// What a decision may depend on besides the caller and the resource.
struct Context {
    std::int64_t now = 0;                   // Unix seconds
    std::span<const Agreement> agreements;  // the caller's (others are ignored)
    std::span<const Approval> approvals;    // for this package and the caller (others are ignored)
    std::string_view entry_principal = {};  // read_proof: whose request the entry records
};

// An agreement's dataset pattern: a dataset id, "owner/*", or "*".
bool is_dataset_pattern(std::string_view pattern) noexcept;
bool pattern_matches(std::string_view pattern, std::string_view dataset) noexcept;

struct Decision {
    bool allow = false;
    // When denied: whether the caller may learn the resource exists. False means answer 404.
    bool reveal = false;
    std::string reason;  // for a person: the auditor, the operator, the caller
    // What must happen for the access to go ahead, e.g. "max-downloads".
    std::vector<std::string> obligations;
    // The approvals this read relies on: each download spends one of each capped one.
    std::vector<std::string> approvals_used;
    std::string agreement_used;
    // Denied only for want of custodians' approvals: the reader may ask for a release.
    bool release_needed = false;
};

// An identifier for principals and dataset parts: 1 to 63 of [a-z0-9-], not starting or ending
// with a hyphen.
bool is_slug_like(std::string_view text) noexcept;
// A file name someone else chose, safe to store and to create: 1 to 255 bytes of valid UTF-8, not
// starting with a dot or a space nor ending with a space, without control characters (C0 and
// C1), path separators, quoting characters or the bidirectional overrides that disguise an
// extension.
bool is_safe_filename(std::string_view name) noexcept;

// The policy shipped with Serambi (policies/default.toml), which `serambi init` installs.
std::string_view default_policy_text() noexcept;

class Policy {
  public:
    // Parses and validates a policy; errors name the source, line and key.
    static Result<std::shared_ptr<const Policy>> parse(std::string_view text, std::string_view source_name);
    static Result<std::shared_ptr<const Policy>> load(const std::filesystem::path& path);

    // The one decision function. `dataset` is null for actions that are not about one dataset
    // (for `approve`, null asks whether the caller may approve at all; with a package, its
    // producer may not approve it).
    Decision decide(const Subject& subject, Action action, const DatasetFacts* dataset,
                    const Context& context = {}) const;

    // How long an approval stands when the custodian does not say (policy: approval_days).
    std::int64_t approval_seconds(Classification level) const noexcept;
    unsigned approvals_needed(Classification level) const noexcept;
    // The download cap of the level's approvals (0: none); a custodian may set a lower one.
    std::uint32_t max_downloads(Classification level) const noexcept;
    // Whether readers of the level are named by the producer at push ("named" readers).
    bool names_readers(Classification level) const noexcept;
    // Whether the level's payloads go to readers age-encrypted to their recipient.
    bool encrypts_to_reader(Classification level) const noexcept;
    // Whether a partner whose read waits only for approvals sees the package's name, date and size
    // before its release (and so can ask for it). Readers the producer named always do.
    bool lists_before_release(Classification level) const noexcept;

  private:
    // Who reads one level, and on what terms.
    struct LevelRule {
        bool any = false;        // any authenticated principal
        bool owner = false;      // the dataset's owner
        bool agreement = false;  // partners whose agreement covers the dataset and the level
        bool named = false;      // the recipients the producer named at push
        std::vector<Role> roles;
        unsigned approvals = 0;  // distinct custodians' approvals partners need
        unsigned approval_days = 7;
        std::uint32_t max_downloads = 0;  // default cap of an approval; 0: none
        bool encrypt_to_recipient = false;
        bool list_before_release = true;  // the parser's default is false for sangat-rahasia
    };
    std::array<LevelRule, 4> levels_;
    std::vector<Role> dataset_creators_;
    std::vector<Role> principal_managers_;
    std::vector<Role> agreement_managers_{Role::custodian};
    std::vector<Role> approvers_{Role::custodian};
    std::vector<Role> audit_readers_{Role::auditor};
    bool audit_package_metadata_ = true;
    std::vector<Role> metrics_readers_{Role::admin, Role::auditor};

    Decision decide_read(const Subject& subject, const DatasetFacts& dataset, const Context& context) const;
    Decision by_approvals(const Subject& subject, const DatasetFacts& dataset, const LevelRule& rule,
                          const Context& context, std::string granted_by) const;
    friend struct PolicyParser;
};

}  // namespace serambi::policies
