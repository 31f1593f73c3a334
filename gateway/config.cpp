#include <arpa/inet.h>
#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

#include "crypto/tlog.h"
#include "gateway/gateway.h"
#include "gateway/hook_client.h"
#include "gateway/mail.h"
#include "gateway/portal.h"
#include "witness/witness.h"

namespace serambi::gateway {
namespace {

Error bad(std::string message) { return make_error(ErrorKind::invalid_argument, std::move(message)); }

std::string at(const std::filesystem::path& file, const toml::node& node, const std::string& key) {
    std::ostringstream out;
    out << file.string() << ":" << node.source().begin.line << ": " << key;
    return out.str();
}

struct Reader {
    const std::filesystem::path& file;
    const std::filesystem::path base;

    Status integer(const toml::node& node, const std::string& key, std::uint64_t min, std::uint64_t max,
                   auto& out) const {
        // Exact: toml++ would convert a float such as 1e300 to an integer with undefined behaviour.
        const auto v = node.value_exact<std::int64_t>();
        if (!node.is_integer() || !v || *v < 0 || static_cast<std::uint64_t>(*v) < min ||
            static_cast<std::uint64_t>(*v) > max)
            return bad(at(file, node, key) + ": expected an integer from " + std::to_string(min) + " to " +
                       std::to_string(max));
        out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
        return {};
    }
    Status path(const toml::node& node, const std::string& key, std::filesystem::path& out) const {
        const auto v = node.value<std::string>();
        if (!node.is_string() || !v || v->empty() || v->find('\0') != std::string::npos)
            return bad(at(file, node, key) + ": expected a non-empty path");
        out = std::filesystem::path(*v).is_absolute() ? std::filesystem::path(*v) : base / *v;
        return {};
    }
};

// "HOST:PORT", the host an IPv6 literal in brackets or not.
Status parse_host_port(const std::filesystem::path& file, const toml::node& node, const std::string& key,
                       std::string& host_out, std::uint16_t& port_out) {
    const auto v = node.value<std::string>();
    if (!v) return bad(at(file, node, key) + ": expected \"HOST:PORT\"");
    const auto colon = v->rfind(':');
    if (colon == std::string::npos || colon == 0) return bad(at(file, node, key) + ": expected \"HOST:PORT\"");
    std::string host = v->substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port = v->substr(colon + 1);
    unsigned long number = 0;
    try {
        std::size_t used = 0;
        number = std::stoul(port, &used);
        if (used != port.size()) number = 0;
    } catch (...) {
        number = 0;
    }
    if (number == 0 || number > 65535) return bad(at(file, node, key) + ": the port must be 1 to 65535");
    host_out = host;
    port_out = static_cast<std::uint16_t>(number);
    return {};
}

Status parse_listen(const std::filesystem::path& file, const toml::node& node, Config& config) {
    return parse_host_port(file, node, "server.listen", config.listen_host, config.listen_port);
}

// An address literal on this host, or the name that always means it; never a name that merely
// begins like one ("127.example.com").
bool is_loopback_host(const std::string& host) {
    if (host == "localhost") return true;
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// What no single key can say wrong: an email relay needs a sender, a plain connection only to a
// relay on this host, and a login only with a password and never in the clear.
Status check_email(const std::filesystem::path& file, const Config& config) {
    const auto where = file.string() + ": [email] ";
    if (config.email_relay_host.empty()) return {};
    if (config.email_from.empty()) return bad(where + "from: a relay needs the sender's address");
    if (config.email_security == "none" && !is_loopback_host(config.email_relay_host))
        return bad(where + "security: \"none\" is only for a relay on this host (127.0.0.1, ::1, localhost); " +
                   "use \"starttls\" or \"tls\"");
    if (!config.email_username.empty() && config.email_security == "none")
        return bad(where + "username: a password is never sent without TLS");
    if (!config.email_username.empty() && config.email_password_file.empty())
        return bad(where + "username: needs password_file");
    // Where notices may go is the operator's choice, made explicitly: an empty list would
    // otherwise let any principal have them mailed anywhere.
    if (config.email_allowed_domains.empty())
        return bad(where + "allowed_domains: name the domains notices may be sent to, such as " +
                   "[\"go.id\", \"bi.go.id\"] (or [\"*\"] for any)");
    return {};
}

}  // namespace

Result<Config> load_config(const std::filesystem::path& file) {
    Config config;
    config.config_file = std::filesystem::absolute(file);
    // /etc/serambi/serambi.toml may be a link to the deployment's own: its paths are relative to
    // the deployment, where the file really is.
    if (std::error_code ec; std::filesystem::is_symlink(config.config_file, ec)) {
        auto real = std::filesystem::canonical(config.config_file, ec);
        if (!ec) config.config_file = real;
    }
    const auto base = config.config_file.parent_path();
    Reader r{config.config_file, base};
    // Path defaults are relative to the deployment directory.
    for (auto* p :
         {&config.database, &config.blobs, &config.state, &config.master_key, &config.log_key, &config.ca_cert,
          &config.ca_key, &config.tls_cert, &config.tls_key, &config.signing_cert, &config.signing_key, &config.policy})
        *p = base / *p;

    toml::table table;
    try {
        table = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        std::ostringstream out;
        out << file.string() << ":" << e.source().begin.line << ": " << e.description();
        return bad(out.str());
    }

    for (const auto& [section_key, section_node] : table) {
        const std::string section(section_key.str());
        if (section == "witness" && section_node.is_array_of_tables()) {
            for (const auto& item : *section_node.as_array()) {
                WitnessTarget w;
                for (const auto& [entry_key, node] : *item.as_table()) {
                    const std::string key = "witness." + std::string(entry_key.str());
                    const auto v = node.value<std::string>();
                    if (key == "witness.url" && v && witness::is_witness_url(*v))
                        w.url = *v;
                    else if (key == "witness.url")
                        return bad(at(file, node, key) +
                                   ": expected \"http://HOST:PORT\" (the witness's submission prefix)");
                    else if (key == "witness.key" && v &&
                             !crypto::tlog::verifier_key_name(*v, crypto::tlog::KeyType::cosignature).empty()) {
                        w.key = *v;
                        w.name = crypto::tlog::verifier_key_name(*v, crypto::tlog::KeyType::cosignature);
                    } else if (key == "witness.key")
                        return bad(at(file, node, key) +
                                   ": expected the witness's verifier key (NAME+HASH+BASE64, from its witness.vkey)");
                    else
                        return bad(at(file, node, key) + ": unknown key");
                }
                if (w.url.empty() || w.key.empty()) return bad(at(file, item, "[[witness]]") + ": needs url and key");
                for (const auto& other : config.witnesses)
                    if (other.name == w.name)
                        return bad(at(file, item, "[[witness]]") + ": witness " + w.name + " is named twice");
                config.witnesses.push_back(std::move(w));
            }
            continue;
        }
        const auto* entries = section_node.as_table();
        if (entries == nullptr) return bad(at(file, section_node, section) + ": unknown key");
        for (const auto& [entry_key, node] : *entries) {
            const std::string name(entry_key.str());
            const std::string key = section + "." + name;
            Status s;
            if (key == "server.listen")
                s = parse_listen(file, node, config);
            else if (key == "server.threads")
                s = r.integer(node, key, 1, 64, config.threads);
            else if (key == "limits.max_package_bytes")
                s = r.integer(node, key, 1, 1ULL << 40, config.max_package_bytes);
            else if (key == "limits.max_json_bytes")
                s = r.integer(node, key, 1024, 16ULL << 20, config.max_json_bytes);
            else if (key == "limits.max_header_bytes")
                s = r.integer(node, key, 1024, 1ULL << 20, config.max_header_bytes);
            else if (key == "limits.handshake_timeout_seconds")
                s = r.integer(node, key, 1, 600, config.handshake_timeout_seconds);
            else if (key == "limits.idle_timeout_seconds")
                s = r.integer(node, key, 1, 3600, config.idle_timeout_seconds);
            else if (key == "limits.io_timeout_seconds")
                s = r.integer(node, key, 1, 3600, config.io_timeout_seconds);
            else if (key == "limits.max_connections")
                s = r.integer(node, key, 1, 100000, config.max_connections);
            else if (key == "limits.max_connections_per_principal")
                s = r.integer(node, key, 1, 100000, config.max_connections_per_principal);
            else if (key == "limits.max_pending_handshakes")
                s = r.integer(node, key, 1, 100000, config.max_pending_handshakes);
            else if (key == "limits.max_pending_handshakes_per_address")
                s = r.integer(node, key, 1, 100000, config.max_pending_handshakes_per_address);
            else if (key == "limits.min_transfer_bytes_per_second")
                s = r.integer(node, key, 0, 1ULL << 30, config.min_transfer_bytes_per_second);
            else if (key == "storage.database")
                s = r.path(node, key, config.database);
            else if (key == "storage.blobs")
                s = r.path(node, key, config.blobs);
            else if (key == "storage.state")
                s = r.path(node, key, config.state);
            else if (key == "storage.reserve_bytes")
                s = r.integer(node, key, 0, 1ULL << 50, config.reserve_bytes);
            else if (key == "storage.aead") {
                const auto v = node.value<std::string>();
                auto aead = v ? crypto::aead_from_name(*v) : Result<crypto::Aead>(bad(""));
                if (!aead)
                    s = bad(at(file, node, key) + ": expected \"aes-256-gcm\" or \"chacha20-poly1305\"");
                else
                    config.aead = *aead;
            } else if (key == "keys.master_key")
                s = r.path(node, key, config.master_key);
            else if (key == "keys.log_key")
                s = r.path(node, key, config.log_key);
            else if (key == "audit.origin") {
                const auto v = node.value<std::string>();
                if (!v || !is_log_origin(*v))
                    s = bad(at(file, node, key) +
                            ": expected 1 to 128 of letters, digits and . _ / : - (like example.go.id/serambi)");
                else
                    config.audit_origin = *v;
            } else if (key == "audit.refused_handshake_entries_per_minute")
                s = r.integer(node, key, 10, 1000000, config.refused_handshake_entries_per_minute);
            else if (key == "audit.refused_handshake_entries_per_second") {
                // Written by init before the budget became per minute; still accepted, so that an
                // existing configuration starts, and read as the per-minute budget it meant.
                unsigned per_second = 0;
                s = r.integer(node, key, 1, 100000, per_second);
                if (s) config.refused_handshake_entries_per_minute = std::clamp(per_second * 6U, 10U, 1000000U);
            } else if (key == "pki.ca_cert")
                s = r.path(node, key, config.ca_cert);
            else if (key == "pki.ca_key")
                s = r.path(node, key, config.ca_key);
            else if (key == "pki.tls_cert")
                s = r.path(node, key, config.tls_cert);
            else if (key == "pki.tls_key")
                s = r.path(node, key, config.tls_key);
            else if (key == "pki.signing_cert")
                s = r.path(node, key, config.signing_cert);
            else if (key == "pki.signing_key")
                s = r.path(node, key, config.signing_key);
            else if (key == "pki.principal_days")
                s = r.integer(node, key, 1, 3650, config.principal_days);
            else if (key == "policy.file")
                s = r.path(node, key, config.policy);
            else if (key == "portal.enabled") {
                const auto v = node.value<bool>();
                if (!v || !node.is_boolean())
                    s = bad(at(file, node, key) + ": expected true or false");
                else
                    config.portal_enabled = *v;
            } else if (key == "portal.time_zone") {
                const auto v = node.value<std::string>();
                if (!v || !is_time_zone(*v))
                    s = bad(at(file, node, key) + ": expected a time zone name such as \"Asia/Jayapura\" (WIT), " +
                            "\"Asia/Makassar\" (WITA), \"Asia/Jakarta\" (WIB) or \"UTC\"");
                else
                    config.portal_time_zone = *v;
            } else if (key == "log.format" || key == "log.level") {
                const auto v = node.value<std::string>();
                const bool format = key == "log.format";
                if (format && v && (*v == "text" || *v == "json"))
                    config.log_format = *v;
                else if (!format && v && (*v == "info" || *v == "warning" || *v == "error"))
                    config.log_level = *v;
                else
                    s = bad(at(file, node, key) + (format ? ": expected \"text\" or \"json\""
                                                          : ": expected \"info\", \"warning\" or \"error\""));
            } else if (key == "uploads.expire_hours")
                s = r.integer(node, key, 1, 24 * 30, config.uploads_expire_hours);
            else if (key == "uploads.max_open_per_principal")
                s = r.integer(node, key, 1, 1000, config.uploads_max_open);
            else if (key == "uploads.max_bytes_per_principal")
                s = r.integer(node, key, 1, 1ULL << 44, config.uploads_max_bytes);
            else if (key == "webhooks.ca_file") {
                // Empty: the system's trust store alone.
                if (const auto v = node.value<std::string>(); v && v->empty())
                    config.webhook_ca_file.clear();
                else
                    s = r.path(node, key, config.webhook_ca_file);
            } else if (key == "webhooks.allowed_networks") {
                const auto* list = node.as_array();
                config.webhook_allowed_networks.clear();
                if (list == nullptr || list->size() > 64)
                    s = bad(at(file, node, key) + ": expected a list of networks");
                for (std::size_t i = 0; s && list != nullptr && i < list->size(); ++i) {
                    const auto v = (*list)[i].value<std::string>();
                    if (!v || !(*list)[i].is_string() || !is_network(*v))
                        s = bad(at(file, node, key) + ": expected networks such as \"10.20.0.0/16\" or \"fd00::/8\"");
                    else
                        config.webhook_allowed_networks.push_back(*v);
                }
            } else if (key == "webhooks.retry_seconds") {
                const auto* list = node.as_array();
                config.webhook_retry_seconds.clear();
                if (list == nullptr || list->size() > 16)
                    s = bad(at(file, node, key) + ": expected a list of at most 16 waits in seconds");
                for (std::size_t i = 0; s && list != nullptr && i < list->size(); ++i) {
                    unsigned wait = 0;
                    s = r.integer((*list)[i], key, 1, 7 * 86400, wait);
                    config.webhook_retry_seconds.push_back(wait);
                }
            } else if (key == "webhooks.timeout_seconds")
                s = r.integer(node, key, 1, 120, config.webhook_timeout_seconds);
            else if (key == "webhooks.scan_seconds")
                s = r.integer(node, key, 1, 86400, config.webhook_scan_seconds);
            else if (key == "email.relay") {
                std::uint16_t port = 0;
                config.email_relay_host.clear();
                if (const auto v = node.value<std::string>(); !(v && v->empty())) {
                    s = parse_host_port(file, node, key, config.email_relay_host, port);
                    config.email_relay_port = std::to_string(port);
                }
            } else if (key == "email.security") {
                const auto v = node.value<std::string>();
                if (!v || (*v != "starttls" && *v != "tls" && *v != "none"))
                    s = bad(at(file, node, key) + ": expected \"starttls\", \"tls\" or \"none\"");
                else
                    config.email_security = *v;
            } else if (key == "email.from") {
                const auto v = node.value<std::string>();
                auto address = v ? parse_mail_url("mailto:" + *v) : Result<std::string>(bad(""));
                if (v && v->empty())
                    config.email_from.clear();
                else if (!address)
                    s = bad(at(file, node, key) + ": expected an address such as serambi@diskominfo.malutprov.go.id");
                else
                    config.email_from = *address;
            } else if (key == "email.username") {
                const auto v = node.value<std::string>();
                if (!v || v->size() > 256 ||
                    std::any_of(v->begin(), v->end(), [](char c) { return c < 0x20 || c == 0x7f; }))
                    s = bad(at(file, node, key) + ": expected a user name without control characters");
                else
                    config.email_username = *v;
            } else if (key == "email.password_file" || key == "email.ca_file") {
                auto& path = key == "email.ca_file" ? config.email_ca_file : config.email_password_file;
                if (const auto v = node.value<std::string>(); v && v->empty())
                    path.clear();
                else
                    s = r.path(node, key, path);
            } else if (key == "email.allowed_domains") {
                const auto* list = node.as_array();
                config.email_allowed_domains.clear();
                if (list == nullptr || list->size() > 64) s = bad(at(file, node, key) + ": expected a list of domains");
                for (std::size_t i = 0; s && list != nullptr && i < list->size(); ++i) {
                    const auto v = (*list)[i].value<std::string>();
                    if (!v || !(*list)[i].is_string() || (*v != "*" && !is_mail_domain(*v)))
                        s = bad(at(file, node, key) + ": expected domains such as \"go.id\" or \"bi.go.id\", or \"*\"");
                    else
                        config.email_allowed_domains.push_back(*v);
                }
            } else if (key == "email.timeout_seconds")
                s = r.integer(node, key, 1, 300, config.email_timeout_seconds);
            else
                s = bad(at(file, node, key) + ": unknown key");
            if (!s) return s.error();
        }
    }
    if (auto email = check_email(config.config_file, config); !email) return email.error();
    return config;
}

bool is_log_origin(std::string_view text) noexcept {
    return !text.empty() && text.size() <= 128 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '/' || c == ':' || c == '-';
    });
}

std::string default_config_text(const std::string& listen_host, std::uint16_t listen_port, const std::string& origin) {
    const bool v6 = listen_host.find(':') != std::string::npos;
    const std::string host = v6 ? "[" + listen_host + "]" : listen_host;
    return R"(# Serambi gateway configuration. Relative paths are relative to this file's directory.
# Every key may be left out; the value shown is then the default.

[server]
listen = ")" +
           host + ":" + std::to_string(listen_port) + R"("
threads = 4                        # worker threads serving connections

[limits]
max_package_bytes = 8589934592     # largest package payload accepted (8 GiB)
max_json_bytes = 65536             # largest JSON request body
max_header_bytes = 16384           # largest request header block
handshake_timeout_seconds = 10     # TLS handshake must finish within this
idle_timeout_seconds = 60          # a kept-alive connection may wait this long for a request
io_timeout_seconds = 60            # each read or write of a body must progress within this
max_connections = 1000             # authenticated connections; when full, the longest idle is closed
max_connections_per_principal = 64 # the same, for each principal's own connections
max_pending_handshakes = 256       # connections still in the TLS handshake, in all
max_pending_handshakes_per_address = 16   # and from one IP address
min_transfer_bytes_per_second = 1024      # a body or download slower than this on average is cut

[storage]
database = "serambi.db"            # SQLCipher, keyed from the master key
blobs = "blobs"                    # sealed package payloads
state = "gateway.state"            # last published checkpoint and revoked serials: keep it with the
                                   # deployment, NOT in the database backup (it catches an old restore)
aead = "aes-256-gcm"               # or "chacha20-poly1305"; existing blobs keep their own
reserve_bytes = 134217728          # refuse a push (507) that would leave less free disk than this

[keys]
master_key = "master.key"          # 0600; back it up offline: without it nothing can be read
log_key = "log.key"                # 0600; signs the access log's checkpoints (Ed25519)

[audit]
origin = ")" +
           origin + R"("   # names this access log in every checkpoint; never change it once in use
refused_handshake_entries_per_minute = 120  # beyond this, refused handshakes are counted in one entry

[pki]
ca_cert = "pki/ca.crt"
ca_key = "pki/ca.key"
tls_cert = "pki/gateway.crt"
tls_key = "pki/gateway.key"
signing_cert = "pki/signing.crt"
signing_key = "pki/signing.key"
principal_days = 365               # validity of certificates issued to principals

[policy]
file = "policy.toml"

[portal]
enabled = true                     # the web portal at https://HOST:PORT/ (same certificates, same policy)
time_zone = "Asia/Jayapura"        # times in the portal: Asia/Jayapura (WIT), Asia/Makassar (WITA), Asia/Jakarta (WIB)

[log]
format = "text"                    # the server log on standard error: "text", or "json" (one object a line)
level = "info"                     # "info" (every request), "warning" or "error"

[uploads]
expire_hours = 24                  # an unfinished resumable upload is removed this long after it began
max_open_per_principal = 16        # unfinished uploads each principal may hold at once
max_bytes_per_principal = 34359738368   # and their declared sizes together (32 GiB)

[webhooks]
ca_file = ""                       # extra trust anchors (PEM) for receivers under a private CA; "" = the system's only
allowed_networks = []              # receivers may not resolve to loopback, private or link-local addresses unless
                                   # a network here holds them, e.g. ["10.20.0.0/16"] for the province's own network
retry_seconds = [5, 300, 1800, 7200, 18000, 36000]   # waits before each retry of a failed delivery
timeout_seconds = 10               # one attempt: connect, TLS, request and answer
scan_seconds = 60                  # how often approvals and certificates are checked for an approaching end

[email]
relay = ""                         # the SMTP relay for notices by email, "HOST:PORT" (e.g. "mail.malutprov.go.id:587"); "" = no email
security = "starttls"              # "starttls", "tls" (port 465), or "none" (only a relay on this host)
from = ""                          # the sender, e.g. "serambi@diskominfo.malutprov.go.id"
username = ""                      # a login at the relay, sent only inside TLS; "" = none
password_file = ""                 # the login's password, alone in a file readable only by the gateway
ca_file = ""                       # extra trust anchors (PEM) for the relay's certificate; "" = the system's only
allowed_domains = []               # recipients' domains and those below them, e.g. ["go.id", "bi.go.id"]; ["*"] = any
timeout_seconds = 30               # one sending: connect, TLS, login and message
)";
}

}  // namespace serambi::gateway
