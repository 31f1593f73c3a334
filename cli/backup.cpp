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
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <set>

#include "base/time.h"
#include "certs/certs.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/messages.h"
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
// way back. Judged on the path as configured (a blob directory on a linked volume is inside).
Result<fs::path> inside(const fs::path& base, const fs::path& path) {
    const auto relative =
        fs::absolute(path).lexically_normal().lexically_relative(fs::absolute(base).lexically_normal());
    if (relative.empty() || relative.is_absolute() || *relative.begin() == ".." || *relative.begin() == ".")
        return bad(
            tr("{} is outside the deployment directory {}; serambi backup copies deployments whose files all "
               "live under the directory of serambi.toml (the layout serambi init makes)",
               {path.string(), base.string()}));
    return relative;
}

// A name from a manifest, before it is joined to a directory: relative, plain components only,
// nothing a terminal would interpret.
bool safe_relative(const std::string& text) {
    if (text.empty() || text.size() > 4096 || text.front() == '/') return false;
    for (const unsigned char c : text)
        if (c < 0x20 || c == 0x7f) return false;
    const fs::path p(text);
    for (const auto& part : p) {
        const auto s = part.string();
        if (s.empty() || s == "." || s == "..") return false;
    }
    return p.lexically_normal().string() == text;
}

Status sync_directory(const fs::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
        const int e = errno;
        if (fd >= 0) ::close(fd);
        return make_error(ErrorKind::io_error,
                          tr("cannot sync the directory {}: {}", {dir.string(), std::strerror(e)}));
    }
    ::close(fd);
    return {};
}

// Creates `dir` and any missing folder above it, each 0700 (a backup holds the whole database),
// each new entry made durable in its parent.
Status make_dirs(const fs::path& dir) {
    std::error_code ec;
    if (dir.empty() || fs::is_directory(dir, ec)) return {};
    if (auto s = make_dirs(dir.parent_path()); !s) return s;
    if (::mkdir(dir.c_str(), 0700) != 0) {
        if (errno == EEXIST && fs::is_directory(dir, ec)) return {};
        return make_error(ErrorKind::io_error, tr("cannot create {}: {}", {dir.string(), std::strerror(errno)}));
    }
    return sync_directory(dir.parent_path());
}

// Opens a regular file for reading: never a link, a FIFO that would block, or a device.
Result<int> open_regular(const fs::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return make_error(ErrorKind::not_found, tr("cannot read {}: {}", {file.string(), std::strerror(errno)}));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return make_error(ErrorKind::invalid_argument, tr("{} is not a regular file", {file.string()}));
    }
    return fd;
}

struct Copied {
    std::uint64_t size = 0;
    std::string sha256;
};

// Reads a regular file through, hashing it and handing each piece to `sink` (if any).
Result<Copied> read_through(const fs::path& file, const std::function<Status(crypto::ByteView)>& sink) {
    auto opened = open_regular(file);
    if (!opened) return opened.error();
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } in{*opened};
    crypto::Sha256 digest;
    Copied seen;
    std::vector<std::uint8_t> buffer(1 << 20);
    for (;;) {
        const ssize_t n = ::read(in.fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return make_error(ErrorKind::io_error, tr("cannot read {}: {}", {file.string(), std::strerror(errno)}));
        if (n == 0) break;
        const crypto::ByteView piece(buffer.data(), static_cast<std::size_t>(n));
        digest.update(piece);
        seen.size += static_cast<std::uint64_t>(n);
        if (sink)
            if (auto s = sink(piece); !s) return s.error();
    }
    seen.sha256 = crypto::to_hex(digest.finish());
    return seen;
}

Result<Copied> hash_file(const fs::path& file) { return read_through(file, nullptr); }

// Copies `from` to the new file `to` (mode `mode`), fsynced, hashing what was written.
Result<Copied> copy_file(const fs::path& from, const fs::path& to, unsigned mode) {
    if (auto s = make_dirs(to.parent_path()); !s) return s.error();
    auto out = AtomicFile::create(to, mode, Existing::refuse);
    if (!out) return out.error();
    auto copied = read_through(from, [&](crypto::ByteView piece) { return out->write(piece); });
    if (!copied) return copied.error();
    if (auto s = out->commit(); !s) return s.error();
    return copied;
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

// An output directory: new, or empty. Unless the command finishes, what it wrote goes again; a
// directory it made goes too, one that was there (empty) stays, emptied.
class OutputDirectory {
  public:
    explicit OutputDirectory(fs::path dir) : dir_(std::move(dir)) {}
    OutputDirectory(const OutputDirectory&) = delete;
    OutputDirectory& operator=(const OutputDirectory&) = delete;
    ~OutputDirectory() {
        if (!made_ || finished_) return;
        std::error_code ignored;
        if (!existed_) {
            fs::remove_all(dir_, ignored);
            return;
        }
        for (const auto& entry : fs::directory_iterator(dir_, ignored)) fs::remove_all(entry.path(), ignored);
    }
    Status make(const std::string& refusal) {
        std::error_code ec;
        existed_ = fs::exists(dir_, ec);
        if (existed_ && !(fs::is_directory(dir_, ec) && !fs::is_symlink(dir_, ec) && fs::is_empty(dir_, ec)))
            return make_error(ErrorKind::conflict, tr("{} exists and is not empty; {}", {dir_.string(), refusal}));
        if (auto s = make_dirs(dir_); !s) return s;
        made_ = true;
        return {};
    }
    void finish() { finished_ = true; }
    const fs::path& path() const noexcept { return dir_; }

  private:
    fs::path dir_;
    bool existed_ = false;
    bool made_ = false;
    bool finished_ = false;
};

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
                      bad(options.include_secrets ? tr("--include-secrets needs --to age1… (the backup's secret keys "
                                                       "are encrypted to that recipient, never written in the clear)")
                                                  : tr("--to is only for --include-secrets")));
    std::vector<crypto::age::Recipient> recipients;
    for (const auto& text : options.recipients) {
        auto r = crypto::age::parse_recipient(text);
        if (!r) return report(command, bad(tr("'{}' is not an age X25519 recipient (age1…)", {text})));
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
    json::array secret_paths;                         // where the secret keys belong, included or not
    for (const auto* parts : {&plain, &secret})
        for (const auto& part : *parts) {
            auto rel = inside(base, part.path);
            if (parts == &secret) {
                if (rel) secret_paths.push_back(json::string(rel->string()));
                if (!options.include_secrets) continue;
            }
            if (!rel) return report(command, rel.error());
            relative.emplace_back(part, *rel);
        }
    auto database_rel = inside(base, config->database);
    auto blobs_rel = inside(base, config->blobs);
    // Not copied (it is what catches an old restore), but a restore writes a new one in its place.
    auto state_rel = inside(base, config->state);
    if (!database_rel) return report(command, database_rel.error());
    if (!blobs_rel) return report(command, blobs_rel.error());
    if (!state_rel) return report(command, state_rel.error());
    auto config_rel = inside(base, config->config_file);
    if (!config_rel) return report(command, config_rel.error());

    // The destination is new, or an empty directory: a backup never mixes with another.
    OutputDirectory out_dir(fs::absolute(options.out));
    if (auto s = out_dir.make(tr("a backup goes into a new directory")); !s) return report(command, s.error());
    const fs::path& out = out_dir.path();

    // Beside a running gateway, never beside a key rotation.
    auto lock =
        storage::DeploymentLock::acquire(config->blobs, config->database, storage::DeploymentLock::Mode::inspect);
    if (!lock) return report(command, lock.error());
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
                      make_error(ErrorKind::corruption, tr("the copy of the database does not read back whole: {}",
                                                           {damage ? damage->front() : damage.error().message})));
    auto blob_files = (*copy)->packages().blob_files();
    if (!blob_files) return report(command, blob_files.error());
    for (const auto& blob : *blob_files) {
        auto rel = inside(base, blob);
        if (!rel) return report(command, rel.error());
        auto c = copy_file(blob, out / *rel, 0600);
        if (!c)
            return report(command,
                          make_error(c.error().kind, tr("package blob {}: {} (run serambi fsck on the deployment)",
                                                        {blob.string(), c.error().message})));
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
    auto handovers = (*copy)->log().key_handovers();
    if (!handovers) return report(command, handovers.error());
    if (!handovers->empty() && handovers->back().new_key != log_signer->verifier_key())
        return report(command, make_error(ErrorKind::conflict,
                                          tr("{} is not the key the access log names: a key rotation stopped part-way. "
                                             "Start the gateway (or run serambi keys rotate-log), then back up",
                                             {config->log_key.string()})));
    auto revocations = (*copy)->registry().revocations();
    if (!revocations) return report(command, revocations.error());
    auto counted = (*copy)->packages().check_blobs(false);
    if (!counted) return report(command, counted.error());
    const std::uint64_t packages = counted->packages;
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
    // Checkpoints auditors kept from before a key rotation are evidence for a restore too.
    json::array retired;
    for (const auto& h : *handovers) retired.push_back(json::object{{"key", h.old_key}, {"until", h.size}});
    const json::object manifest{{"format", kFormat},
                                {"created_at", utc_now()},
                                {"origin", config->audit_origin},
                                {"log_size", head->size},
                                {"log_key", log_signer->verifier_key()},
                                {"retired_log_keys", retired},
                                {"packages", packages},
                                {"secrets", options.include_secrets},
                                {"secrets_to", to},
                                {"revoked", revoked},
                                {"database", database_rel->string()},
                                {"config", config_rel->string()},
                                {"secret_paths", secret_paths},
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
    if (auto s = sync_directory(out); !s) return report(command, s.error());
    out_dir.finish();
    std::cout << "backup: " << out.string() << "\n"
              << (checkpoint.empty()
                      ? tr("  {} files; {} packages, {} of them in blob files; access log of {} entries",
                           {std::to_string(files.size()), std::to_string(packages), std::to_string(blob_files->size()),
                            std::to_string(head->size)})
                      : tr("  {} files; {} packages, {} of them in blob files; access log of {} entries, with its "
                           "latest checkpoint",
                           {std::to_string(files.size()), std::to_string(packages), std::to_string(blob_files->size()),
                            std::to_string(head->size)}))
              << "\n"
              << (options.include_secrets
                      ? tr("  secret keys included, encrypted to {} age recipient(s)",
                           {std::to_string(recipients.size())})
                      : tr("  secret keys NOT included: keep master.key, log.key and pki/*.key in your offline copy"))
              << "\n"
              << tr("  check it with: serambi restore --from {} --check", {out.string()}) << "\n";
    return 0;
}

namespace {

// A manifest's number: a non-negative integer, or nullopt.
std::optional<std::uint64_t> manifest_count(const json::object& manifest, const char* key) {
    const auto* v = manifest.if_contains(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_uint64()) return v->as_uint64();
    if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
    return std::nullopt;
}

std::string manifest_string(const json::object& manifest, const char* key) {
    const auto* v = manifest.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

struct ListedFile {
    std::string path;
    std::string role;
    std::uint64_t size = 0;
    std::string sha256;
};

struct Checked {
    json::object manifest;
    std::vector<ListedFile> files;
    std::vector<std::string> problems;  // files missing or damaged
    std::uint64_t log_size = 0;
};

// The manifest, its signature under the CA the operator trusts, and every file it lists
// against the directory.
Result<Checked> check_backup(const fs::path& from, const fs::path& ca_path) {
    auto text = storage::read_small_file(from / "backup.json", kManifestLimit);
    if (!text)
        return make_error(ErrorKind::not_found, tr("{} is missing or unreadable: this is not a finished serambi backup",
                                                   {(from / "backup.json").string()}));
    auto signature = storage::read_small_file(from / "backup.json.sig", 1 << 20);
    if (!signature)
        return make_error(ErrorKind::not_found, tr("{} is missing: the backup's manifest is unsigned",
                                                   {(from / "backup.json.sig").string()}));
    auto ca = storage::read_small_file(ca_path, 1 << 20);
    if (!ca) return make_error(ErrorKind::not_found, tr("cannot read the CA certificate {}", {ca_path.string()}));
    if (auto s = certs::verify_signature(crypto::as_bytes(*text), crypto::as_bytes(*signature), *ca); !s)
        return make_error(ErrorKind::permission_denied,
                          tr("backup.json is not signed by this gateway's signing key under {}: {}",
                             {ca_path.string(), s.error().message}));
    Checked checked;
    boost::system::error_code ec;
    json::value parsed = json::parse(*text, ec);
    if (ec || !parsed.is_object() || manifest_string(parsed.as_object(), "format") != kFormat)
        return bad(tr("backup.json is not a {} manifest", {kFormat}));
    checked.manifest = parsed.as_object();
    const auto log_size = manifest_count(checked.manifest, "log_size");
    const auto* files = checked.manifest.if_contains("files");
    if (!log_size || files == nullptr || !files->is_array())
        return bad(tr("backup.json is malformed (log_size, files)"));
    checked.log_size = *log_size;
    std::set<std::string> seen;
    for (const auto& item : files->as_array()) {
        const auto* entry = item.if_object();
        if (entry == nullptr) return bad(tr("backup.json has a malformed file entry"));
        ListedFile f{manifest_string(*entry, "path"), manifest_string(*entry, "role"), 0,
                     manifest_string(*entry, "sha256")};
        const auto size = manifest_count(*entry, "size");
        if (!size || !safe_relative(f.path) || f.sha256.size() != 64 || !seen.insert(f.path).second)
            return bad(tr("backup.json has a malformed file entry"));
        f.size = *size;
        auto found = hash_file(from / f.path);
        if (!found)
            checked.problems.push_back(tr("missing: {}", {f.path}));
        else if (found->size != f.size || found->sha256 != f.sha256)
            checked.problems.push_back(tr("damaged (size or SHA-256 differs from the manifest): {}", {f.path}));
        checked.files.push_back(std::move(f));
    }
    return checked;
}

// Reads a listed file whole, checking it again as read: it may have been swapped since the check.
Result<std::string> read_listed(const fs::path& from, const ListedFile& file, std::size_t limit) {
    auto text = storage::read_small_file(from / file.path, limit);
    if (!text) return text.error();
    if (crypto::to_hex(crypto::Sha256::of(crypto::as_bytes(*text))) != file.sha256)
        return make_error(ErrorKind::corruption, tr("{} changed after it was checked", {file.path}));
    return text;
}

// The log's keys as the manifest names them: the current one, and each retired one with the
// largest checkpoint it signed.
struct LogKeys {
    std::string current;
    std::vector<std::pair<std::string, std::uint64_t>> retired;
};

LogKeys log_keys_of(const json::object& manifest) {
    LogKeys keys{manifest_string(manifest, "log_key"), {}};
    if (const auto* retired = manifest.if_contains("retired_log_keys"); retired && retired->is_array())
        for (const auto& item : retired->as_array()) {
            const auto* o = item.if_object();
            const auto* key = o ? o->if_contains("key") : nullptr;
            const auto* until = o ? o->if_contains("until") : nullptr;
            if (key && key->is_string() && until && until->is_uint64())
                keys.retired.emplace_back(std::string(key->as_string()), until->as_uint64());
            else if (key && key->is_string() && until && until->is_int64() && until->as_int64() >= 0)
                keys.retired.emplace_back(std::string(key->as_string()), static_cast<std::uint64_t>(until->as_int64()));
        }
    return keys;
}

// A checkpoint of this log signed by its current key, or by a retired key no later than that
// key's hand-over (a retired key signs nothing after it).
Result<crypto::tlog::Checkpoint> read_checkpoint(std::string_view note, const LogKeys& keys,
                                                 const std::string& origin) {
    auto body = crypto::tlog::verify_note(note, keys.current);
    std::optional<std::uint64_t> until;
    for (std::size_t i = 0; !body && i < keys.retired.size(); ++i)
        if (auto by_retired = crypto::tlog::verify_note(note, keys.retired[i].first)) {
            body = std::move(by_retired);
            until = keys.retired[i].second;
        }
    if (!body) return body.error();
    auto cp = crypto::tlog::parse_checkpoint_body(*body);
    if (!cp) return cp.error();
    if (cp->origin != origin) return bad(tr("it is a checkpoint of another log ({})", {cp->origin}));
    if (until && cp->size > *until)
        return bad(tr("it is signed by a key the log retired at {} entries, for {}",
                      {std::to_string(*until), std::to_string(cp->size)}));
    return cp;
}

// What was published after the backup, as far as the operator and the auditors know.
struct Evidence {
    std::uint64_t size = 0;
    crypto::tlog::Hash root = crypto::tlog::empty_root();
    std::string source;
};

}  // namespace

int run_restore(const RestoreOptions& options) {
    const std::string command = "restore";
    const fs::path from = fs::absolute(options.from);
    // Only a CA the operator holds apart from the backup proves where it came from: a forged
    // backup would carry its own CA, and age does not say who encrypted the keys.
    if (options.ca.empty() && !options.check_only)
        return report(command, bad(tr("give --ca FILE: the gateway's CA certificate from a copy you trust (any "
                                      "principal's profile has it as ca.crt), to check that the backup is this "
                                      "gateway's")));
    const fs::path ca_path = options.ca.empty() ? from / "pki" / "ca.crt" : fs::path(options.ca);
    auto checked = check_backup(from, ca_path);
    if (!checked) return report(command, checked.error());
    const auto& manifest = checked->manifest;
    std::cout << (options.ca.empty() ? tr("restore: backup.json verifies under {} (the backup's own CA: this finds "
                                          "damage, not forgery; give --ca)",
                                          {ca_path.string()})
                                     : tr("restore: backup.json verifies under {}", {ca_path.string()}))
              << "\n";
    if (!checked->problems.empty()) {
        for (const auto& p : checked->problems) std::cerr << "serambi restore: " << p << "\n";
        return report(command, make_error(ErrorKind::corruption,
                                          tr("{} file(s) of the backup are missing or damaged; nothing was restored",
                                             {std::to_string(checked->problems.size())})));
    }
    const std::uint64_t log_size = checked->log_size;
    const LogKeys log_keys = log_keys_of(manifest);
    const std::string origin = manifest_string(manifest, "origin");
    const bool has_secrets = manifest.contains("secrets") && manifest.at("secrets") == json::value(true);

    // The backup's own checkpoint: signed by the log's key, of this log, within the copied log.
    Evidence own;
    for (const auto& f : checked->files) {
        if (f.role != "checkpoint") continue;
        auto note = read_listed(from, f, 1 << 20);
        if (!note) return report(command, note.error());
        auto cp = read_checkpoint(*note, log_keys, origin);
        if (!cp || cp->size > log_size)
            return report(command, make_error(ErrorKind::corruption,
                                              tr("the backup's checkpoint does not verify with its log key, or covers "
                                                 "more than its log holds")));
        own = {cp->size, cp->root, tr("the backup's checkpoint")};
    }

    // Evidence of what was published since: the old state file, checkpoints auditors kept.
    std::vector<Evidence> evidence;
    std::set<std::string> revoked_since;
    std::set<std::string> backup_revoked;
    if (const auto* revoked = manifest.if_contains("revoked"); revoked && revoked->is_array())
        for (const auto& serial : revoked->as_array())
            if (serial.is_string()) backup_revoked.insert(std::string(serial.as_string()));
    if (!options.state.empty()) {
        auto state = storage::StateFile::read(options.state);
        if (!state) return report(command, state.error());
        if (!state->has_value()) return report(command, bad(tr("{} does not exist", {options.state})));
        evidence.push_back(
            {(*state)->checkpoint_size, (*state)->checkpoint_root, tr("the state file {}", {options.state})});
        for (const auto& serial : (*state)->revoked)
            if (!backup_revoked.count(serial)) revoked_since.insert(serial);
    }
    for (const auto& file : options.latest_checkpoints) {
        auto note = storage::read_small_file(file, 1 << 20);
        if (!note) return report(command, note.error());
        auto cp = read_checkpoint(*note, log_keys, origin);
        if (!cp)
            return report(command, bad(tr("{} is not a checkpoint signed by this gateway's log key: {}",
                                          {file, cp.error().message})));
        evidence.push_back({cp->size, cp->root, tr("the checkpoint {}", {file})});
    }
    // Two checkpoints of one size with different roots are two histories: never restored over.
    Evidence newest = own;
    for (const auto& e : evidence) {
        for (const auto* other : {&own, &newest})
            if (e.size == other->size && e.size > 0 && e.root != other->root)
                return report(command, make_error(ErrorKind::corruption,
                                                  tr("FORK: {} and {} are checkpoints of the same size ({}) with "
                                                     "different roots; this log was rewritten. Nothing was restored: "
                                                     "tell the auditors",
                                                     {e.source, other->source, std::to_string(e.size)})));
        if (e.size > newest.size) newest = e;
    }
    const bool rollback = newest.size > log_size || !revoked_since.empty();
    auto say_rollback = [&] {
        if (newest.size > log_size)
            std::cerr << "serambi restore: "
                      << tr("ROLLBACK: {} shows a checkpoint of {} entries, but the backup's access log holds {}",
                            {newest.source, std::to_string(newest.size), std::to_string(log_size)})
                      << "\n";
        if (!revoked_since.empty())
            std::cerr << "serambi restore: "
                      << tr("ROLLBACK: {} certificate revocation(s) made after the backup are not in it (they are "
                            "made again when the rollback is accepted)",
                            {std::to_string(revoked_since.size())})
                      << "\n";
    };
    if (evidence.empty())
        std::cout << tr("restore: rollback NOT checked: give --state (the old gateway.state) or --latest-checkpoint "
                        "(a checkpoint an auditor kept) to compare the backup with what was published since")
                  << "\n";

    if (options.check_only) {
        std::cout << tr("restore: every one of the {} files is present and matches backup.json; access log of {} "
                        "entries",
                        {std::to_string(checked->files.size()), std::to_string(log_size)})
                  << "\n";
        if (rollback) say_rollback();
        return rollback ? 3 : 0;
    }
    if (options.to.empty()) return report(command, bad(tr("give --to DIR (a new directory), or --check")));
    if (has_secrets && options.identities.empty())
        return report(command, bad(tr("the backup holds its secret keys, age-encrypted: give --identity FILE with the "
                                      "age identity they were encrypted to (backup.json, secrets_to)")));
    std::vector<crypto::age::Identity> identities;
    for (const auto& file : options.identities) {
        auto text = crypto::read_secret_file(file, 1 << 20);
        if (!text) return report(command, text.error());
        auto parsed = crypto::age::parse_identity_file(text->view());
        if (!parsed) return report(command, bad(file + ": " + parsed.error().message));
        for (auto& id : *parsed) identities.push_back(std::move(id));
    }

    OutputDirectory to_dir(fs::absolute(options.to));
    if (auto s = to_dir.make(tr("restore goes into a new directory and never overwrites")); !s)
        return report(command, s.error());
    const fs::path& to = to_dir.path();

    for (const auto& f : checked->files) {
        if (f.path.rfind("secrets/", 0) == 0) {
            const std::string target =
                f.path.size() > 12 && f.path.ends_with(".age") ? f.path.substr(8, f.path.size() - 12) : std::string();
            if (!safe_relative(target))
                return report(command, bad(tr("backup.json names a malformed secret: {}", {f.path})));
            auto sealed = read_listed(from, f, 1 << 20);
            if (!sealed) return report(command, sealed.error());
            std::vector<const crypto::age::Identity*> ids;
            for (const auto& id : identities) ids.push_back(&id);
            crypto::age::Decryptor decryptor(ids);
            crypto::Bytes plain;
            plain.reserve(sealed->size());  // never reallocated: no unwiped copy left behind
            struct Wipe {
                crypto::Bytes& bytes;
                ~Wipe() { crypto::wipe(bytes); }
            } wipe_plain{plain};
            auto s = decryptor.update(crypto::as_bytes(*sealed), plain);
            if (s) s = decryptor.finish(plain);
            if (!s) return report(command, make_error(s.error().kind, f.path + ": " + s.error().message));
            if (auto made = make_dirs((to / target).parent_path()); !made) return report(command, made.error());
            if (auto written =
                    write_file(to / target, std::string_view(reinterpret_cast<const char*>(plain.data()), plain.size()),
                               0600, Existing::refuse);
                !written)
                return report(command, written.error());
            continue;
        }
        const unsigned mode = f.role == "database" || f.role == "blob" || f.role == "config" ? 0600 : 0644;
        auto c = copy_file(from / f.path, to / f.path, mode);
        if (!c) return report(command, c.error());
        if (c->sha256 != f.sha256)
            return report(command,
                          make_error(ErrorKind::corruption, tr("{} changed while it was being restored", {f.path})));
    }

    // The restored configuration must keep everything inside the new directory: a path that
    // leads out of it would write over, or run on, another deployment's files.
    std::error_code ec;
    const std::string config_name =
        manifest_string(manifest, "config").empty() ? std::string("serambi.toml") : manifest_string(manifest, "config");
    if (!safe_relative(config_name)) return report(command, bad(tr("backup.json names a malformed configuration")));
    auto restored = gateway::load_config(to / config_name);
    if (!restored) return report(command, restored.error());
    for (const auto* path : {&restored->database, &restored->blobs, &restored->state, &restored->master_key,
                             &restored->log_key, &restored->ca_cert, &restored->ca_key, &restored->tls_cert,
                             &restored->tls_key, &restored->signing_cert, &restored->signing_key, &restored->policy})
        if (auto rel = inside(to, *path); !rel)
            return report(command, bad(tr("the restored {} names {}, outside {}; nothing was restored",
                                          {config_name, path->string(), to.string()})));

    // With the master key back, every checkpoint known within the restored log is compared with
    // the log itself: one that differs is a rewritten history, whatever its size.
    if (fs::exists(restored->master_key, ec) && !evidence.empty()) {
        auto master = storage::read_master_key(restored->master_key);
        if (!master) return report(command, master.error());
        storage::Store::Options opened{restored->database, restored->blobs, restored->aead};
        opened.read_only = true;
        auto store = storage::Store::open(opened, *master);
        if (!store) return report(command, store.error());
        for (const auto& e : evidence) {
            if (e.size == 0 || e.size > log_size) continue;
            auto root = (*store)->log().root(e.size);
            if (!root || *root != e.root)
                return report(
                    command, make_error(ErrorKind::corruption,
                                        tr("FORK: {} is a checkpoint of {} entries that the backup's access log does "
                                           "not match; this log was rewritten. Nothing was restored: tell the auditors",
                                           {e.source, std::to_string(e.size)})));
        }
    }

    // The state file the restored gateway starts with: the newest checkpoint known, so that a
    // rollback stops the start until it is accepted (and recorded), and every revocation known.
    storage::StateFile::Contents contents;
    contents.checkpoint_size = newest.size;
    contents.checkpoint_root = newest.root;
    contents.revoked = backup_revoked;
    contents.revoked.insert(revoked_since.begin(), revoked_since.end());
    if (fs::exists(restored->state, ec))
        return report(command, make_error(ErrorKind::conflict, tr("{} exists already", {restored->state.string()})));
    if (auto made = make_dirs(restored->state.parent_path()); !made) return report(command, made.error());
    storage::StateFile state(restored->state, contents);
    if (auto s = state.replace(contents); !s) return report(command, s.error());
    if (auto s = sync_directory(to); !s) return report(command, s.error());
    to_dir.finish();

    std::cout << tr("restore: {} files into {}; access log of {} entries",
                    {std::to_string(checked->files.size()), to.string(), std::to_string(log_size)})
              << "\n";
    if (!has_secrets) {
        std::string names;
        if (const auto* paths = manifest.if_contains("secret_paths"); paths && paths->is_array())
            for (const auto& p : paths->as_array())
                if (p.is_string()) names += (names.empty() ? "" : ", ") + std::string(p.as_string());
        std::cout << tr("restore: the backup holds no secret keys: put {} back from your offline copy (mode 0600) "
                        "before starting",
                        {names.empty() ? tr("the key files") : names})
                  << "\n";
    }
    if (rollback) {
        say_rollback();
        std::cerr << "serambi restore: "
                  << tr("the restored gateway will not start until you start it once with --accept-rollback, which "
                        "records the rollback in the access log; tell the auditors")
                  << "\n";
    }
    std::cout << tr("restore: next, check it: serambi fsck --config {}", {(to / config_name).string()}) << "\n";
    return rollback ? 3 : 0;
}

int run_rotate_master(const std::string& config_file) {
    const std::string command = "keys rotate-master";
    auto config = gateway::load_config(config_file);
    if (!config) return report(command, config.error());
    auto lock =
        storage::DeploymentLock::acquire(config->blobs, config->database, storage::DeploymentLock::Mode::rotate);
    if (!lock) return report(command, make_error(lock.error().kind, tr("{}: stop it first", {lock.error().message})));
    const storage::MasterKeyFiles files{config->master_key, config->database};
    auto earlier = storage::finish_master_key_rotation(files);
    if (!earlier) return report(command, earlier.error());
    if (!earlier->empty()) std::cout << "keys: " << *earlier << "\n";
    // Tests stop the rotation after a given step, as a power cut would (no clean-up runs).
    const char* stop = std::getenv("SERAMBI_TEST_ROTATION_STOP_AFTER");
    const int stop_after = stop ? std::atoi(stop) : 0;
    auto rotated = storage::rotate_master_key(files, [&](int step, const std::string& done) {
        std::cout << "keys: " << step << "/6 " << done << std::endl;
        if (step == stop_after) std::_Exit(137);
    });
    if (!rotated) {
        std::cerr << "serambi " << command << ": " << rotated.error().message << "\n";
        // Brought to one end or the other now, rather than at the next start.
        auto settled = storage::finish_master_key_rotation(files);
        if (!settled) return report(command, settled.error());
        if (!settled->empty()) std::cerr << "serambi " << command << ": " << *settled << "\n";
        if (settled->find("finished") == std::string::npos) return 1;
    }
    std::cout << tr("keys: the master key is rotated. Backups taken before now open only with the old key: keep "
                    "your offline copy of it with them, and take a new backup now (with --include-secrets, or with "
                    "the new {} copied offline)",
                    {config->master_key.filename().string()})
              << "\n";
    return 0;
}

int run_rotate_log(const std::string& config_file) {
    const std::string command = "keys rotate-log";
    auto config = gateway::load_config(config_file);
    if (!config) return report(command, config.error());
    auto lock =
        storage::DeploymentLock::acquire(config->blobs, config->database, storage::DeploymentLock::Mode::rotate);
    if (!lock) return report(command, make_error(lock.error().kind, tr("{}: stop it first", {lock.error().message})));
    // The database is opened: a master-key rotation that stopped is settled first, as a start would.
    auto earlier = storage::finish_master_key_rotation({config->master_key, config->database});
    if (!earlier) return report(command, earlier.error());
    if (!earlier->empty()) std::cout << "keys: " << *earlier << "\n";
    const char* stop = std::getenv("SERAMBI_TEST_ROTATION_STOP_AFTER");
    const int stop_after = stop ? std::atoi(stop) : 0;
    auto rotated = gateway::rotate_log_key(*config, [&](int step, const std::string& done) {
        if (step == 0)
            std::cout << "keys: " << done << std::endl;
        else
            std::cout << "keys: " << step << "/4 " << done << std::endl;
        if (stop_after > 0 && step == stop_after) std::_Exit(137);
    });
    if (!rotated) {
        std::cerr << "serambi " << command << ": " << rotated.error().message << "\n";
        std::cerr << "serambi " << command << ": "
                  << tr("the next start (or rotation) settles it: the new key is used only if the log recorded the "
                        "hand-over")
                  << "\n";
        return 1;
    }
    std::cout << tr("keys: the access-log key is rotated. Give auditors and witnesses' operators the new verifier "
                    "key (serambi audit key, once the gateway runs again): `serambi audit verify` follows the "
                    "hand-over from the old key in an export, and a Serambi witness follows it by itself. Take a new "
                    "backup now, and keep the new {} in your offline copy",
                    {config->log_key.filename().string()})
              << "\n";
    return 0;
}

}  // namespace serambi::cli
