// The Serambi gateway: configuration, and the mutual-TLS HTTP server that carries packages
// between producers and readers. Everything a request may do is decided by the policy in
// `policies/`; everything it stores goes through `storage/`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "crypto/crypto.h"

namespace serambi::gateway {

// A witness the gateway submits its checkpoints to ([[witness]] in serambi.toml).
struct WitnessTarget {
    std::string url;   // http://host:port[/prefix]: the witness's submission prefix
    std::string key;   // its verifier key (a cosignature/v1 vkey), which names it
    std::string name;  // from the key
};

// Parsed once from serambi.toml; every value has a safe default. Relative paths are resolved
// against the directory of the configuration file.
struct Config {
    std::filesystem::path config_file;

    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8443;
    unsigned threads = 4;

    std::uint64_t max_package_bytes = 8ULL << 30;  // 8 GiB
    // A push or upload that would leave less free space than this on the blob store's file
    // system is refused (507) before it starts: the database and its log need room to commit.
    std::uint64_t reserve_bytes = 128ULL << 20;
    std::uint64_t max_json_bytes = 64 * 1024;
    std::uint32_t max_header_bytes = 16 * 1024;
    unsigned handshake_timeout_seconds = 10;
    unsigned idle_timeout_seconds = 60;
    unsigned io_timeout_seconds = 60;
    // Authenticated connections: in all, and per principal. When full, the connection idle the
    // longest is closed to make room; only if none is idle is the newcomer refused (503).
    unsigned max_connections = 1000;
    unsigned max_connections_per_principal = 64;
    // Connections still in the TLS handshake hold no slot; these bound them instead, so that
    // idle sockets without a certificate cannot lock anyone out.
    unsigned max_pending_handshakes = 256;
    unsigned max_pending_handshakes_per_address = 16;
    // After the first io_timeout seconds, a body or a download must average at least this many
    // bytes a second, or the connection is closed (a trickle cannot pin a slot for ever).
    std::uint64_t min_transfer_bytes_per_second = 1024;

    std::filesystem::path database = "serambi.db";
    std::filesystem::path blobs = "blobs";
    // The last published checkpoint and the revoked serials, outside the database: a database
    // behind them is refused at start.
    std::filesystem::path state = "gateway.state";
    crypto::Aead aead = crypto::Aead::aes_256_gcm;
    std::filesystem::path master_key = "master.key";
    std::filesystem::path log_key = "log.key";  // Ed25519 key that signs access-log checkpoints

    // Names the access log in its checkpoints (C2SP origin line) and its key.
    std::string audit_origin = "serambi.local/log";
    // Refused handshakes get an entry each up to this many a minute (a tenth of it per
    // address); beyond it they are counted, and each minute's count is one entry.
    unsigned refused_handshake_entries_per_minute = 120;

    std::filesystem::path ca_cert = "pki/ca.crt";
    std::filesystem::path ca_key = "pki/ca.key";
    std::filesystem::path tls_cert = "pki/gateway.crt";
    std::filesystem::path tls_key = "pki/gateway.key";
    std::filesystem::path signing_cert = "pki/signing.crt";
    std::filesystem::path signing_key = "pki/signing.key";
    unsigned principal_days = 365;

    std::filesystem::path policy = "policy.toml";

    // The web portal on the same listener (/ and /assets/); the API answers either way.
    bool portal_enabled = true;
    // The deployment's time zone, in which the portal shows times (UTC on hover); an IANA name.
    std::string portal_time_zone = "Asia/Jayapura";
    // The server log on standard error: "text" (a timestamp and the message) or "json" (one object
    // a line: time, level, message), and the least level written: "info" (every request),
    // "warning", or "error".
    std::string log_format = "text";
    std::string log_level = "info";

    // Resumable uploads (tus): how long an unfinished one is kept, and how many unfinished ones,
    // of how many bytes in all, each principal may hold.
    unsigned uploads_expire_hours = 24;
    std::size_t uploads_max_open = 16;
    std::uint64_t uploads_max_bytes = 32ULL << 30;  // 32 GiB

    // Webhooks: extra trust anchors for receivers (the system's are always used), the networks
    // exempt from the limits that keep receivers off private and loopback addresses, the waits
    // before each retry (a delivery is tried one time more than there are waits), the time one
    // attempt may take, and how often approvals and certificates are checked for an approaching end.
    std::filesystem::path webhook_ca_file;
    std::vector<std::string> webhook_allowed_networks;
    std::vector<unsigned> webhook_retry_seconds{5, 300, 1800, 7200, 18000, 36000};
    unsigned webhook_timeout_seconds = 10;
    unsigned webhook_scan_seconds = 60;

    // Email notices (hooks whose URL is mailto:): the operator's SMTP relay ("" turns email off),
    // how the connection to it is protected ("starttls", "tls" from the first byte, or "none",
    // which only a relay on this host may use), the sender's address, an optional login (the
    // password in a file of its own), extra trust anchors, the domains recipients may be at
    // (empty: any), and the time one sending may take.
    std::string email_relay_host;
    std::string email_relay_port;
    std::string email_security = "starttls";
    std::string email_from;
    std::string email_username;
    std::filesystem::path email_password_file;
    std::filesystem::path email_ca_file;
    std::vector<std::string> email_allowed_domains;
    unsigned email_timeout_seconds = 30;

    // Every new checkpoint goes to these witnesses for their cosignatures.
    std::vector<WitnessTarget> witnesses;
};

// Reads and validates the configuration. An unknown key, a wrong type or an out-of-range value
// is an error whose message names the file, the line and the key.
Result<Config> load_config(const std::filesystem::path& file);

// The configuration file `init` writes, with every default spelled out and explained.
std::string default_config_text(const std::string& listen_host, std::uint16_t listen_port, const std::string& origin);
// An access-log origin: what checkpoints and the log key are named by.
bool is_log_origin(std::string_view text) noexcept;

struct ServeOptions {
    // Start although the database is behind the state file (an older copy was restored): the
    // decision is an access-log entry, revoked certificates stay revoked, and the state file is
    // rewritten from the database.
    bool accept_rollback = false;
};

// `serambi keys rotate-log`, with the gateway stopped: a new access-log key, a hand-over in the
// log signed by both keys, then the new key in place of the old (overwritten). `progress` is told
// each step as it is done (1 to 4; 0 for a rotation that stopped earlier and was settled first).
Status rotate_log_key(const Config& config, const std::function<void(int step, const std::string& done)>& progress);

// Runs the gateway until SIGINT or SIGTERM. Returns the process exit code; start-up problems are
// reported on stderr with a message an operator can act on.
int serve(const Config& config, const ServeOptions& options = {});

}  // namespace serambi::gateway
