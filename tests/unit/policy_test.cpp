#include "policies/policy.h"

#include <catch2/catch.hpp>

using namespace serambi;
using namespace serambi::policies;

namespace {
std::shared_ptr<const Policy> default_policy() {
    auto policy = Policy::parse(default_policy_text(), "default.toml");
    REQUIRE(policy.ok());
    return *policy;
}
Subject subject(std::string id, std::vector<Role> roles) { return Subject{std::move(id), std::move(roles)}; }
}  // namespace

TEST_CASE("classification levels are ordered and parsed by their Indonesian names") {
    CHECK(parse_classification("biasa").value() < parse_classification("terbatas").value());
    CHECK(parse_classification("terbatas").value() < parse_classification("rahasia").value());
    CHECK(parse_classification("rahasia").value() < parse_classification("sangat-rahasia").value());
    CHECK(name_of(Classification::sangat_rahasia) == "sangat-rahasia");
    CHECK_FALSE(parse_classification("secret").ok());
    CHECK_FALSE(parse_classification("RAHASIA").ok());
}

TEST_CASE("the owner pushes and reads every level, nobody else pushes") {
    const auto policy = default_policy();
    const auto owner = subject("dinkes-malut", {Role::producer});
    for (auto level :
         {Classification::biasa, Classification::terbatas, Classification::rahasia, Classification::sangat_rahasia}) {
        const DatasetFacts dataset{"dinkes-malut", level, "dinkes-malut/imunisasi", "p1", {}, "dinkes-malut"};
        INFO("level " << name_of(level));
        CHECK(policy->decide(owner, Action::read, &dataset).allow);
        CHECK(policy->decide(owner, Action::push, &dataset).allow);
        for (const auto& other : {subject("walidata", {Role::custodian}), subject("admin", {Role::admin}),
                                  subject("pemkab-halut", {Role::producer}), subject("bi-malut", {Role::partner})})
            CHECK_FALSE(policy->decide(other, Action::push, &dataset).allow);
    }
}

namespace {

enum class AgreementState { none, valid, expired, revoked, not_yet_valid, other_dataset, ceiling_too_low };
enum class ApprovalState { none, one, two_same_custodian, two_different, expired, exhausted, withdrawn };
constexpr std::int64_t kNow = 1'800'000'000;

std::vector<Agreement> agreements_in(AgreementState state, const std::string& partner) {
    Agreement a{"mou-1", partner, {"dinkes-malut/*"}, Classification::sangat_rahasia, kNow - 86400, kNow + 86400, 0};
    switch (state) {
        case AgreementState::none:
            return {};
        case AgreementState::valid:
            break;
        case AgreementState::expired:
            a.valid_until = kNow;
            break;  // until is exclusive
        case AgreementState::revoked:
            a.revoked_at = kNow - 1;
            break;
        case AgreementState::not_yet_valid:
            a.valid_from = kNow + 1;
            break;
        case AgreementState::other_dataset:
            a.patterns = {"bps-malut/*", "dinkes-malut/gizi"};
            break;
        case AgreementState::ceiling_too_low:
            a.max_classification = Classification::biasa;
            break;
    }
    // Another partner's agreement is never the caller's.
    return {a, Agreement{"mou-2", "telkom", {"*"}, Classification::sangat_rahasia, 0, kNow * 2, 0}};
}

std::vector<Approval> approvals_in(ApprovalState state, const std::string& partner) {
    const Approval a{"ap-1", "p1", partner, "walidata-1", kNow + 3600, 0, 0, 0};
    Approval b = a;
    b.id = "ap-2";
    b.custodian = "walidata-2";
    // Another package's and another partner's approvals are never the caller's.
    std::vector<Approval> out{Approval{"ap-x", "p2", partner, "walidata-3", kNow + 3600, 0, 0, 0},
                              Approval{"ap-y", "p1", "telkom", "walidata-3", kNow + 3600, 0, 0, 0}};
    switch (state) {
        case ApprovalState::none:
            break;
        case ApprovalState::one:
            out.push_back(a);
            break;
        case ApprovalState::two_same_custodian:
            b.custodian = a.custodian;
            out.push_back(a);
            out.push_back(b);
            break;
        case ApprovalState::two_different:
            out.push_back(a);
            out.push_back(b);
            break;
        case ApprovalState::expired:
            b.expires_at = kNow;
            out.push_back(b);
            break;
        case ApprovalState::exhausted:
            b.max_downloads = 3;
            b.downloads = 3;
            out.push_back(b);
            break;
        case ApprovalState::withdrawn:
            b.withdrawn_at = kNow - 5;
            out.push_back(b);
            break;
    }
    return out;
}

// The rule of DESIGN.md's classification table, written out independently of the engine.
bool expected(Role role, bool named, Classification level, AgreementState agreement, ApprovalState approval) {
    const bool one_standing = approval == ApprovalState::one || approval == ApprovalState::two_same_custodian ||
                              approval == ApprovalState::two_different;
    switch (level) {
        case Classification::biasa:
            return true;
        case Classification::terbatas:
            return role == Role::custodian || (role == Role::partner && agreement == AgreementState::valid);
        case Classification::rahasia:
            return role == Role::custodian ||
                   (role == Role::partner && agreement == AgreementState::valid && one_standing);
        case Classification::sangat_rahasia:
            return named && approval == ApprovalState::two_different;
    }
    return false;
}

}  // namespace

TEST_CASE("the full matrix: role x classification x agreement x approval") {
    const auto policy = default_policy();
    const std::array roles{Role::producer, Role::custodian, Role::partner, Role::auditor, Role::admin};
    const std::array levels{Classification::biasa, Classification::terbatas, Classification::rahasia,
                            Classification::sangat_rahasia};
    const std::array agreement_states{AgreementState::none,           AgreementState::valid,
                                      AgreementState::expired,        AgreementState::revoked,
                                      AgreementState::not_yet_valid,  AgreementState::other_dataset,
                                      AgreementState::ceiling_too_low};
    const std::array approval_states{
        ApprovalState::none,          ApprovalState::one,     ApprovalState::two_same_custodian,
        ApprovalState::two_different, ApprovalState::expired, ApprovalState::exhausted,
        ApprovalState::withdrawn};
    std::size_t cases = 0, allowed = 0;
    for (const Role role : roles)
        for (const bool named : {false, true})
            for (const auto level : levels)
                for (const auto agreement : agreement_states)
                    for (const auto approval : approval_states) {
                        const std::string id = "caller-" + std::string(name_of(role));
                        const auto agreements = agreements_in(agreement, id);
                        const auto approvals = approvals_in(approval, id);
                        DatasetFacts dataset{"dinkes-malut", level,      "dinkes-malut/imunisasi",
                                             "p1",           {"telkom"}, "dinkes-malut"};
                        if (named) dataset.recipients.push_back(id);
                        const Context context{kNow, agreements, approvals};
                        const auto d = policy->decide(subject(id, {role}), Action::read, &dataset, context);
                        INFO(name_of(role) << (named ? " (named)" : "") << ", " << name_of(level)
                                           << ", agreement state " << static_cast<int>(agreement) << ", approval state "
                                           << static_cast<int>(approval) << ": " << d.reason);
                        CHECK(d.allow == expected(role, named, level, agreement, approval));
                        CHECK_FALSE(d.reason.empty());
                        if (!d.allow) CHECK_FALSE(d.reveal);  // a denied read never reveals the package exists
                        ++cases;
                        allowed += d.allow;
                    }
    CHECK(cases == 5 * 2 * 4 * 7 * 7);
    CHECK(allowed > 0);
    CHECK(allowed < cases);
}

TEST_CASE("a denial says which condition failed") {
    const auto policy = default_policy();
    const auto partner = subject("bi-malut", {Role::partner});
    auto reason = [&](Classification level, AgreementState agreement, ApprovalState approval) {
        const auto agreements = agreements_in(agreement, "bi-malut");
        const auto approvals = approvals_in(approval, "bi-malut");
        const DatasetFacts dataset{"dinkes-malut", level, "dinkes-malut/imunisasi", "p1", {}, "dinkes-malut"};
        return policy->decide(partner, Action::read, &dataset, Context{kNow, agreements, approvals}).reason;
    };
    using Catch::Matchers::Contains;
    CHECK_THAT(reason(Classification::terbatas, AgreementState::none, ApprovalState::none), Contains("no agreement"));
    CHECK_THAT(reason(Classification::terbatas, AgreementState::expired, ApprovalState::none),
               Contains("mou-1 has expired"));
    CHECK_THAT(reason(Classification::terbatas, AgreementState::revoked, ApprovalState::none),
               Contains("mou-1 was revoked"));
    CHECK_THAT(reason(Classification::terbatas, AgreementState::not_yet_valid, ApprovalState::none),
               Contains("not in force yet"));
    CHECK_THAT(reason(Classification::terbatas, AgreementState::other_dataset, ApprovalState::none),
               Contains("does not cover dataset"));
    CHECK_THAT(reason(Classification::terbatas, AgreementState::ceiling_too_low, ApprovalState::none),
               Contains("up to biasa"));
    CHECK_THAT(reason(Classification::rahasia, AgreementState::valid, ApprovalState::none), Contains("approval"));
    CHECK_THAT(reason(Classification::rahasia, AgreementState::valid, ApprovalState::expired), Contains("1 expired"));
    CHECK_THAT(reason(Classification::rahasia, AgreementState::valid, ApprovalState::exhausted), Contains("used up"));
    CHECK_THAT(reason(Classification::rahasia, AgreementState::valid, ApprovalState::withdrawn), Contains("withdrawn"));
    CHECK_THAT(reason(Classification::rahasia, AgreementState::valid, ApprovalState::one), Contains("ap-1"));
}

TEST_CASE("with several agreements, the reason names the one that nearly applies") {
    const auto policy = default_policy();
    const DatasetFacts dataset{"dinkes-malut", Classification::terbatas, "dinkes-malut/imunisasi", "p1", {},
                               "dinkes-malut"};
    const std::vector<Agreement> agreements{
        {"mou-other", "bi-malut", {"bps-malut/*"}, Classification::rahasia, kNow - 10, kNow + 10, 0},
        {"mou-low", "bi-malut", {"dinkes-malut/*"}, Classification::biasa, kNow - 10, kNow + 10, 0},
        {"mou-old", "bi-malut", {"dinkes-malut/imunisasi"}, Classification::rahasia, kNow - 20, kNow - 10, 0}};
    const auto d =
        policy->decide(subject("bi-malut", {Role::partner}), Action::read, &dataset, Context{kNow, agreements, {}});
    CHECK_FALSE(d.allow);
    CHECK(d.reason == "agreement mou-old has expired");
}

TEST_CASE("an approval's download cap is an obligation, and names the approvals it spends") {
    const auto policy = default_policy();
    const auto agreements = agreements_in(AgreementState::valid, "bi-malut");
    auto approvals = approvals_in(ApprovalState::one, "bi-malut");
    approvals.back().max_downloads = 2;
    approvals.back().downloads = 1;
    const DatasetFacts dataset{"dinkes-malut", Classification::rahasia, "dinkes-malut/imunisasi", "p1", {},
                               "dinkes-malut"};
    const auto d = policy->decide(subject("bi-malut", {Role::partner}), Action::read, &dataset,
                                  Context{kNow, agreements, approvals});
    REQUIRE(d.allow);
    CHECK(d.approvals_used == std::vector<std::string>{"ap-1"});
    CHECK(d.agreement_used == "mou-1");
    CHECK(std::find(d.obligations.begin(), d.obligations.end(), "max-downloads") != d.obligations.end());
    // Without a package (the dataset's own metadata) a covering agreement is enough.
    const DatasetFacts whole{"dinkes-malut", Classification::rahasia, "dinkes-malut/imunisasi", "", {}, ""};
    CHECK(policy->decide(subject("bi-malut", {Role::partner}), Action::read, &whole, Context{kNow, agreements, {}})
              .allow);
}

TEST_CASE("approvals by the package's producer never count, however they were stored") {
    const auto policy = default_policy();
    // bappeda publishes and is also a custodian; an approval of its own (stored before the gateway
    // refused them) must not stand in for another custodian's.
    const auto partner = subject("bi-malut", {Role::partner});
    const std::vector<Agreement> agreements{
        {"mou-b", "bi-malut", {"bappeda/*"}, Classification::sangat_rahasia, kNow - 86400, kNow + 86400, 0}};
    const Approval own{"ap-own", "p1", "bi-malut", "bappeda", kNow + 3600, 0, 0, 0};
    const Approval first{"ap-1", "p1", "bi-malut", "walidata-1", kNow + 3600, 0, 0, 0};
    const Approval second{"ap-2", "p1", "bi-malut", "walidata-2", kNow + 3600, 0, 0, 0};
    auto decide = [&](Classification level, std::vector<Approval> approvals) {
        const DatasetFacts facts{"bappeda", level, "bappeda/anggaran", "p1", {"bi-malut"}, "bappeda"};
        return policy->decide(partner, Action::read, &facts, Context{kNow, agreements, approvals});
    };

    const auto alone = decide(Classification::rahasia, {own});
    CHECK_FALSE(alone.allow);
    CHECK_THAT(alone.reason,
               Catch::Matchers::Contains("0 standing, 1 by the package's producer, which does not count"));
    const auto with_another = decide(Classification::rahasia, {own, first});
    REQUIRE(with_another.allow);
    CHECK(with_another.approvals_used == std::vector<std::string>{"ap-1"});  // the producer's is not spent either

    // sangat-rahasia: two custodians besides the producer, so the second is a third person.
    CHECK_FALSE(decide(Classification::sangat_rahasia, {own}).allow);
    const auto one_other = decide(Classification::sangat_rahasia, {own, first});
    CHECK_FALSE(one_other.allow);
    CHECK_THAT(one_other.reason, Catch::Matchers::Contains("1 standing"));
    const auto two_others = decide(Classification::sangat_rahasia, {own, first, second});
    REQUIRE(two_others.allow);
    CHECK(two_others.approvals_used == std::vector<std::string>{"ap-1", "ap-2"});
    CHECK(decide(Classification::sangat_rahasia, {first, second}).allow);
}

TEST_CASE("a producer that is also a custodian may not approve its own package") {
    const auto policy = default_policy();
    const auto both = subject("bappeda", {Role::producer, Role::custodian});
    for (auto level : {Classification::rahasia, Classification::sangat_rahasia}) {
        const DatasetFacts own{"bappeda", level, "bappeda/anggaran", "p1", {}, "bappeda"};
        const auto d = policy->decide(both, Action::approve, &own);
        INFO(name_of(level));
        CHECK_FALSE(d.allow);
        CHECK(d.reveal);  // the producer knows its package: the answer is a 409 with the reason
        CHECK_THAT(d.reason, Catch::Matchers::Contains("producer"));
        // Another custodian may; and bappeda may approve packages it did not produce.
        CHECK(policy->decide(subject("walidata", {Role::custodian}), Action::approve, &own).allow);
        const DatasetFacts others{"dinkes-malut", level, "dinkes-malut/gizi", "p2", {}, "dinkes-malut"};
        CHECK(policy->decide(both, Action::approve, &others).allow);
    }
    // Asked without a package, the question is only whether the role may approve at all.
    CHECK(policy->decide(both, Action::approve, nullptr).allow);
}

TEST_CASE("dataset patterns of agreements") {
    CHECK(is_dataset_pattern("dinkes-malut/*"));
    CHECK(is_dataset_pattern("dinkes-malut/imunisasi"));
    CHECK(is_dataset_pattern("*"));
    CHECK_FALSE(is_dataset_pattern("dinkes-malut"));
    CHECK_FALSE(is_dataset_pattern("dinkes-*/x"));
    CHECK_FALSE(is_dataset_pattern("../x"));
    CHECK_FALSE(is_dataset_pattern("a/b/c"));
    CHECK(pattern_matches("dinkes-malut/*", "dinkes-malut/imunisasi"));
    CHECK_FALSE(pattern_matches("dinkes-malut/*", "dinkes-malutx/imunisasi"));
    CHECK_FALSE(pattern_matches("dinkes-malut/imunisasi", "dinkes-malut/imunisasi-2"));
    CHECK(pattern_matches("*", "bps-malut/penduduk"));
}

TEST_CASE("custodians approve releases only where the level needs approval") {
    const auto policy = default_policy();
    const DatasetFacts rahasia{"dinkes-malut", Classification::rahasia, "dinkes-malut/x", "p1", {}, "dinkes-malut"};
    const DatasetFacts terbatas{"dinkes-malut", Classification::terbatas, "dinkes-malut/x", "p1", {}, "dinkes-malut"};
    CHECK(policy->decide(subject("walidata", {Role::custodian}), Action::approve, &rahasia).allow);
    CHECK_FALSE(policy->decide(subject("walidata", {Role::custodian}), Action::approve, &terbatas).allow);
    CHECK_FALSE(policy->decide(subject("admin", {Role::admin}), Action::approve, &rahasia).allow);
    CHECK(policy->decide(subject("walidata", {Role::custodian}), Action::manage_agreements, nullptr).allow);
    CHECK_FALSE(policy->decide(subject("bi-malut", {Role::partner}), Action::manage_agreements, nullptr).allow);
}

TEST_CASE("only admins and custodians create datasets, only admins manage principals") {
    const auto policy = default_policy();
    CHECK(policy->decide(subject("a", {Role::admin}), Action::create_dataset, nullptr).allow);
    CHECK(policy->decide(subject("c", {Role::custodian}), Action::create_dataset, nullptr).allow);
    CHECK_FALSE(policy->decide(subject("p", {Role::producer}), Action::create_dataset, nullptr).allow);
    CHECK(policy->decide(subject("a", {Role::admin}), Action::manage_principals, nullptr).allow);
    CHECK_FALSE(policy->decide(subject("c", {Role::custodian}), Action::manage_principals, nullptr).allow);
}

TEST_CASE("admins and auditors read the metrics by default, and the metrics readers of the policy change who") {
    const auto policy = default_policy();
    for (const auto role : {Role::admin, Role::auditor})
        CHECK(policy->decide(subject("x", {role}), Action::read_metrics, nullptr).allow);
    for (const auto role : {Role::producer, Role::custodian, Role::partner}) {
        const auto d = policy->decide(subject("x", {role}), Action::read_metrics, nullptr);
        CHECK_FALSE(d.allow);
        CHECK_FALSE(d.reveal);
        CHECK(d.reason.find("metrics") != std::string::npos);
    }
    const std::string base =
        "version = 2\n[levels.biasa]\nreaders = [\"any\"]\n[levels.terbatas]\nreaders = [\"owner\"]\n"
        "[levels.rahasia]\nreaders = [\"owner\"]\n[levels.sangat-rahasia]\nreaders = [\"owner\"]\n";
    auto custom = Policy::parse(base + "[metrics]\nreaders = [\"custodian\"]\n", "p.toml");
    REQUIRE(custom.ok());
    CHECK((*custom)->decide(subject("c", {Role::custodian}), Action::read_metrics, nullptr).allow);
    CHECK_FALSE((*custom)->decide(subject("a", {Role::admin}), Action::read_metrics, nullptr).allow);
    auto typo = Policy::parse(base + "[metrics]\nreader = [\"admin\"]\n", "p.toml");
    REQUIRE_FALSE(typo.ok());
    CHECK(typo.error().message.find("metrics.reader") != std::string::npos);
    CHECK_FALSE(Policy::parse(base + "[metrics]\nreaders = [\"everyone\"]\n", "p.toml").ok());
}

TEST_CASE("auditors read packages' metadata unless the policy turns it off, and nobody else does") {
    const auto policy = default_policy();
    const auto allowed = policy->decide(subject("i", {Role::auditor}), Action::read_package_metadata, nullptr);
    CHECK(allowed.allow);
    CHECK(allowed.reason.find("never its content") != std::string::npos);
    for (const auto role : {Role::producer, Role::custodian, Role::partner, Role::admin}) {
        const auto d = policy->decide(subject("x", {role}), Action::read_package_metadata, nullptr);
        CHECK_FALSE(d.allow);
        CHECK_FALSE(d.reveal);
    }
    // Reading the metadata never lets an auditor read the package itself.
    const DatasetFacts facts{"dinkes", Classification::biasa, "dinkes/gizi", "p1", {}, "dinkes"};
    CHECK(policy->decide(subject("i", {Role::auditor}), Action::read, &facts).allow);  // biasa: any
    const DatasetFacts secret{"dinkes", Classification::rahasia, "dinkes/kasus", "p2", {}, "dinkes"};
    CHECK_FALSE(policy->decide(subject("i", {Role::auditor}), Action::read, &secret).allow);
    const std::string base =
        "version = 2\n[levels.biasa]\nreaders = [\"any\"]\n[levels.terbatas]\nreaders = [\"owner\"]\n"
        "[levels.rahasia]\nreaders = [\"owner\"]\n[levels.sangat-rahasia]\nreaders = [\"owner\"]\n";
    auto off = Policy::parse(base + "[audit]\nreaders = [\"auditor\"]\npackage_metadata = false\n", "p.toml");
    REQUIRE(off.ok());
    const auto refused = (*off)->decide(subject("i", {Role::auditor}), Action::read_package_metadata, nullptr);
    CHECK_FALSE(refused.allow);
    CHECK(refused.reason.find("does not show") != std::string::npos);
    CHECK((*off)->decide(subject("i", {Role::auditor}), Action::read_audit, nullptr).allow);
    auto wrong = Policy::parse(base + "[audit]\npackage_metadata = \"yes\"\n", "p.toml");
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.error().message.find("audit.package_metadata") != std::string::npos);
    CHECK_FALSE(Policy::parse(base + "[metrics]\npackage_metadata = true\n", "p.toml").ok());
}

TEST_CASE("a bad policy is refused with the file, line and key named") {
    const std::string base =
        "version = 2\n[levels.biasa]\nreaders = [\"any\"]\n[levels.terbatas]\nreaders = [\"owner\"]\n"
        "[levels.rahasia]\nreaders = [\"owner\"]\n[levels.sangat-rahasia]\nreaders = [\"owner\"]\n";
    CHECK(Policy::parse(base, "p.toml").ok());

    auto unknown_key = Policy::parse("colour = 1\n" + base, "p.toml");
    REQUIRE_FALSE(unknown_key.ok());
    CHECK(unknown_key.error().message.find("p.toml:1: colour") != std::string::npos);
    auto unknown_level_key = Policy::parse(base + "colour = 1\n", "p.toml");
    REQUIRE_FALSE(unknown_level_key.ok());
    CHECK(unknown_level_key.error().message.find("p.toml:10: levels.sangat-rahasia.colour") != std::string::npos);

    auto unknown_level = Policy::parse(base + "[levels.rahsia]\nreaders = [\"owner\"]\n", "p.toml");
    REQUIRE_FALSE(unknown_level.ok());
    CHECK(unknown_level.error().message.find("p.toml:10: levels.rahsia: unknown classification") != std::string::npos);

    auto unknown_role = Policy::parse("version = 2\n[levels.biasa]\nreaders = [\"anyone\"]\n", "p.toml");
    REQUIRE_FALSE(unknown_role.ok());
    CHECK(unknown_role.error().message.find("p.toml:3") != std::string::npos);

    auto missing = Policy::parse("version = 2\n[levels.biasa]\nreaders = [\"any\"]\n", "p.toml");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("terbatas") != std::string::npos);

    // The interim rule of the first release is refused, with what to do instead.
    auto v1 = Policy::parse("version = 1\n[read]\nbiasa = [\"any\"]\n", "p.toml");
    REQUIRE_FALSE(v1.ok());
    CHECK(v1.error().message.find("p.toml:1: version: version 1") != std::string::npos);
    CHECK(v1.error().message.find("policies/default.toml") != std::string::npos);

    CHECK_FALSE(Policy::parse("version = 2\n", "p.toml").ok());
    CHECK_FALSE(Policy::parse("version = 3\n", "p.toml").ok());
    const std::string v2 =
        "version = 2\n[levels.biasa]\nreaders = [\"any\"]\n[levels.terbatas]\nreaders = [\"owner\"]\n"
        "[levels.rahasia]\nreaders = [\"owner\", \"agreement\"]\napprovals = 1\n"
        "[levels.sangat-rahasia]\nreaders = [\"owner\"]\n";
    CHECK(Policy::parse(v2, "p.toml").ok());
    auto bad_obligation = Policy::parse(v2 + "[levels.x]\n", "p.toml");
    CHECK_FALSE(bad_obligation.ok());
    auto unknown_obligation = Policy::parse(
        std::string(v2).replace(v2.find("approvals = 1"), 13, "obligations = [\"shred-after-reading\"]"), "p.toml");
    REQUIRE_FALSE(unknown_obligation.ok());
    CHECK(unknown_obligation.error().message.find("p.toml:8: levels.rahasia.obligations") != std::string::npos);
    auto too_many = Policy::parse(std::string(v2).replace(v2.find("approvals = 1"), 13, "approvals = 3"), "p.toml");
    REQUIRE_FALSE(too_many.ok());
    CHECK(too_many.error().message.find("levels.rahasia.approvals") != std::string::npos);
    auto unknown_rule_key =
        Policy::parse(std::string(v2).replace(v2.find("approvals = 1"), 13, "aprovals = 1"), "p.toml");
    REQUIRE_FALSE(unknown_rule_key.ok());
    CHECK(unknown_rule_key.error().message.find("levels.rahasia.aprovals: unknown key") != std::string::npos);
    CHECK_FALSE(Policy::parse("version = [", "p.toml").ok());
    auto bad_manage = Policy::parse(base + "[manage]\ndatasets = [\"janitor\"]\n", "p.toml");
    auto no_named_reader = Policy::parse(
        std::string(base).replace(base.rfind("readers = [\"owner\"]"), 19, "readers = [\"owner\"]\napprovals = 2"),
        "p.toml");
    REQUIRE_FALSE(no_named_reader.ok());
    CHECK(no_named_reader.error().message.find("approvals apply to readers by agreement or named") !=
          std::string::npos);
    CHECK_FALSE(bad_manage.ok());
}

TEST_CASE("a read that waits only for approvals says so, and the level says whether it is listed") {
    const auto policy = default_policy();
    const auto partner = subject("bi-malut", {Role::partner});
    const Agreement mou{"mou-1", "bi-malut", {"dinkes-malut/*"}, Classification::rahasia, 0, 4102444800, 0};
    const std::vector<Agreement> agreements{mou};
    const DatasetFacts rahasia{"dinkes-malut", Classification::rahasia, "dinkes-malut/gizi", "p1", {}, "dinkes-malut"};
    auto d = policy->decide(partner, Action::read, &rahasia, Context{1000, agreements, {}});
    CHECK_FALSE(d.allow);
    CHECK(d.release_needed);
    CHECK(d.agreement_used == "mou-1");
    CHECK(policy->lists_before_release(Classification::rahasia));
    CHECK_FALSE(policy->lists_before_release(Classification::sangat_rahasia));
    // Another dataset, or no agreement at all: nothing to ask for.
    const DatasetFacts other{"bappeda", Classification::rahasia, "bappeda/anggaran", "p2", {}, "bappeda"};
    CHECK_FALSE(policy->decide(partner, Action::read, &other, Context{1000, agreements, {}}).release_needed);
    CHECK_FALSE(policy->decide(partner, Action::read, &rahasia, Context{1000, {}, {}}).release_needed);
    // A lapsed agreement is not a release away.
    const std::vector<Agreement> lapsed{{"mou-2", "bi-malut", {"dinkes-malut/*"}, Classification::rahasia, 0, 500, 0}};
    CHECK_FALSE(policy->decide(partner, Action::read, &rahasia, Context{1000, lapsed, {}}).release_needed);
    // A named recipient of sangat-rahasia waits for its two approvals.
    const DatasetFacts secret{
        "dinkes-malut", Classification::sangat_rahasia, "dinkes-malut/rujukan", "p3", {"bi-malut"}, "dinkes-malut"};
    CHECK(policy->decide(partner, Action::read, &secret, Context{1000, {}, {}}).release_needed);
    // The policy file may turn the listing off, or on for sangat-rahasia.
    auto custom = Policy::parse(R"(version = 2
[levels.biasa]
readers = ["any"]
[levels.terbatas]
readers = ["owner"]
[levels.rahasia]
readers = ["owner", "agreement"]
approvals = 1
list_before_release = false
[levels.sangat-rahasia]
readers = ["owner", "named"]
approvals = 2
list_before_release = true
)",
                                "custom.toml");
    REQUIRE(custom.ok());
    CHECK_FALSE((*custom)->lists_before_release(Classification::rahasia));
    CHECK((*custom)->lists_before_release(Classification::sangat_rahasia));
    auto bad = Policy::parse("version = 2\n[levels.biasa]\nreaders = [\"any\"]\nlist_before_release = 1\n", "bad.toml");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("list_before_release: expected true or false") != std::string::npos);
}

TEST_CASE("a proof of an access-log entry goes to auditors and to the principal whose request it records") {
    const auto policy = default_policy();
    Context own;
    own.entry_principal = "bi-malut";
    CHECK(policy->decide(subject("bi-malut", {Role::partner}), Action::read_proof, nullptr, own).allow);
    CHECK(policy->decide(subject("inspektorat", {Role::auditor}), Action::read_proof, nullptr, own).allow);
    for (const auto role : {Role::producer, Role::custodian, Role::partner, Role::admin}) {
        const auto d = policy->decide(subject("telkom", {role}), Action::read_proof, nullptr, own);
        CHECK_FALSE(d.allow);
        CHECK_FALSE(d.reveal);  // another's entry is not even said to exist
    }
    // An entry no principal made (a refused handshake, a gateway event) is the auditors' alone.
    Context nobody;
    CHECK_FALSE(policy->decide(subject("", {Role::partner}), Action::read_proof, nullptr, nobody).allow);
    CHECK(policy->decide(subject("inspektorat", {Role::auditor}), Action::read_proof, nullptr, nobody).allow);
}
