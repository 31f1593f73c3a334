// `serambi init` and `serambi serve`: a deployment is a directory holding everything the gateway
// needs; init creates it whole or reports why it did not.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "certs/certs.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/messages.h"
#include "crypto/tlog.h"
#include "gateway/gateway.h"
#include "policies/policy.h"
#include "storage/store.h"

namespace serambi::cli {
namespace {

int fail(const std::string& message) {
    std::cerr << "serambi init: " << message << "\n";
    return 1;
}

bool is_ip(const std::string& text) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(text, ec);
    return !ec;
}

// Issues a key and certificate and writes both, the key 0600; `chain` (the intermediates between
// the certificate and the root) follows the certificate in its file, so peers that trust only the
// root can still build the path.
Status issue_pair(const certs::Authority& ca, const std::string& chain, const certs::IssueRequest& request,
                  const std::filesystem::path& cert_path, const std::filesystem::path& key_path) {
    auto key = certs::generate_private_key();
    if (!key) return key.error();
    auto pub = certs::public_key_of(*key);
    if (!pub) return pub.error();
    auto cert = certs::issue(ca, *pub, request);
    if (!cert) return cert.error();
    if (auto status = write_file(key_path, *key, 0600, Existing::refuse); !status) return status;
    return write_file(cert_path, *cert + chain, 0644, Existing::refuse);
}

bool inside(const std::filesystem::path& dir, const std::filesystem::path& file) {
    const auto d = std::filesystem::weakly_canonical(dir), f = std::filesystem::weakly_canonical(file);
    auto [end, _] = std::mismatch(d.begin(), d.end(), f.begin(), f.end());
    return end == d.end();
}

// The CA the deployment will issue from, decided and checked before anything is written, so that
// a refused import or a bad --root-key-out leaves no half deployment behind.
struct CaPlan {
    certs::Authority issuing;       // cert_pem is the bundle up to the root
    std::string chain;              // intermediates to send after an end-entity certificate
    crypto::SecretBuffer root_key;  // --intermediate only: written to --root-key-out
    std::string description;
};

Result<CaPlan> plan_ca(const InitOptions& options, const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    auto bad = [](std::string m) { return make_error(ErrorKind::invalid_argument, std::move(m)); };
    CaPlan plan;
    if (options.import_ca.empty() != options.import_ca_key.empty())
        return bad(tr("--import-ca and --import-ca-key go together"));
    if (options.intermediate != !options.root_key_out.empty())
        return bad(tr("--intermediate and --root-key-out go together: the root key must leave the deployment"));
    if (!options.import_ca.empty()) {
        if (options.intermediate) return bad(tr("--import-ca and --intermediate exclude each other"));
        // The bundle may hold a private key pasted in with the certificates: read as a secret too.
        auto text = crypto::read_secret_file(options.import_ca, 1 << 20);
        if (!text) return bad("--import-ca: " + text.error().message);
        auto key = crypto::read_secret_file(options.import_ca_key, 1 << 20);
        if (!key) return bad("--import-ca-key: " + key.error().message);
        auto parts = certs::split_bundle(*text);
        if (!parts) return bad("--import-ca: " + parts.error().message);
        for (const auto& part : *parts)
            plan.issuing.cert_pem += part;  // certificates only, never a key that came along
        plan.issuing.key_pem = std::move(*key);
        auto info = certs::check_authority(plan.issuing);
        if (!info) return bad("--import-ca: " + info.error().message);
        for (std::size_t i = 0; i + 1 < parts->size(); ++i) plan.chain += (*parts)[i];
        plan.description =
            tr("imported {} (until {}, {} certificate(s) to the root); certificates it issues end no "
               "later than it does",
               {info->subject, info->certificate.not_after, std::to_string(info->chain_length)});
        return plan;
    }
    if (options.intermediate) {
        const fs::path out = fs::absolute(options.root_key_out);
        std::error_code ec;
        if (fs::exists(fs::symlink_status(out, ec)))
            return bad(tr("--root-key-out {} exists (or is a link); refusing to overwrite it", {out.string()}));
        if (inside(dir, out))
            return bad(
                tr("--root-key-out must be outside the deployment directory: the point is that the gateway never "
                   "holds it"));
        if (!fs::is_directory(out.parent_path(), ec))
            return bad(tr("--root-key-out: {} is not a directory", {out.parent_path().string()}));
        auto root = certs::create_authority("Serambi Root CA " + options.province, options.ca_days);
        if (!root) return root.error();
        auto issuing =
            certs::create_intermediate(*root, "Serambi CA " + options.province, std::min(options.ca_days, 1825));
        if (!issuing) return issuing.error();
        auto parts = certs::split_bundle(issuing->cert_pem);
        if (!parts) return parts.error();
        plan.issuing = std::move(issuing).value();
        plan.chain = parts->front();
        plan.root_key = std::move(root->key_pem);
        plan.description = tr("intermediate CA under an offline root (root key in {})", {out.string()});
        return plan;
    }
    auto ca = certs::create_authority("Serambi CA " + options.province, options.ca_days);
    if (!ca) return ca.error();
    plan.issuing = std::move(ca).value();
    plan.description = tr("root CA, {} days", {std::to_string(options.ca_days)});
    return plan;
}

}  // namespace

int run_init(const InitOptions& options) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::absolute(options.dir);
    std::error_code ec;
    if (fs::exists(dir / "serambi.toml") || fs::exists(dir / "master.key") || fs::exists(dir / "serambi.db"))
        return fail(tr("{} already holds a deployment; refusing to overwrite it", {dir.string()}));
    const auto colon = options.listen.rfind(':');
    std::string host = colon == std::string::npos ? "" : options.listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    unsigned long port = 0;
    try {
        port = std::stoul(options.listen.substr(colon + 1));
    } catch (...) {
    }
    if (host.empty() || !is_ip(host) || port == 0 || port > 65535)
        return fail(tr("--listen must be IP:PORT, e.g. 127.0.0.1:8443 or 0.0.0.0:8443"));
    if (!policies::is_slug_like(options.admin))
        return fail(tr("--admin must be lowercase letters, digits and hyphens"));

    auto plan = plan_ca(options, dir);
    if (!plan) return fail(plan.error().message);
    auto ca = &plan->issuing;

    // A deployment is made whole or not at all: on any failure from here on, what this run
    // created goes: the directory if this run made it, else the entries it added to it; and the
    // root key, useless without the rest.
    struct Undo {
        fs::path dir, root_key;
        bool made_dir = false, done = false;
        std::vector<fs::path> added;
        ~Undo() {
            if (done) return;
            std::error_code ignored;
            if (made_dir) fs::remove_all(dir, ignored);
            for (const auto& p : added) fs::remove_all(p, ignored);
            if (!root_key.empty()) fs::remove(root_key, ignored);
        }
    } undo{dir, {}, false, false, {}};

    // First, so that a path that cannot take it (a symlink, read-only media) stops everything.
    if (!plan->root_key.empty()) {
        if (auto s = write_file(options.root_key_out, plan->root_key, 0600, Existing::refuse); !s)
            return fail("--root-key-out: " + s.error().message);
        undo.root_key = fs::absolute(options.root_key_out);
        plan->root_key = crypto::SecretBuffer();  // not needed again: wiped and released now
    }

    fs::create_directories(dir.parent_path(), ec);
    // mkdir itself says whether this run made the directory; no check-then-act gap.
    if (::mkdir(dir.c_str(), 0700) == 0) {
        undo.made_dir = true;
    } else if (errno != EEXIST || !fs::is_directory(dir, ec)) {
        return fail(tr("cannot create {}: {}", {dir.string(), std::strerror(errno)}));
    } else {
        for (const char* name : {"pki", "profiles", "serambi.toml", "master.key", "log.key", "policy.toml", "blobs",
                                 "serambi.db", "serambi.db-wal", "serambi.db-shm", "serambi.db-journal"})
            if (!fs::exists(fs::symlink_status(dir / name, ec))) undo.added.push_back(dir / name);
    }
    fs::create_directories(dir / "pki", ec);
    if (!ec) fs::create_directories(dir / "profiles", ec);
    if (ec) return fail(tr("cannot create {}: {}", {dir.string(), ec.message()}));
    fs::permissions(dir, fs::perms::owner_all, ec);
    fs::permissions(dir / "pki", fs::perms::owner_all, ec);

    // A log origin of its own, so that checkpoints of two deployments can never be confused.
    const std::string origin = "serambi.local/" + options.province + "/" + crypto::random_hex(4);
    const auto config_text = gateway::default_config_text(
        host, static_cast<std::uint16_t>(port),
        gateway::is_log_origin(origin) ? origin : "serambi.local/" + crypto::random_hex(4));
    if (auto s = write_file(dir / "serambi.toml", config_text, 0644, Existing::refuse); !s)
        return fail(s.error().message);
    auto config = gateway::load_config(dir / "serambi.toml");
    if (!config) return fail(config.error().message);

    if (auto s = storage::write_master_key(config->master_key); !s) return fail(s.error().message);
    std::string log_verifier_key;
    {
        auto log_signer = crypto::tlog::NoteSigner::generate(config->audit_origin);
        if (!log_signer) return fail(tr("access-log key: {}", {log_signer.error().message}));
        log_verifier_key = log_signer->verifier_key();
        std::string secret = log_signer->private_text();  // no newline appended: no unwiped copy
        auto written = write_file(config->log_key, secret, 0600, Existing::refuse);
        crypto::wipe(secret);
        if (!written) return fail(written.error().message);
    }
    if (auto s = write_file(config->ca_key, ca->key_pem, 0600, Existing::refuse); !s) return fail(s.error().message);
    if (auto s = write_file(config->ca_cert, ca->cert_pem, 0644, Existing::refuse); !s) return fail(s.error().message);

    certs::IssueRequest server;
    server.common_name = "serambi-gateway";
    server.usage = certs::Usage::server;
    server.days = 825;
    server.dns_names = {"localhost"};
    server.ip_addresses = {"127.0.0.1", "::1"};
    if (host != "0.0.0.0" && host != "::" && host != "127.0.0.1" && host != "::1") server.ip_addresses.push_back(host);
    for (const auto& name : options.public_names)
        (is_ip(name) ? server.ip_addresses : server.dns_names).push_back(name);
    if (auto s = issue_pair(*ca, plan->chain, server, config->tls_cert, config->tls_key); !s)
        return fail(tr("gateway certificate: {}", {s.error().message}));

    certs::IssueRequest signing;
    signing.common_name = certs::kSigningCommonName;
    signing.usage = certs::Usage::signing;
    signing.days = 1825;
    if (auto s = issue_pair(*ca, plan->chain, signing, config->signing_cert, config->signing_key); !s)
        return fail(tr("signing certificate: {}", {s.error().message}));

    if (auto s = write_file(config->policy, policies::default_policy_text(), 0644, Existing::refuse); !s)
        return fail(s.error().message);

    auto master = storage::read_master_key(config->master_key);
    if (!master) return fail(master.error().message);
    auto store = storage::Store::open({config->database, config->blobs, config->aead, true}, *master);
    if (!store) return fail(store.error().message);

    // The first admin: key, certificate and profile made here, since no gateway runs yet.
    auto key = certs::generate_private_key();
    if (!key) return fail(key.error().message);
    auto pub = certs::public_key_of(*key);
    certs::IssueRequest admin;
    admin.common_name = options.admin;
    admin.usage = certs::Usage::client;
    admin.uri = "serambi:principal:" + options.admin;
    admin.days = static_cast<int>(config->principal_days);
    auto cert = pub ? certs::issue(*ca, *pub, admin) : Result<std::string>(pub.error());
    if (!cert) return fail(cert.error().message);
    auto info = certs::inspect(*cert);
    if (!info) return fail(info.error().message);
    storage::Principal principal{options.admin,
                                 "Persandian administrator",
                                 {"admin"},
                                 info->serial_hex,
                                 info->fingerprint_sha256_hex,
                                 {},
                                 {},
                                 info->not_after,
                                 {}};
    if (auto s = (*store)->registry().add_principal(principal); !s) return fail(s.error().message);
    // The state file starts with the deployment, so that at every later start its absence is
    // itself worth an entry.
    if (auto s = storage::StateFile(config->state, {}).replace({}); !s)
        return fail(tr("state file: {}", {s.error().message}));
    const std::string dial_host = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host;
    const std::string url = "https://" +
                            (dial_host.find(':') != std::string::npos ? "[" + dial_host + "]" : dial_host) + ":" +
                            std::to_string(port);
    const auto profile_dir = dir / "profiles" / options.admin;
    if (auto status = write_profile(profile_dir, url, options.admin, *cert, *key, ca->cert_pem); !status)
        return fail(status.error().message);

    std::cout << tr("Created a Serambi deployment in {}", {dir.string()}) << "\n"
              << tr("  configuration   {}", {(dir / "serambi.toml").string()}) << "\n"
              << tr("  master key      {} (0600: back it up offline)", {config->master_key.string()}) << "\n"
              << tr("  access-log key  {} (0600; checkpoints name the log {})",
                    {config->log_key.string(), config->audit_origin})
              << "\n"
              << tr("  log verifier    {}\n"
                    "                  (give this to the auditors yourself; they check every checkpoint with it)",
                    {log_verifier_key})
              << "\n"
              << tr("  CA certificate  {}\n"
                    "                  {}",
                    {config->ca_cert.string(), plan->description})
              << "\n"
              << tr("  admin profile   {}", {profile_dir.string()}) << "\n"
              << (options.intermediate
                      ? tr("  ROOT CA KEY     {}\n"
                           "                  move it to offline media now and delete it here; it is needed only\n"
                           "                  to issue a new intermediate CA",
                           {fs::absolute(options.root_key_out).string()}) +
                            "\n"
                      : std::string())
              << tr("Start it with:    serambi serve --config {}", {(dir / "serambi.toml").string()}) << "\n";
    undo.done = true;
    return 0;
}

namespace {
// Both files written beside their targets first (AtomicFile: links at the targets are replaced,
// never followed), given the owner the current files have (the gateway runs as its own account),
// then renamed in, the key first. If the second rename fails, the old key is put back, so a
// failure leaves the old pair.
Status replace_pair(const std::filesystem::path& cert_path, const std::string& cert,
                    const std::filesystem::path& key_path, std::string_view key) {
    auto old_key = crypto::read_secret_file(key_path, 1 << 20);
    auto key_file = AtomicFile::create(key_path, 0600);
    if (!key_file) return key_file.error();
    auto cert_file = AtomicFile::create(cert_path, 0644);
    if (!cert_file) return cert_file.error();
    if (auto s = key_file->write(key); !s) return s;
    if (auto s = cert_file->write(cert); !s) return s;
    // On the descriptors, so that no name swapped in meanwhile is chowned instead.
    for (const AtomicFile* file : {&*key_file, &*cert_file}) {
        struct stat current {};
        if (::lstat(file->path().c_str(), &current) == 0 && ::fchown(file->fd(), current.st_uid, current.st_gid) != 0 &&
            errno != EPERM)
            return make_error(ErrorKind::io_error, tr("cannot give the new {} its owner: {}",
                                                      {file->path().string(), std::strerror(errno)}));
    }
    if (auto s = key_file->commit(); !s) return s;
    if (auto s = cert_file->commit(); !s) {
        if (old_key) (void)write_file(key_path, *old_key, 0600);
        return make_error(s.error().kind, tr("{} (the old pair stays)", {s.error().message}));
    }
    return {};
}

Result<std::string> renew_one(const certs::Authority& ca, const std::string& chain, const certs::IssueRequest& request,
                              const std::filesystem::path& cert_path, const std::filesystem::path& key_path) {
    auto key = certs::generate_private_key();
    if (!key) return key.error();
    auto pub = certs::public_key_of(*key);
    auto cert = pub ? certs::issue(ca, *pub, request) : Result<std::string>(pub.error());
    Status written = cert ? replace_pair(cert_path, *cert + chain, key_path, *key) : Status(cert.error());
    if (!written) return written.error();
    auto info = certs::inspect(*cert);
    if (!info) return info.error();
    return tr("serial {}, valid until {}", {info->serial_hex, info->not_after});
}
}  // namespace

int run_pki_renew_gateway(const GatewayCertOptions& options) {
    auto fail = [](const std::string& message) {
        std::cerr << "serambi pki renew-gateway: " << message << "\n";
        return 1;
    };
    if (!options.only.empty() && options.only != "tls" && options.only != "signing")
        return fail(tr("--only takes tls or signing"));
    for (const auto& name : options.public_names)
        if (name.empty() || name.size() > 253 || name.find_first_of(" ,/\\\"'") != std::string::npos)
            return fail(tr("--public-name '{}' is not a DNS name or an IP address", {name}));
    auto config = gateway::load_config(options.config);
    if (!config) return fail(config.error().message);
    auto ca_cert = storage::read_small_file(config->ca_cert, 1 << 20);
    if (!ca_cert) return fail(ca_cert.error().message);
    auto ca_key = crypto::read_secret_file(config->ca_key, 1 << 20);
    if (!ca_key) return fail(ca_key.error().message);
    certs::Authority ca{std::move(*ca_cert), std::move(*ca_key)};
    // One renewal at a time: two interleaved runs could leave a key beside another run's certificate.
    const int lock = ::open(config->tls_cert.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock < 0 || ::flock(lock, LOCK_EX | LOCK_NB) != 0) {
        if (lock >= 0) ::close(lock);
        return fail(tr("another renew-gateway is running on {}, or it cannot be opened",
                       {config->tls_cert.parent_path().string()}));
    }
    struct Unlock {
        int fd;
        ~Unlock() { ::close(fd); }
    } unlock{lock};
    // The CA must be usable as it is today (a bundle that is a path, a key that belongs to it).
    if (auto checked = certs::check_authority(ca); !checked)
        return fail(tr("the CA in {}: {}", {config->ca_cert.string(), checked.error().message}));
    auto bundle = certs::split_bundle(ca.cert_pem);
    if (!bundle) return fail(bundle.error().message);
    std::string chain;
    for (std::size_t i = 0; i + 1 < bundle->size(); ++i) chain += (*bundle)[i];

    if (options.only != "signing") {
        certs::IssueRequest server;
        server.common_name = "serambi-gateway";
        server.usage = certs::Usage::server;
        server.days = 825;
        // The names clients dial today stay; new ones are added.
        auto current = storage::read_small_file(config->tls_cert, 1 << 20);
        auto info = current ? certs::inspect(*current) : Result<certs::CertificateInfo>(current.error());
        if (!info)
            return fail(tr("the current TLS certificate {}: {}", {config->tls_cert.string(), info.error().message}));
        server.dns_names = info->dns_names;
        server.ip_addresses = info->ip_addresses;
        for (const auto& name : options.public_names) {
            auto& list = is_ip(name) ? server.ip_addresses : server.dns_names;
            if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
        }
        auto done = renew_one(ca, chain, server, config->tls_cert, config->tls_key);
        if (!done) return fail(tr("TLS certificate: {}", {done.error().message}));
        std::string names;
        for (const auto& n : server.dns_names) names += (names.empty() ? "" : ", ") + n;
        for (const auto& n : server.ip_addresses) names += (names.empty() ? "" : ", ") + n;
        std::cout << tr("TLS certificate     {}: {}\n"
                        "                    names: {}",
                        {config->tls_cert.string(), *done, names})
                  << "\n";
    }
    if (options.only != "tls") {
        certs::IssueRequest signing;
        signing.common_name = certs::kSigningCommonName;
        signing.usage = certs::Usage::signing;
        signing.days = 1825;
        auto done = renew_one(ca, chain, signing, config->signing_cert, config->signing_key);
        if (!done) return fail(tr("signing certificate: {}", {done.error().message}));
        std::cout << tr("signing certificate {}: {}", {config->signing_cert.string(), *done}) << "\n";
    }
    std::cout << tr("Put them in use with SIGHUP (systemctl reload serambi, or kill -HUP the gateway's pid);\n"
                    "the gateway's log then says 'reload: TLS and signing certificates replaced'.")
              << "\n";
    return 0;
}

int run_serve(const std::string& config_file, bool accept_rollback) {
    std::error_code ec;
    if (!std::filesystem::exists(config_file, ec)) {
        std::cerr << "serambi serve: "
                  << tr("{} does not exist: give --config DEPLOYMENT/serambi.toml (serambi init makes one), or link "
                        "the deployment's serambi.toml there",
                        {config_file})
                  << "\n";
        return 2;
    }
    auto config = gateway::load_config(config_file);
    if (!config) {
        std::cerr << "serambi serve: " << config.error().message << "\n";
        return 2;
    }
    return gateway::serve(*config, {accept_rollback});
}

}  // namespace serambi::cli
