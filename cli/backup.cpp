// serambi backup and serambi restore: a copy of a running gateway that can be checked file by file
// and put back on a fresh machine, and that says so when what it puts back is older than what the
// gateway already published.
//
// A backup is a directory laid out like the deployment it came from (serambi.toml, policy.toml,
// pki/*.crt, serambi.db, blobs/XX/ID.blob), plus:
//   checkpoint        the newest signed checkpoint of the copied access log
//   secrets/*.age     with --include-secrets only: each secret key file, age-encrypted
//   backup.json       what the backup holds: every file's path, size and SHA-256, the log's size,
//                     its verifier key, the revoked certificate serials
//   backup.json.sig   a detached CMS signature over backup.json by the gateway's signing key
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <set>

#include "base/time.h"
#include "certs/certs.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "crypto/age.h"
#include "crypto/tlog.h"
#include "gateway/gateway.h"
#include "storage/store.h"

namespace serambi::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kFormat = "serambi-backup/1";
constexpr std::size_t kManifestLimit = 256u << 20;

Error bad(const std::string& message) { return make_error(ErrorKind::invalid_argument, message); }

// A path inside the deployment, as the backup names it: relative, without "..", the same on the
// way back.
Result<fs::path> inside(const fs::path& base, const fs::path& path) {
    const auto relative = fs::weakly_canonical(path).lexically_relative(fs::weakly_canonical(base));
    if (relative.empty() || relative.is_absolute() || *relative.begin() == "..")
        return bad(path.string() + " is outside the deployment directory " + base.string() +
                   "; serambi backup copies deployments whose files all live under the directory of "
                   "serambi.toml (the layout serambi init makes)");
    return relative;
}

// A name from a manifest, before it is joined to a directory: relative, plain components only.
bool safe_relative(const std::string& text) {
    if (text.empty() || text.size() > 4096 || text.front() == '/') return false;
    const fs::path p(text);
    for (const auto& part : p) {
        const auto s = part.string();
        if (s.empty() || s == "." || s == ".." || s.find('\0') != std::string::npos) return false;
    }
    return p.lexically_normal().string() == text;
}

// Creates `dir` and any missing folder above it, each 0700: a backup holds the whole database.
Status make_dirs(const fs::path& dir) {
    std::error_code ec;
    if (dir.empty() || fs::is_directory(dir, ec)) return {};
    if (auto s = make_dirs(dir.parent_path()); !s) return s;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return make_error(ErrorKind::io_error, "cannot create " + dir.string() + ": " + std::strerror(errno));
    return {};
}

struct Copied {
    std::uint64_t size = 0;
    std::string sha256;
};

// Copies `from` to the new file `to` (mode `mode`), fsynced, hashing what was written.
Result<Copied> copy_file(const fs::path& from, const fs::path& to, unsigned mode) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) return make_error(ErrorKind::io_error, "cannot read " + from.string() + ": " + std::strerror(errno));
    if (auto s = make_dirs(to.parent_path()); !s) {
        ::close(in);
        return s.error();
    }
    auto out = AtomicFile::create(to, mode, Existing::refuse);
    if (!out) {
        ::close(in);
        return out.error();
    }
    crypto::Sha256 digest;
    Copied copied;
    std::vector<std::uint8_t> buffer(1 << 20);
    for (;;) {
        const ssize_t n = ::read(in, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(in);
            return make_error(ErrorKind::io_error, "cannot read " + from.string() + ": " + std::strerror(errno));
        }
        if (n == 0) break;
        const crypto::ByteView piece(buffer.data(), static_cast<std::size_t>(n));
        digest.update(piece);
        copied.size += static_cast<std::uint64_t>(n);
        if (auto s = out->write(piece); !s) {
            ::close(in);
            return s.error();
        }
    }
    ::close(in);
    if (auto s = out->commit(); !s) return s.error();
    copied.sha256 = crypto::to_hex(digest.finish());
    return copied;
}

Result<Copied> hash_file(const fs::path& file) {
    const int in = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) return make_error(ErrorKind::not_found, std::strerror(errno));
    crypto::Sha256 digest;
    Copied seen;
    std::vector<std::uint8_t> buffer(1 << 20);
    for (;;) {
        const ssize_t n = ::read(in, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(in);
            return make_error(ErrorKind::io_error, std::strerror(errno));
        }
        if (n == 0) break;
        digest.update({buffer.data(), static_cast<std::size_t>(n)});
        seen.size += static_cast<std::uint64_t>(n);
    }
    ::close(in);
    seen.sha256 = crypto::to_hex(digest.finish());
    return seen;
}

// Encrypts a secret key file to the recipients as `to`, never writing its plaintext anywhere.
Result<Copied> encrypt_file(const fs::path& from, const fs::path& to,
                            std::span<const crypto::age::Recipient> recipients) {
    auto secret = crypto::read_secret_file(from, 1 << 20);
    if (!secret) return secret.error();
    auto encryptor = crypto::age::Encryptor::create(recipients);
    if (!encryptor) return encryptor.error();
    crypto::Bytes sealed = encryptor->header();
    if (auto s = encryptor->update(crypto::as_bytes(secret->view()), sealed); !s) return s.error();
    if (auto s = encryptor->finish(sealed); !s) return s.error();
    if (auto s = make_dirs(to.parent_path()); !s) return s.error();
    if (auto s = write_file(to, std::string_view(reinterpret_cast<const char*>(sealed.data()), sealed.size()), 0600,
                            Existing::refuse);
        !s)
        return s.error();
    return Copied{sealed.size(), crypto::to_hex(crypto::Sha256::of(sealed))};
}

// The files of a deployment a backup copies as they are, by role.
struct Part {
    const char* role;
    fs::path path;
};

}  // namespace

int run_backup(const BackupOptions& options) {
    const std::string command = "backup";
    auto config = gateway::load_config(options.config);
    if (!config) return report(command, config.error());
    const fs::path base = config->config_file.parent_path();
    if (options.include_secrets == options.recipients.empty())
        return report(command,
                      bad(options.include_secrets ? "--include-secrets needs --to age1… (the backup's secret keys are "
                                                    "encrypted to that recipient, never written in the clear)"
                                                  : "--to is only for --include-secrets"));
    std::vector<crypto::age::Recipient> recipients;
    for (const auto& text : options.recipients) {
        auto r = crypto::age::parse_recipient(text);
        if (!r) return report(command, bad("'" + text + "' is not an age X25519 recipient (age1…)"));
        recipients.push_back(*r);
    }

    const std::vector<Part> plain = {{"config", config->config_file},
                                     {"policy", config->policy},
                                     {"ca-certificate", config->ca_cert},
                                     {"tls-certificate", config->tls_cert},
                                     {"signing-certificate", config->signing_cert}};
    const std::vector<Part> secret = {{"master-key", config->master_key},
                                      {"log-key", config->log_key},
                                      {"ca-key", config->ca_key},
                                      {"tls-key", config->tls_key},
                                      {"signing-key", config->signing_key}};
    std::vector<std::pair<Part, fs::path>> relative;  // every part and where it goes in the backup
    for (const auto* parts : {&plain, &secret})
        for (const auto& part : *parts) {
            auto rel = inside(base, part.path);
            if (!rel) return report(command, rel.error());
            relative.emplace_back(part, *rel);
        }
    auto database_rel = inside(base, config->database);
    auto blobs_rel = inside(base, config->blobs);
    if (!database_rel) return report(command, database_rel.error());
    if (!blobs_rel) return report(command, blobs_rel.error());

    // The destination is new, or an empty directory: a backup never mixes with another.
    const fs::path out = fs::absolute(options.out);
    std::error_code ec;
    if (fs::exists(out, ec) && !(fs::is_directory(out, ec) && fs::is_empty(out, ec)))
        return report(command, make_error(ErrorKind::conflict, out.string() + " exists and is not empty; a backup goes "
                                                                              "into a new directory"));
    if (auto s = make_dirs(out); !s) return report(command, s.error());
    bool finished = false;
    struct Cleanup {
        const fs::path& dir;
        const bool& finished;
        ~Cleanup() {
            std::error_code ignored;
            if (!finished) fs::remove_all(dir, ignored);
        }
    } cleanup{out, finished};

    auto master = storage::read_master_key(config->master_key);
    if (!master) return report(command, master.error());
    auto log_key = crypto::read_secret_file(config->log_key, 4096);
    if (!log_key) return report(command, log_key.error());
    while (!log_key->empty() && (log_key->view().back() == '\n' || log_key->view().back() == '\r'))
        log_key->shrink(log_key->size() - 1);
    auto log_signer = crypto::tlog::NoteSigner::from_private(*log_key);
    if (!log_signer) return report(command, log_signer.error());
    auto signing_cert = storage::read_small_file(config->signing_cert, 1 << 20);
    auto signing_key = crypto::read_private_key_file(config->signing_key, 1 << 20);
    if (!signing_cert) return report(command, signing_cert.error());
    if (!signing_key) return report(command, signing_key.error());
    auto signer = certs::ManifestSigner::load(*signing_cert, signing_key->view());
    if (!signer) return report(command, signer.error());

    // The database first, in one snapshot; then exactly the blobs its packages need. Blobs are
    // written once and never change, so a blob the snapshot names is whole on disk.
    json::array files;
    auto record = [&](const fs::path& rel, const std::string& role, const Copied& c) {
        files.push_back(json::object{{"path", rel.string()}, {"role", role}, {"size", c.size}, {"sha256", c.sha256}});
    };
    const fs::path database_copy = out / *database_rel;
    if (auto s = make_dirs(database_copy.parent_path()); !s) return report(command, s.error());
    {
        storage::Store::Options source{config->database, config->blobs, config->aead};
        source.read_only = true;
        auto live = storage::Store::open(source, *master);
        if (!live) return report(command, live.error());
        if (auto s = (*live)->copy_database(database_copy, *master); !s) return report(command, s.error());
    }
    auto copied_db = hash_file(database_copy);
    if (!copied_db) return report(command, copied_db.error());
    record(*database_rel, "database", *copied_db);

    storage::Store::Options copy_options{database_copy, config->blobs, config->aead};
    copy_options.read_only = true;
    auto copy = storage::Store::open(copy_options, *master);
    if (!copy) return report(command, copy.error());
    if (auto damage = (*copy)->integrity_problems(); !damage || !damage->empty())
        return report(command,
                      make_error(ErrorKind::corruption, "the copy of the database does not read back whole: " +
                                                            (damage ? damage->front() : damage.error().message)));
    auto blob_files = (*copy)->packages().blob_files();
    if (!blob_files) return report(command, blob_files.error());
    for (const auto& blob : *blob_files) {
        auto rel = inside(base, blob);
        if (!rel) return report(command, rel.error());
        auto c = copy_file(blob, out / *rel, 0600);
        if (!c)
            return report(command,
                          make_error(c.error().kind, "package blob " + blob.string() + ": " + c.error().message +
                                                         " (run serambi fsck on the deployment)"));
        record(*rel, "blob", *c);
    }
    auto head = (*copy)->log().head();
    if (!head) return report(command, head.error());
    std::string checkpoint;
    if (auto note = (*copy)->log().latest_checkpoint(); note) {
        checkpoint = *note;
        if (auto s = write_file(out / "checkpoint", checkpoint, 0644, Existing::refuse); !s)
            return report(command, s.error());
        record("checkpoint", "checkpoint",
               {checkpoint.size(), crypto::to_hex(crypto::Sha256::of(crypto::as_bytes(checkpoint)))});
    } else if (note.error().kind != ErrorKind::not_found) {
        return report(command, note.error());
    }
    auto revocations = (*copy)->registry().revocations();
    if (!revocations) return report(command, revocations.error());
    std::uint64_t packages = 0;
    if (auto report_blobs = (*copy)->packages().check_blobs(false); report_blobs) packages = report_blobs->packages;
    copy->reset();

    for (const auto& [part, rel] : relative) {
        const bool is_secret =
            std::any_of(secret.begin(), secret.end(), [&](const Part& p) { return p.role == part.role; });
        if (is_secret && !options.include_secrets) continue;
        if (is_secret) {
            const fs::path sealed_rel = fs::path("secrets") / (rel.string() + ".age");
            auto c = encrypt_file(part.path, out / sealed_rel, recipients);
            if (!c) return report(command, make_error(c.error().kind, part.path.string() + ": " + c.error().message));
            record(sealed_rel, std::string(part.role), *c);
            continue;
        }
        auto c = copy_file(part.path, out / rel, part.role == std::string("config") ? 0600 : 0644);
        if (!c) return report(command, c.error());
        record(rel, part.role, *c);
    }

    json::array revoked;
    for (const auto& r : *revocations) revoked.push_back(json::string(r.serial_hex));
    json::array to;
    for (const auto& r : options.recipients) to.push_back(json::string(r));
    const json::object manifest{{"format", kFormat},
                                {"created_at", utc_now()},
                                {"origin", config->audit_origin},
                                {"log_size", head->size},
                                {"log_key", log_signer->verifier_key()},
                                {"packages", packages},
                                {"secrets", options.include_secrets},
                                {"secrets_to", to},
                                {"revoked", revoked},
                                {"database", database_rel->string()},
                                {"files", files}};
    const std::string text = json::serialize(manifest) + "\n";
    auto signature = signer->sign(crypto::as_bytes(text));
    if (!signature) return report(command, signature.error());
    if (auto s = write_file(out / "backup.json", text, 0644, Existing::refuse); !s) return report(command, s.error());
    if (auto s = write_file(out / "backup.json.sig",
                            std::string_view(reinterpret_cast<const char*>(signature->data()), signature->size()), 0644,
                            Existing::refuse);
        !s)
        return report(command, s.error());
    finished = true;
    std::cout << "backup: " << out.string() << "\n"
              << "  " << files.size() << " files; " << packages << " packages, " << blob_files->size()
              << " of them in blob files; access log of " << head->size << " entries"
              << (checkpoint.empty() ? "" : ", with its latest checkpoint") << "\n"
              << (options.include_secrets
                      ? "  secret keys included, encrypted to " + std::to_string(recipients.size()) +
                            " age recipient(s)\n"
                      : "  secret keys NOT included: keep master.key, log.key and pki/*.key in your offline copy\n")
              << "  check it with: serambi restore --from " << out.string() << " --check\n";
    return 0;
}

namespace {

struct Checked {
    json::object manifest;
    std::vector<std::string> problems;
};

// The manifest, its signature, and every file it lists against the directory.
Result<Checked> check_backup(const fs::path& from, const std::string& ca_file, std::string& trusted) {
    auto text = storage::read_small_file(from / "backup.json", kManifestLimit);
    if (!text)
        return make_error(ErrorKind::not_found, (from / "backup.json").string() +
                                                    " is missing or unreadable: this is not a finished "
                                                    "serambi backup");
    auto signature = storage::read_small_file(from / "backup.json.sig", 1 << 20);
    if (!signature)
        return make_error(ErrorKind::not_found,
                          (from / "backup.json.sig").string() + " is missing: the backup's manifest is unsigned");
    const fs::path ca_path = ca_file.empty() ? from / "pki" / "ca.crt" : fs::path(ca_file);
    auto ca = storage::read_small_file(ca_path, 1 << 20);
    if (!ca) return make_error(ErrorKind::not_found, "cannot read the CA certificate " + ca_path.string());
    if (auto s = certs::verify_signature(crypto::as_bytes(*text), crypto::as_bytes(*signature), *ca); !s)
        return make_error(ErrorKind::permission_denied,
                          "backup.json is not signed by this gateway's signing key under " + ca_path.string() + ": " +
                              s.error().message);
    trusted = ca_path.string();
    Checked checked;
    json::value parsed;
    try {
        parsed = json::parse(*text);
    } catch (...) {
        return bad("backup.json is not JSON");
    }
    if (!parsed.is_object() || !parsed.as_object().contains("format") ||
        parsed.as_object().at("format") != json::value(kFormat))
        return bad("backup.json is not a " + std::string(kFormat) + " manifest");
    checked.manifest = parsed.as_object();
    const auto* files = checked.manifest.if_contains("files");
    if (files == nullptr || !files->is_array()) return bad("backup.json lists no files");
    std::set<std::string> seen;
    for (const auto& item : files->as_array()) {
        const auto* entry = item.if_object();
        const auto* path = entry ? entry->if_contains("path") : nullptr;
        const auto* size = entry ? entry->if_contains("size") : nullptr;
        const auto* sha = entry ? entry->if_contains("sha256") : nullptr;
        if (!path || !path->is_string() || !size || !(size->is_uint64() || size->is_int64()) || !sha ||
            !sha->is_string() || !safe_relative(std::string(path->as_string())) ||
            !seen.insert(std::string(path->as_string())).second)
            return bad("backup.json has a malformed file entry");
        const std::string name(path->as_string());
        auto seen_file = hash_file(from / name);
        if (!seen_file)
            checked.problems.push_back("missing: " + name);
        else if (seen_file->size != size->to_number<std::uint64_t>() || seen_file->sha256 != sha->as_string())
            checked.problems.push_back("damaged (size or SHA-256 differs from the manifest): " + name);
    }
    return checked;
}

std::string manifest_string(const json::object& manifest, const char* key) {
    const auto* v = manifest.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The newest checkpoint anyone has seen beyond the backup: the old deployment's state file, or a
// checkpoint an auditor kept (verified with the log's key from the manifest).
struct Newest {
    std::uint64_t size = 0;
    crypto::tlog::Hash root = crypto::tlog::empty_root();
    std::set<std::string> revoked;
    std::string source;
};

}  // namespace

int run_restore(const RestoreOptions& options) {
    const std::string command = "restore";
    const fs::path from = fs::absolute(options.from);
    std::string trusted;
    auto checked = check_backup(from, options.ca, trusted);
    if (!checked) return report(command, checked.error());
    const auto& manifest = checked->manifest;
    std::cout << "restore: backup.json verifies with " << trusted
              << (options.ca.empty() ? " (the backup's own CA; give --ca to check against a copy you trust)" : "")
              << "\n";
    if (!checked->problems.empty()) {
        for (const auto& p : checked->problems) std::cerr << "serambi restore: " << p << "\n";
        return report(command, make_error(ErrorKind::corruption,
                                          std::to_string(checked->problems.size()) +
                                              " file(s) of the backup are missing or damaged; nothing was restored"));
    }
    const auto log_size = manifest.contains("log_size") && manifest.at("log_size").is_number()
                              ? manifest.at("log_size").to_number<std::uint64_t>()
                              : 0;
    const std::string log_key = manifest_string(manifest, "log_key");
    const bool has_secrets = manifest.contains("secrets") && manifest.at("secrets") == json::value(true);

    // What was published after the backup was taken, if the operator or an auditor has it.
    Newest newest;
    if (!options.state.empty()) {
        auto state = storage::StateFile::read(options.state);
        if (!state) return report(command, state.error());
        if (!state->has_value()) return report(command, bad(options.state + " does not exist"));
        newest = {(*state)->checkpoint_size, (*state)->checkpoint_root, (*state)->revoked,
                  "the state file " + options.state};
    }
    for (const auto& file : options.latest_checkpoints) {
        auto note = storage::read_small_file(file, 1 << 20);
        if (!note) return report(command, note.error());
        auto body = crypto::tlog::verify_note(*note, log_key);
        auto cp = body ? crypto::tlog::parse_checkpoint_body(*body) : Result<crypto::tlog::Checkpoint>(body.error());
        if (!cp)
            return report(command,
                          bad(file + " is not a checkpoint signed by this gateway's log key: " + cp.error().message));
        if (cp->origin != manifest_string(manifest, "origin"))
            return report(command, bad(file + " is a checkpoint of another log (" + cp->origin + ")"));
        if (cp->size > newest.size) {
            newest.size = cp->size;
            newest.root = cp->root;
            newest.source = "the checkpoint " + file;
        }
    }
    if (options.check_only) {
        std::cout << "restore: every one of the " << manifest.at("files").as_array().size()
                  << " files is present and matches backup.json; access log of " << log_size << " entries\n";
        if (newest.size > log_size)
            std::cout << "restore: ROLLBACK: " << newest.source << " shows a checkpoint of " << newest.size
                      << " entries, but this backup's access log holds " << log_size << "\n";
        return 0;
    }
    if (options.to.empty()) return report(command, bad("give --to DIR (a new directory), or --check"));
    if (has_secrets && options.identities.empty())
        return report(command, bad("the backup holds its secret keys, age-encrypted: give --identity FILE with the "
                                   "age identity they were encrypted to (backup.json, secrets_to)"));
    std::vector<crypto::age::Identity> identities;
    for (const auto& file : options.identities) {
        auto text = crypto::read_secret_file(file, 1 << 20);
        if (!text) return report(command, text.error());
        auto parsed = crypto::age::parse_identity_file(text->view());
        if (!parsed) return report(command, bad(file + ": " + parsed.error().message));
        for (auto& id : *parsed) identities.push_back(std::move(id));
    }

    const fs::path to = fs::absolute(options.to);
    std::error_code ec;
    if (fs::exists(to, ec) && !(fs::is_directory(to, ec) && fs::is_empty(to, ec)))
        return report(command,
                      make_error(ErrorKind::conflict, to.string() + " exists and is not empty; restore goes into a "
                                                                    "new directory and never overwrites"));
    if (auto s = make_dirs(to); !s) return report(command, s.error());
    bool finished = false;
    struct Cleanup {
        const fs::path& dir;
        const bool& finished;
        ~Cleanup() {
            std::error_code ignored;
            if (!finished) fs::remove_all(dir, ignored);
        }
    } cleanup{to, finished};

    std::vector<std::string> secrets_restored;
    for (const auto& item : manifest.at("files").as_array()) {
        const auto& entry = item.as_object();
        const std::string name(entry.at("path").as_string());
        const std::string role = entry.contains("role") && entry.at("role").is_string()
                                     ? std::string(entry.at("role").as_string())
                                     : std::string();
        if (name.rfind("secrets/", 0) == 0) {
            if (name.size() < 12 || name.substr(name.size() - 4) != ".age")
                return report(command, bad("backup.json names a secret file without .age: " + name));
            const std::string target = name.substr(8, name.size() - 12);
            if (!safe_relative(target)) return report(command, bad("backup.json has a malformed secret name"));
            auto sealed = storage::read_small_file(from / name, 1 << 20);
            if (!sealed) return report(command, sealed.error());
            // Checked again as read: the file checked above may have been swapped since.
            if (crypto::to_hex(crypto::Sha256::of(crypto::as_bytes(*sealed))) != entry.at("sha256").as_string())
                return report(command,
                              make_error(ErrorKind::corruption, name + " changed while it was being restored"));
            std::vector<const crypto::age::Identity*> ids;
            for (const auto& id : identities) ids.push_back(&id);
            crypto::age::Decryptor decryptor(ids);
            crypto::Bytes plain;
            auto s = decryptor.update(crypto::as_bytes(*sealed), plain);
            if (s) s = decryptor.finish(plain);
            if (!s) {
                crypto::wipe(plain);
                return report(command, make_error(s.error().kind, name + ": " + s.error().message));
            }
            if (auto made = make_dirs((to / target).parent_path()); !made) return report(command, made.error());
            auto written =
                write_file(to / target, std::string_view(reinterpret_cast<const char*>(plain.data()), plain.size()),
                           0600, Existing::refuse);
            crypto::wipe(plain);
            if (!written) return report(command, written.error());
            secrets_restored.push_back(target);
            continue;
        }
        const unsigned mode = role == "database" || role == "blob" || role == "config" ? 0600 : 0644;
        auto c = copy_file(from / name, to / name, mode);
        if (!c) return report(command, c.error());
        if (c->sha256 != entry.at("sha256").as_string())
            return report(command, make_error(ErrorKind::corruption, name + " changed while it was being restored"));
    }
    // The state file the restored gateway starts with: the backup's own checkpoint, or a newer one
    // published since, in which case the gateway refuses to start until told to accept the
    // rollback (and records it).
    storage::StateFile::Contents contents;
    auto read_note = storage::read_small_file(from / "checkpoint", 1 << 20);
    const std::string checkpoint_note = read_note ? *read_note : std::string();
    if (!checkpoint_note.empty()) {
        auto body = crypto::tlog::verify_note(checkpoint_note, log_key);
        auto cp = body ? crypto::tlog::parse_checkpoint_body(*body) : Result<crypto::tlog::Checkpoint>(body.error());
        if (!cp) return report(command, bad("the backup's checkpoint does not verify with its log key"));
        contents.checkpoint_size = cp->size;
        contents.checkpoint_root = cp->root;
    }
    if (const auto* revoked = manifest.if_contains("revoked"); revoked && revoked->is_array())
        for (const auto& serial : revoked->as_array())
            if (serial.is_string()) contents.revoked.insert(std::string(serial.as_string()));
    const bool rollback = newest.size > log_size;
    if (newest.size > contents.checkpoint_size) {
        contents.checkpoint_size = newest.size;
        contents.checkpoint_root = newest.root;
    }
    contents.revoked.insert(newest.revoked.begin(), newest.revoked.end());
    // The state file's place as the restored configuration names it.
    fs::path state_path = to / "gateway.state";
    if (fs::exists(to / "serambi.toml")) {
        auto restored = gateway::load_config(to / "serambi.toml");
        if (restored) state_path = restored->state;
    }
    storage::StateFile state(state_path, contents);
    if (auto s = state.replace(contents); !s) return report(command, s.error());
    finished = true;

    std::cout << "restore: " << manifest.at("files").as_array().size() << " files into " << to.string()
              << "; access log of " << log_size << " entries\n";
    if (!has_secrets)
        std::cout << "restore: the backup holds no secret keys: put master.key, log.key and pki/ca.key, "
                     "pki/gateway.key, pki/signing.key back from your offline copy (mode 0600) before starting\n";
    if (rollback)
        std::cerr << "serambi restore: ROLLBACK: " << newest.source << " shows a checkpoint of " << newest.size
                  << " entries, but the restored access log holds " << log_size
                  << ". The gateway will not start on it until you start it once with --accept-rollback, "
                     "which records the rollback in the access log; tell the auditors\n";
    std::cout << "restore: next, check it: serambi fsck --config " << (to / "serambi.toml").string() << "\n";
    return 0;
}

}  // namespace serambi::cli
