// Webhooks' pure parts: the signature's MAC, receivers' URLs, the networks they may not be in,
// the [webhooks] settings, and the store's queue of deliveries.
#include <catch2/catch.hpp>
#include <fstream>

#include "crypto/crypto.h"
#include "gateway/gateway.h"
#include "gateway/hook_client.h"
#include "temp_dir.h"

using namespace serambi;

namespace {
gateway::HookUrl url_of(const char* text) {
    auto url = gateway::parse_hook_url(text);
    REQUIRE(url.ok());
    return *url;
}
}  // namespace

TEST_CASE("HMAC-SHA-256 gives the RFC 4231 test vectors") {
    // Test case 1: key 0x0b x 20, "Hi There".
    const crypto::Bytes key1(20, 0x0b);
    CHECK(crypto::to_hex(crypto::hmac_sha256(key1, "Hi There")) ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    // Test case 2: key "Jefe".
    const std::string jefe = "Jefe";
    const crypto::Bytes key2(jefe.begin(), jefe.end());
    CHECK(crypto::to_hex(crypto::hmac_sha256(key2, "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("a receiver's URL is https with a host, and nothing that could mislead") {
    auto ok = gateway::parse_hook_url("https://hooks.example.go.id/serambi?unit=bi");
    REQUIRE(ok.ok());
    CHECK(ok->host == "hooks.example.go.id");
    CHECK(ok->port == "443");
    CHECK(ok->target == "/serambi?unit=bi");
    auto with_port = gateway::parse_hook_url("https://localhost:8443");
    REQUIRE(with_port.ok());
    CHECK(with_port->port == "8443");
    CHECK(with_port->target == "/");
    auto v6 = gateway::parse_hook_url("https://[::1]:9000/x");
    REQUIRE(v6.ok());
    CHECK(v6->host == "::1");
    CHECK(v6->port == "9000");

    for (const char* refused :
         {"http://hooks.example.go.id/", "HTTPS://hooks.example.go.id/", "https://user:pw@hooks.example.go.id/",
          "https://hooks.example.go.id@10.0.0.1/", "https://hooks.example.go.id/#frag", "https:///path",
          "https://hooks.example.go.id:0/", "https://hooks.example.go.id:65536/", "https://hooks.example.go.id:/",
          "https://hooks.example.go.id:80x/", "https://hooks example.go.id/", "https://hooks.example.go.id/a b",
          "https://hooks.example.go.id/\x01", "https://[::1/", "https://[notv6]/", "https://[::1]x/",
          "https://h_o.example/", "ftp://x/"}) {
        INFO(refused);
        CHECK_FALSE(gateway::parse_hook_url(refused).ok());
    }
    CHECK_FALSE(gateway::parse_hook_url("https://a.example/" + std::string(2100, 'a')).ok());
}

TEST_CASE("a receiver may not be the gateway's own host or network unless allowed") {
    const gateway::ReceiverRules closed{};
    for (const char* host : {"127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                             "0.0.0.0", "224.0.0.1", "255.255.255.255"}) {
        INFO(host);
        auto url = gateway::parse_hook_url(std::string("https://") + host + "/");
        REQUIRE(url.ok());
        auto checked = gateway::check_receiver(*url, closed);
        REQUIRE_FALSE(checked.ok());
        CHECK(checked.error().message.find("allowed_networks") != std::string::npos);
    }
    for (const char* host : {"[::1]", "[fe80::1]", "[fd00::5]", "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]", "[::]",
                             "[64:ff9b::a00:1]", "[ff02::1]"}) {
        INFO(host);
        auto url = gateway::parse_hook_url(std::string("https://") + host + "/");
        REQUIRE(url.ok());
        CHECK_FALSE(gateway::check_receiver(*url, closed).ok());
    }
    CHECK(gateway::check_receiver(url_of("https://8.8.8.8/"), closed).ok());

    gateway::ReceiverRules open{};
    open.allowed_networks = {"127.0.0.0/8", "::1/128"};
    CHECK(gateway::check_receiver(url_of("https://127.0.0.1/"), open).ok());
    CHECK(gateway::check_receiver(url_of("https://[::1]/"), open).ok());
    CHECK(gateway::check_receiver(url_of("https://[::ffff:127.0.0.1]/"), open).ok());
    CHECK_FALSE(gateway::check_receiver(url_of("https://10.0.0.1/"), open).ok());
    CHECK_FALSE(gateway::check_receiver(url_of("https://169.254.169.254/"), open).ok());
}

TEST_CASE("networks are CIDR") {
    CHECK(gateway::is_network("10.20.0.0/16"));
    CHECK(gateway::is_network("fd00::/8"));
    CHECK(gateway::is_network("127.0.0.1/32"));
    CHECK_FALSE(gateway::is_network("10.20.0.0"));
    CHECK_FALSE(gateway::is_network("10.20.0.0/33"));
    CHECK_FALSE(gateway::is_network("::/129"));
    CHECK_FALSE(gateway::is_network("10.20.0.0/1x"));
    CHECK_FALSE(gateway::is_network("example.org/8"));
    CHECK_FALSE(gateway::is_network("/8"));
}

TEST_CASE("the webhooks settings load, and a bad one names its line") {
    TempDir dir;
    const auto file = dir.path / "serambi.toml";
    std::ofstream(file) << "[webhooks]\nca_file = \"ca.pem\"\nallowed_networks = [\"10.20.0.0/16\"]\n"
                           "retry_seconds = [1, 2]\ntimeout_seconds = 3\nscan_seconds = 4\n";
    auto config = gateway::load_config(file);
    REQUIRE(config.ok());
    CHECK(config->webhook_ca_file == dir.path / "ca.pem");
    CHECK(config->webhook_allowed_networks == std::vector<std::string>{"10.20.0.0/16"});
    CHECK(config->webhook_retry_seconds == std::vector<unsigned>{1, 2});
    CHECK(config->webhook_timeout_seconds == 3);
    CHECK(config->webhook_scan_seconds == 4);

    auto error_for = [&](const std::string& text) {
        std::ofstream(file, std::ios::trunc) << text;
        auto bad = gateway::load_config(file);
        REQUIRE_FALSE(bad.ok());
        return bad.error().message;
    };
    CHECK(error_for("[webhooks]\nallowed_networks = [\"10.0.0.1\"]\n").find(":2: webhooks.allowed_networks") !=
          std::string::npos);
    CHECK(error_for("[webhooks]\nallowed_networks = \"10.0.0.0/8\"\n").find("webhooks.allowed_networks") !=
          std::string::npos);
    CHECK(error_for("[webhooks]\nretry_seconds = [0]\n").find("webhooks.retry_seconds") != std::string::npos);
    CHECK(error_for("[webhooks]\nretry_seconds = [1, \"x\"]\n").find("webhooks.retry_seconds") != std::string::npos);
    CHECK(error_for("[webhooks]\ntimeout_seconds = 0\n").find("webhooks.timeout_seconds") != std::string::npos);
    CHECK(error_for("[webhooks]\nproxy = \"x\"\n").find("unknown key") != std::string::npos);
}
