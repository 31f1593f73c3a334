#include <catch2/catch.hpp>

#include "policies/policy.h"

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

TEST_CASE("the interim rule: the owner pushes, anyone reads biasa, owner/custodian/admin read above") {
    const auto policy = default_policy();
    const auto owner = subject("dinkes-malut", {Role::producer});
    const auto other_producer = subject("pemkab-halut", {Role::producer});
    const auto custodian = subject("walidata", {Role::custodian});
    const auto admin = subject("admin", {Role::admin});
    const auto partner = subject("bi-malut", {Role::partner});
    const auto auditor = subject("inspektorat", {Role::auditor});

    for (auto level : {Classification::biasa, Classification::terbatas, Classification::rahasia,
                       Classification::sangat_rahasia}) {
        const DatasetFacts dataset{"dinkes-malut", level};
        INFO("level " << name_of(level));
        CHECK(policy->decide(owner, Action::read, &dataset).allow);
        CHECK(policy->decide(owner, Action::push, &dataset).allow);
        CHECK(policy->decide(custodian, Action::read, &dataset).allow);
        CHECK(policy->decide(admin, Action::read, &dataset).allow);
        CHECK_FALSE(policy->decide(custodian, Action::push, &dataset).allow);
        CHECK_FALSE(policy->decide(other_producer, Action::push, &dataset).allow);
        const bool open = level == Classification::biasa;
        for (const auto* reader : {&other_producer, &partner, &auditor}) {
            const auto d = policy->decide(*reader, Action::read, &dataset);
            CHECK(d.allow == open);
            CHECK(d.reveal == open);  // a denied read never reveals existence
            CHECK_FALSE(d.reason.empty());
        }
    }
}

TEST_CASE("only admins and custodians create datasets; only admins manage principals") {
    const auto policy = default_policy();
    CHECK(policy->decide(subject("a", {Role::admin}), Action::create_dataset, nullptr).allow);
    CHECK(policy->decide(subject("c", {Role::custodian}), Action::create_dataset, nullptr).allow);
    CHECK_FALSE(policy->decide(subject("p", {Role::producer}), Action::create_dataset, nullptr).allow);
    CHECK(policy->decide(subject("a", {Role::admin}), Action::manage_principals, nullptr).allow);
    CHECK_FALSE(policy->decide(subject("c", {Role::custodian}), Action::manage_principals, nullptr).allow);
}

TEST_CASE("a bad policy is refused with the file, line and key named") {
    const std::string base = "version = 1\n[read]\nbiasa = [\"any\"]\nterbatas = [\"owner\"]\n"
                             "rahasia = [\"owner\"]\nsangat-rahasia = [\"owner\"]\n";
    CHECK(Policy::parse(base, "p.toml").ok());

    auto unknown_key = Policy::parse("colour = 1\n" + base, "p.toml");
    REQUIRE_FALSE(unknown_key.ok());
    CHECK(unknown_key.error().message.find("p.toml:1: colour") != std::string::npos);
    auto unknown_level_key = Policy::parse(base + "colour = 1\n", "p.toml");
    REQUIRE_FALSE(unknown_level_key.ok());
    CHECK(unknown_level_key.error().message.find("p.toml:7: read.colour") != std::string::npos);

    auto unknown_level = Policy::parse(base + "rahsia = [\"owner\"]\n", "p.toml");
    CHECK_FALSE(unknown_level.ok());

    auto unknown_role = Policy::parse("version = 1\n[read]\nbiasa = [\"anyone\"]\n", "p.toml");
    REQUIRE_FALSE(unknown_role.ok());
    CHECK(unknown_role.error().message.find("p.toml:3") != std::string::npos);

    auto missing = Policy::parse("version = 1\n[read]\nbiasa = [\"any\"]\n", "p.toml");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("terbatas") != std::string::npos);

    CHECK_FALSE(Policy::parse("version = 2\n", "p.toml").ok());
    CHECK_FALSE(Policy::parse("version = [", "p.toml").ok());
    auto bad_manage = Policy::parse(base + "[manage]\ndatasets = [\"janitor\"]\n", "p.toml");
    CHECK_FALSE(bad_manage.ok());
}
