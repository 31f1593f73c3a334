#include <catch2/catch.hpp>
#include <fstream>

#include "gateway/gateway.h"
#include "temp_dir.h"

using namespace serambi;

TEST_CASE("the configuration init writes loads with its defaults, paths relative to the file") {
    TempDir dir;
    std::ofstream(dir.path / "serambi.toml") << gateway::default_config_text("127.0.0.1", 9443, "test.local/log");
    auto config = gateway::load_config(dir.path / "serambi.toml");
    REQUIRE(config.ok());
    CHECK(config->listen_port == 9443);
    CHECK(config->listen_host == "127.0.0.1");
    CHECK(config->database == dir.path / "serambi.db");
    CHECK(config->max_header_bytes == 16384);
    CHECK(config->aead == crypto::Aead::aes_256_gcm);
}

TEST_CASE("a bad configuration value stops the start with the file, line and key named") {
    TempDir dir;
    const auto file = dir.path / "serambi.toml";
    auto error_for = [&](const std::string& text) {
        std::ofstream(file, std::ios::trunc) << text;
        auto config = gateway::load_config(file);
        REQUIRE_FALSE(config.ok());
        return config.error().message;
    };
    CHECK(error_for("[server]\nlisten = \"127.0.0.1:0\"\n").find("serambi.toml:2: server.listen") != std::string::npos);
    CHECK(error_for("[server]\nthreads = 0\n").find("server.threads") != std::string::npos);
    CHECK(error_for("[limits]\nmax_body = 5\n").find("limits.max_body: unknown key") != std::string::npos);
    CHECK(error_for("[storage]\naead = \"rot13\"\n").find("storage.aead") != std::string::npos);
    CHECK(error_for("[limits]\nio_timeout_seconds = \"soon\"\n").find("limits.io_timeout_seconds") !=
          std::string::npos);
    CHECK(error_for("listen = 1\n").find("listen") != std::string::npos);
    CHECK(error_for("[server\n").find("serambi.toml:1") != std::string::npos);
}

TEST_CASE("the portal's settings: on by default in WIT, a misspelt zone stops the start") {
    TempDir dir;
    const auto file = dir.path / "serambi.toml";
    std::ofstream(file) << gateway::default_config_text("127.0.0.1", 9443, "test.local/log");
    auto defaults = gateway::load_config(file);
    REQUIRE(defaults.ok());
    CHECK(defaults->portal_enabled);
    CHECK(defaults->portal_time_zone == "Asia/Jayapura");
    auto load = [&](const std::string& text) {
        std::ofstream(file, std::ios::trunc) << text;
        return gateway::load_config(file);
    };
    auto makassar = load("[portal]\ntime_zone = \"Asia/Makassar\"\nenabled = false\n");
    REQUIRE(makassar.ok());
    CHECK(makassar->portal_time_zone == "Asia/Makassar");
    CHECK_FALSE(makassar->portal_enabled);
    for (const char* bad :
         {"\"Asia/Jaypura\"", "\"../../etc/passwd\"", "\"Asia/Jayapura\\\"><script>\"", "\"\"", "9"}) {
        INFO(bad);
        auto config = load(std::string("[portal]\ntime_zone = ") + bad + "\n");
        REQUIRE_FALSE(config.ok());
        CHECK(config.error().message.find("portal.time_zone") != std::string::npos);
    }
    auto not_bool = load("[portal]\nenabled = \"yes\"\n");
    REQUIRE_FALSE(not_bool.ok());
    CHECK(not_bool.error().message.find("portal.enabled: expected true or false") != std::string::npos);
}
