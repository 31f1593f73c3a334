#include <algorithm>
#include <boost/algorithm/string/join.hpp>
#include <boost/algorithm/string/split.hpp>

#include "base/time.h"
#include "storage/store_impl.h"

namespace serambi::storage {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS principals(
  id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL,
  cert_serial TEXT NOT NULL, cert_fingerprint TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS datasets(
  id TEXT PRIMARY KEY, owner TEXT NOT NULL REFERENCES principals(id),
  classification TEXT NOT NULL, title TEXT NOT NULL,
  created_by TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS packages(
  id TEXT PRIMARY KEY, dataset TEXT NOT NULL REFERENCES datasets(id),
  producer TEXT NOT NULL REFERENCES principals(id), classification TEXT NOT NULL,
  filename TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,
  sha256 TEXT NOT NULL, created_at TEXT NOT NULL, aead INTEGER NOT NULL,
  key_id TEXT NOT NULL, wrapped_key BLOB NOT NULL, manifest TEXT NOT NULL,
  signature BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS packages_by_dataset ON packages(dataset, created_at);
CREATE TABLE IF NOT EXISTS audit_entries(idx INTEGER PRIMARY KEY, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_nodes(
  level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY(level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_checkpoints(size INTEGER PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agreements(
  id TEXT PRIMARY KEY, partner TEXT NOT NULL REFERENCES principals(id), patterns TEXT NOT NULL,
  max_classification TEXT NOT NULL, purpose TEXT NOT NULL,
  valid_from INTEGER NOT NULL, valid_until INTEGER NOT NULL,
  document_name TEXT NOT NULL, document_sha256 TEXT NOT NULL,
  created_by TEXT NOT NULL, created_at TEXT NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0, revoked_by TEXT NOT NULL DEFAULT '',
  revoke_reason TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS agreements_by_partner ON agreements(partner, created_at, id);
CREATE TABLE IF NOT EXISTS approvals(
  id TEXT PRIMARY KEY, package TEXT NOT NULL REFERENCES packages(id),
  partner TEXT NOT NULL REFERENCES principals(id), custodian TEXT NOT NULL REFERENCES principals(id),
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  max_downloads INTEGER NOT NULL, downloads INTEGER NOT NULL DEFAULT 0,
  withdrawn_at INTEGER NOT NULL DEFAULT 0, withdrawn_by TEXT NOT NULL DEFAULT '',
  CHECK (max_downloads = 0 OR downloads <= max_downloads));
CREATE INDEX IF NOT EXISTS approvals_by_grant ON approvals(package, partner, created_at, id);
CREATE INDEX IF NOT EXISTS approvals_by_partner ON approvals(partner, created_at, id);
CREATE TABLE IF NOT EXISTS revocations(
  serial TEXT PRIMARY KEY, principal TEXT NOT NULL, reason INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL, revoked_by TEXT NOT NULL);
)sql";

// Columns added after the first release: a database made before them gains them at open.
bool has_column(sqlite3* db, const char* table_info_sql, std::string_view column) {
    sql::Statement s(db, table_info_sql);
    while (s.step() == SQLITE_ROW)
        if (s.text(1) == column) return true;
    return false;
}

// The first table of the first release's schema that the database lacks, or "". Tables added
// since are created at open, so a database from any release passes.
std::string missing_tables(sqlite3* db) {
    for (const char* table : {"principals", "datasets", "packages"}) {
        sql::Statement s(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
        if (s.bind(1, table).step() != SQLITE_ROW) return table;
    }
    return "";
}

std::vector<std::string> split_roles(const std::string& text) {
    std::vector<std::string> roles;
    if (!text.empty()) boost::split(roles, text, [](char c) { return c == ','; });
    return roles;
}

Principal principal_from(const sql::Statement& s) {
    return Principal{s.text(0), s.text(1), split_roles(s.text(2)), s.text(3), s.text(4), s.text(5), s.text(6),
                     s.text(7), s.text(8)};
}

Dataset dataset_from(const sql::Statement& s) {
    Dataset d;
    d.id = s.text(0);
    d.owner = s.text(1);
    d.classification = s.text(2);
    d.title = s.text(3);
    d.created_by = s.text(4);
    d.created_at = s.text(5);
    return d;
}

constexpr const char* kPackageColumns =
    "SELECT id, dataset, producer, classification, filename, media_type, size, sha256, "
    "created_at, manifest, signature, recipients FROM packages ";

PackageRecord package_from(const sql::Statement& s) {
    PackageRecord p;
    p.id = s.text(0);
    p.dataset = s.text(1);
    p.producer = s.text(2);
    p.classification = s.text(3);
    p.filename = s.text(4);
    p.media_type = s.text(5);
    p.size = static_cast<std::uint64_t>(s.integer(6));
    p.sha256_hex = s.text(7);
    p.created_at = s.text(8);
    p.manifest = s.text(9);
    p.signature = s.blob(10);
    p.recipients = split_roles(s.text(11));
    return p;
}

}  // namespace

bool is_package_id(std::string_view text) noexcept {
    return text.size() == 32 && std::all_of(text.begin(), text.end(),
                                            [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() {
    if (impl_ && impl_->audit_committer.joinable()) {
        {
            std::lock_guard lock(impl_->audit_queue_mutex);
            impl_->audit_stopping = true;
        }
        impl_->audit_queue_changed.notify_all();
        impl_->audit_committer.join();  // what was queued is written first
    }
}

Result<std::unique_ptr<Store>> Store::open(const Options& options, const crypto::SecretKey& master_key) {
    auto key_id_source = crypto::derive_key(master_key, "serambi/key-id/v1");
    auto impl = std::make_unique<Impl>(crypto::derive_key(master_key, "serambi/wrap/v1"),
                                       crypto::to_hex(key_id_source.bytes()).substr(0, 16));
    impl->aead = options.aead;
    impl->env = options.env ? options.env : Env::posix();
    impl->blob_dir = options.blob_dir;
    impl->temp_dir = options.blob_dir / "tmp";

    std::error_code ec;
    bool created = false;
    // An inspection creates nothing (run as another user, it would leave folders the gateway
    // cannot write to).
    if (!options.read_only && impl->env->create_directories(impl->temp_dir, created) != 0)
        return make_error(ErrorKind::io_error, "cannot create the blob directory");

    if (!options.create && !std::filesystem::exists(options.database, ec))
        return make_error(ErrorKind::not_found, "the database " + options.database.string() +
                                                    " is missing; restore it from the backup taken with the blobs (the "
                                                    "gateway will not start on an empty database, which would discard "
                                                    "every stored package)");
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(
        options.database.c_str(), &raw,
        (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0)) |
            SQLITE_OPEN_FULLMUTEX,
        options.sqlite_vfs.empty() ? nullptr : options.sqlite_vfs.c_str());
    impl->db.reset(raw);
    if (rc != SQLITE_OK) return sql::db_error("cannot open the database file");

    {
        // SQLCipher takes a raw key as the literal x'…'; no passphrase KDF runs at open.
        auto db_key = crypto::derive_key(master_key, "serambi/sqlcipher/v1");
        std::string literal = "x'" + crypto::to_hex(db_key.bytes()) + "'";
        const int key_rc = sqlite3_key(impl->db.get(), literal.data(), static_cast<int>(literal.size()));
        crypto::wipe(literal);
        if (key_rc != SQLITE_OK) return sql::db_error("cannot key the database");
    }
    if (!sql::exec(impl->db.get(), "SELECT count(*) FROM sqlite_master;"))
        return make_error(ErrorKind::permission_denied,
                          "the database " + options.database.string() +
                              " cannot be read with this master key: "
                              "the key is wrong, or the file is damaged or not a Serambi database (run serambi fsck; "
                              "restore it from a backup)");
    // Nothing is trusted before the whole file has been read back: SQLCipher authenticates
    // every page, so a flipped bit anywhere shows up here rather than as a missing row later,
    // when a missing row would make a stored package look like an orphan.
    if (auto problems = options.read_only ? std::vector<std::string>{} : integrity_check(impl->db.get()); !problems)
        return problems.error();
    else if (!problems->empty())
        return make_error(ErrorKind::corruption, "the database " + options.database.string() +
                                                     " is damaged (integrity check: " + problems->front() +
                                                     "); restore it from a backup, run serambi fsck, and "
                                                     "start again");
    // Only `init` may lay down the schema: a file without it (emptied, truncated to nothing, or
    // another SQLCipher database under the same key) is refused rather than filled anew.
    if (!options.create) {
        if (auto missing = missing_tables(impl->db.get()); !missing.empty())
            return make_error(ErrorKind::corruption, "the database " + options.database.string() +
                                                         " lacks the Serambi schema (no table " + missing +
                                                         "); restore it from the backup taken with the blobs");
    }
    if (options.read_only) {
        if (!sql::exec(impl->db.get(), "PRAGMA query_only=ON;"))
            return sql::db_error("cannot open the database for reading");
    } else if (!sql::exec(impl->db.get(), "PRAGMA journal_mode=WAL;") ||
               !sql::exec(impl->db.get(), "PRAGMA synchronous=FULL;") ||
               !sql::exec(impl->db.get(), "PRAGMA foreign_keys=ON;") ||
               !sql::exec(impl->db.get(), "PRAGMA secure_delete=ON;") ||
               // 32 MiB of decrypted pages: the tree's right edge and the newest entries stay in
               // memory instead of being read back and decrypted again on every append.
               !sql::exec(impl->db.get(), "PRAGMA cache_size=-32768;") || !sql::exec(impl->db.get(), kSchema)) {
        return sql::db_error("cannot prepare the database schema");
    }
    // Columns added after the first release: an older database gets them, empty, on open.
    struct AddedColumn {
        const char* table_info;
        const char* name;
        const char* alter;
    };
    for (const auto& column :
         {AddedColumn{"PRAGMA table_info(principals);", "cert_not_after",
                      "ALTER TABLE principals ADD COLUMN cert_not_after TEXT NOT NULL DEFAULT '';"},
          AddedColumn{"PRAGMA table_info(principals);", "removed_at",
                      "ALTER TABLE principals ADD COLUMN removed_at TEXT NOT NULL DEFAULT '';"},
          AddedColumn{"PRAGMA table_info(principals);", "age_recipient",
                      "ALTER TABLE principals ADD COLUMN age_recipient TEXT NOT NULL DEFAULT '';"},
          AddedColumn{"PRAGMA table_info(packages);", "recipients",
                      "ALTER TABLE packages ADD COLUMN recipients TEXT NOT NULL DEFAULT '';"}})
        if (!options.read_only && !has_column(impl->db.get(), column.table_info, column.name) &&
            !sql::exec(impl->db.get(), column.alter))
            return make_error(ErrorKind::unavailable,
                              std::string("cannot add the ") + column.name + " column to an older database");

    if (auto loaded = impl->load_audit_tail(); !loaded) return loaded.error();

    std::unique_ptr<Store> store(new Store(std::move(impl)));
    if (!options.read_only)
        store->impl_->audit_committer = std::thread([raw = store->impl_.get()] { raw->run_audit_committer(); });

    return store;
}

// Runs `insert` and, when `audit_entry` is given, appends it in the same transaction.
Result<std::optional<std::uint64_t>> Store::insert_with_audit(const std::function<Status()>& insert,
                                                              const std::string& audit_entry) {
    std::lock_guard lock(impl_->mutex);
    if (audit_entry.empty()) {
        if (auto s = insert(); !s) return s.error();
        return std::optional<std::uint64_t>{};
    }
    if (!sql::exec(impl_->db.get(), "BEGIN IMMEDIATE;"))
        return sql::db_error("the database is not available for writing");
    Status inserted = insert();
    Result<std::uint64_t> index = make_error(ErrorKind::unavailable, "not reached");
    if (inserted) index = impl_->append_audit_locked({audit_entry});
    if (!inserted || !index || !sql::exec(impl_->db.get(), "COMMIT;")) {
        sql::exec(impl_->db.get(), "ROLLBACK;");
        impl_->reload_audit_tail_after_rollback();
        if (!inserted) return inserted.error();
        return sql::db_error("the change and its access-log entry could not be recorded");
    }
    return std::optional<std::uint64_t>{*index};
}

Result<std::optional<std::uint64_t>> Store::add_principal(const Principal& p, const std::string& audit_entry) {
    return insert_with_audit(
        [&]() -> Status {
            sql::Statement s(impl_->db.get(),
                             "INSERT INTO principals(id, name, roles, cert_serial, cert_fingerprint, "
                             "created_at, age_recipient, cert_not_after) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
            return sql::write_result(s.bind(1, p.id)
                                         .bind(2, p.name)
                                         .bind(3, boost::algorithm::join(p.roles, ","))
                                         .bind(4, p.cert_serial)
                                         .bind(5, p.cert_fingerprint)
                                         .bind(6, p.created_at.empty() ? format_time(impl_->env->now()) : p.created_at)
                                         .bind(7, p.age_recipient)
                                         .bind(8, p.cert_not_after)
                                         .step(),
                                     "principal " + p.id);
        },
        audit_entry);
}

Result<std::optional<std::uint64_t>> Store::set_age_recipient(const std::string& id, const std::string& recipient,
                                                              const std::string& audit_entry) {
    return insert_with_audit(
        [&]() -> Status {
            sql::Statement s(impl_->db.get(), "UPDATE principals SET age_recipient = ?2 WHERE id = ?1");
            if (s.bind(1, id).bind(2, recipient).step() != SQLITE_DONE)
                return sql::db_error("the database refused the write");
            if (sqlite3_changes(impl_->db.get()) != 1) return make_error(ErrorKind::not_found, "no such principal");
            return {};
        },
        audit_entry);
}

Result<Principal> Store::principal(const std::string& id) {
    std::lock_guard lock(impl_->mutex);
    auto s = impl_->cached(
        "SELECT id, name, roles, cert_serial, cert_fingerprint, created_at, age_recipient, cert_not_after, removed_at "
        "FROM principals WHERE id = ?1");
    const int rc = s->bind(1, id).step();
    if (rc == SQLITE_ROW) return principal_from(*s);
    if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, "no such principal");
    return sql::db_error("the database could not be read");
}

Result<std::vector<Principal>> Store::principals() {
    std::lock_guard lock(impl_->mutex);
    sql::Statement s(
        impl_->db.get(),
        "SELECT id, name, roles, cert_serial, cert_fingerprint, created_at, age_recipient, cert_not_after, removed_at "
        "FROM principals ORDER BY id");
    std::vector<Principal> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(principal_from(s));
    if (rc != SQLITE_DONE) return sql::db_error("the database could not be read");
    return out;
}

Result<std::optional<std::uint64_t>> Store::add_dataset(const Dataset& d, const std::string& audit_entry) {
    return insert_with_audit(
        [&]() -> Status {
            sql::Statement s(impl_->db.get(),
                             "INSERT INTO datasets(id, owner, classification, title, created_by, "
                             "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
            return sql::write_result(s.bind(1, d.id)
                                         .bind(2, d.owner)
                                         .bind(3, d.classification)
                                         .bind(4, d.title)
                                         .bind(5, d.created_by)
                                         .bind(6, d.created_at.empty() ? format_time(impl_->env->now()) : d.created_at)
                                         .step(),
                                     "dataset " + d.id);
        },
        audit_entry);
}

Result<Dataset> Store::dataset(const std::string& id) {
    std::lock_guard lock(impl_->mutex);
    auto s = impl_->cached(
        "SELECT id, owner, classification, title, created_by, created_at "
        "FROM datasets WHERE id = ?1");
    const int rc = s->bind(1, id).step();
    if (rc == SQLITE_ROW) return dataset_from(*s);
    if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, "no such dataset");
    return sql::db_error("the database could not be read");
}

Result<std::vector<Dataset>> Store::datasets() {
    std::lock_guard lock(impl_->mutex);
    sql::Statement s(impl_->db.get(),
                     "SELECT id, owner, classification, title, created_by, created_at "
                     "FROM datasets ORDER BY id");
    std::vector<Dataset> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(dataset_from(s));
    if (rc != SQLITE_DONE) return sql::db_error("the database could not be read");
    return out;
}

Result<PackageRecord> Store::package(const std::string& id) {
    std::lock_guard lock(impl_->mutex);
    auto s = impl_->cached(std::string(kPackageColumns) + "WHERE id = ?1");
    const int rc = s->bind(1, id).step();
    if (rc == SQLITE_ROW) return package_from(*s);
    if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, "no such package");
    return sql::db_error("the database could not be read");
}

Result<std::vector<PackageRecord>> Store::packages_in(const std::string& dataset) {
    std::lock_guard lock(impl_->mutex);
    sql::Statement s(impl_->db.get(), std::string(kPackageColumns) + "WHERE dataset = ?1 ORDER BY created_at, id");
    s.bind(1, dataset);
    std::vector<PackageRecord> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(package_from(s));
    if (rc != SQLITE_DONE) return sql::db_error("the database could not be read");
    return out;
}

}  // namespace serambi::storage
