// The Serambi gateway: configuration, and the mutual-TLS HTTP server that carries packages
// between producers and readers. Everything a request may do is decided by the policy in
// `policies/`; everything it stores goes through `storage/`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "crypto/crypto.h"

namespace serambi::gateway {

// Parsed once from serambi.toml; every value has a safe default. Relative paths are resolved
// against the directory of the configuration file.
struct Config {
    std::filesystem::path config_file;

    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8443;
    unsigned threads = 4;

    std::uint64_t max_package_bytes = 8ULL << 30;  // 8 GiB
    std::uint64_t max_json_bytes = 64 * 1024;
    std::uint32_t max_header_bytes = 16 * 1024;
    unsigned handshake_timeout_seconds = 10;
    unsigned idle_timeout_seconds = 60;
    unsigned io_timeout_seconds = 60;
    unsigned max_connections = 256;

    std::filesystem::path database = "serambi.db";
    std::filesystem::path blobs = "blobs";
    crypto::Aead aead = crypto::Aead::aes_256_gcm;
    std::filesystem::path master_key = "master.key";
    std::filesystem::path log_key = "log.key";  // Ed25519 key that signs access-log checkpoints

    // Names the access log in its checkpoints (C2SP origin line) and its key.
    std::string audit_origin = "serambi.local/log";
    // Refused handshakes beyond this many a second are counted in one entry, not one each.
    unsigned refused_handshake_entries_per_second = 20;

    std::filesystem::path ca_cert = "pki/ca.crt";
    std::filesystem::path ca_key = "pki/ca.key";
    std::filesystem::path tls_cert = "pki/gateway.crt";
    std::filesystem::path tls_key = "pki/gateway.key";
    std::filesystem::path signing_cert = "pki/signing.crt";
    std::filesystem::path signing_key = "pki/signing.key";
    unsigned principal_days = 365;

    std::filesystem::path policy = "policy.toml";
};

// Reads and validates the configuration. An unknown key, a wrong type or an out-of-range value
// is an error whose message names the file, the line and the key.
Result<Config> load_config(const std::filesystem::path& file);

// The configuration file `init` writes, with every default spelled out and explained.
std::string default_config_text(const std::string& listen_host, std::uint16_t listen_port,
                                const std::string& origin);
// An access-log origin: what checkpoints and the log key are named by.
bool is_log_origin(std::string_view text) noexcept;

// Runs the gateway until SIGINT or SIGTERM. Returns the process exit code; start-up problems are
// reported on stderr with a message an operator can act on.
int serve(const Config& config);

}  // namespace serambi::gateway
