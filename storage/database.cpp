// The connection layer: opening, keying and checking the database, and the writer's transactions.
#include "storage/database.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "storage/files.h"

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
-- Small payloads, sealed like any blob, kept inside the database: they are committed with their
-- row and its access-log entry by one fsync, instead of a file, its fsync and its directory's each.
CREATE TABLE IF NOT EXISTS package_payloads(
  id TEXT PRIMARY KEY REFERENCES packages(id), sealed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS audit_entries(idx INTEGER PRIMARY KEY, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_nodes(
  level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY(level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_checkpoints(size INTEGER PRIMARY KEY, note TEXT NOT NULL);
-- The access log's key hand-overs: from the checkpoint of `size` entries on, `new_key` signs.
CREATE TABLE IF NOT EXISTS audit_key_handovers(
  size INTEGER PRIMARY KEY, old_key TEXT NOT NULL, new_key TEXT NOT NULL, note TEXT NOT NULL);
-- Witnesses' cosignature lines (C2SP tlog-cosignature), each over the checkpoint of its size.
CREATE TABLE IF NOT EXISTS audit_cosignatures(
  size INTEGER NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL,
  PRIMARY KEY(witness, size)) WITHOUT ROWID;
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
CREATE TABLE IF NOT EXISTS access_requests(
  id TEXT PRIMARY KEY, package TEXT NOT NULL REFERENCES packages(id),
  partner TEXT NOT NULL REFERENCES principals(id), purpose TEXT NOT NULL, created_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'released', 'refused')),
  decided_by TEXT NOT NULL DEFAULT '', decided_at INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS access_requests_by_state ON access_requests(state, created_at, id);
CREATE INDEX IF NOT EXISTS access_requests_by_partner ON access_requests(partner, created_at, id);
CREATE TABLE IF NOT EXISTS push_keys(
  principal TEXT NOT NULL, key TEXT NOT NULL, package_id TEXT NOT NULL REFERENCES packages(id),
  audit_index INTEGER NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY(principal, key));
CREATE TABLE IF NOT EXISTS uploads(
  id TEXT PRIMARY KEY, package_id TEXT NOT NULL UNIQUE, dataset TEXT NOT NULL, producer TEXT NOT NULL,
  classification TEXT NOT NULL, filename TEXT NOT NULL, media_type TEXT NOT NULL, recipients TEXT NOT NULL,
  length INTEGER NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  aead INTEGER NOT NULL, key_id TEXT NOT NULL, wrapped_key BLOB NOT NULL, epoch INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'complete')),
  audit_index INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS uploads_by_producer ON uploads(producer, state);
-- Webhooks: endpoints, the deliveries queued for them, and how far the access log has been read
-- for events (the first index not yet turned into deliveries).
CREATE TABLE IF NOT EXISTS hooks(
  id TEXT PRIMARY KEY, owner TEXT NOT NULL REFERENCES principals(id), everyone INTEGER NOT NULL,
  url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL, created_at INTEGER NOT NULL,
  from_index INTEGER NOT NULL, removed_at INTEGER NOT NULL DEFAULT 0, cert_serial TEXT NOT NULL,
  confirmed_at INTEGER NOT NULL DEFAULT 0, confirm_tries INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS hooks_by_owner ON hooks(owner, removed_at);
CREATE TABLE IF NOT EXISTS hook_deliveries(
  id TEXT PRIMARY KEY, hook TEXT NOT NULL REFERENCES hooks(id), event TEXT NOT NULL,
  recipient TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_status INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '', delivered_at INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS hook_deliveries_due ON hook_deliveries(state, next_at);
CREATE INDEX IF NOT EXISTS hook_deliveries_by_hook ON hook_deliveries(hook, created_at);
CREATE TABLE IF NOT EXISTS hook_cursor(id INTEGER PRIMARY KEY CHECK (id = 1), next_index INTEGER NOT NULL);
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

// Opens and keys one connection. SQLCipher takes a raw key as the literal x'…'; no passphrase
// KDF runs at open.
Result<std::unique_ptr<Connection>> connect(const Database::Options& options, const crypto::SecretKey& db_key,
                                            bool create, int cipher_page_size) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(
        options.path.c_str(), &raw,
        (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)) |
            SQLITE_OPEN_FULLMUTEX,
        options.sqlite_vfs.empty() ? nullptr : options.sqlite_vfs.c_str());
    sql::DbPtr db(raw);
    if (rc != SQLITE_OK) return sql::db_error("cannot open the database file");
    // Another process (a backup, fsck) may hold a lock for a moment; wait rather than fail.
    sqlite3_busy_timeout(db.get(), 5000);
    std::string hex = crypto::to_hex(db_key.bytes());
    std::string literal;
    literal.reserve(hex.size() + 3);
    literal.append("x'").append(hex).append("'");
    crypto::wipe(hex);
    const int key_rc = sqlite3_key(db.get(), literal.data(), static_cast<int>(literal.size()));
    crypto::wipe(literal);
    if (key_rc != SQLITE_OK) return sql::db_error("cannot key the database");
    const std::string page_size = "PRAGMA cipher_page_size = " + std::to_string(cipher_page_size) + ";";
    if (!sql::exec(db.get(), page_size.c_str())) return sql::db_error("cannot key the database");
    return std::make_unique<Connection>(std::move(db));
}

// SQLCipher encrypts and authenticates each page on its own, and most of that cost is per page
// (cipher and HMAC set-up, a fresh IV), not per byte: 4 KiB pages hold a small package's row and
// payload in a third as many pages as 1 KiB ones (64 KiB pushes +30 % in bench/small.sh). New
// databases get 4 KiB; those made before keep the 1 KiB they were made with. The page size is
// inside the encrypted header, so it is found by trying: only the right one authenticates page 1.
constexpr int kPageSize = 4096;
constexpr int kFirstReleasePageSize = 1024;

// The schema's version, kept in the database's header (PRAGMA user_version). Version 0 is a
// database made before versions were kept, by any earlier release: the tables and columns it
// lacks are added. A later change of schema adds a step to upgrade_schema and raises this.
constexpr int kSchemaVersion = 4;

Result<int> schema_version(sqlite3* db) {
    sql::Statement s(db, "PRAGMA user_version;");
    if (s.step() != SQLITE_ROW) return sql::db_error("cannot read the database's schema version");
    return static_cast<int>(s.integer(0));
}

// Brings a database from `from` to kSchemaVersion in one transaction: all of it, or nothing.
Status upgrade_schema(sqlite3* w, int from) {
    if (!sql::exec(w, "BEGIN IMMEDIATE;")) return sql::db_error("the database is busy");
    auto fail = [&](const std::string& what) -> Status {
        sql::exec(w, "ROLLBACK;");
        return make_error(ErrorKind::unavailable, what);
    };
    if (from < 1) {
        // Tables added since the first release are created; columns added since, empty.
        if (!sql::exec(w, kSchema)) return fail("cannot create the tables");
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
                          "ALTER TABLE packages ADD COLUMN recipients TEXT NOT NULL DEFAULT '';"},
              AddedColumn{"PRAGMA table_info(approvals);", "served_bytes",
                          "ALTER TABLE approvals ADD COLUMN served_bytes INTEGER NOT NULL DEFAULT 0;"},
              AddedColumn{"PRAGMA table_info(approvals);", "covered_bytes",
                          "ALTER TABLE approvals ADD COLUMN covered_bytes INTEGER NOT NULL DEFAULT 0;"},
              AddedColumn{"PRAGMA table_info(approvals);", "completed_pending",
                          "ALTER TABLE approvals ADD COLUMN completed_pending INTEGER NOT NULL DEFAULT 0;"}})
            if (!has_column(w, column.table_info, column.name) && !sql::exec(w, column.alter))
                return fail(std::string("cannot add the ") + column.name + " column");
    }
    // Version 2 added audit_key_handovers (access-log key rotation).
    // Version 3 added hooks, hook_deliveries and hook_cursor (webhooks).
    if (from < 3 && !sql::exec(w, kSchema)) return fail("cannot create the tables");
    // Version 4 added hooks' confirmed_at and confirm_tries (email addresses are confirmed
    // before they hear anything); the hooks made before were all HTTPS, confirmed as made.
    if (from < 4) {
        for (const auto& [name, alter] :
             {std::pair{"confirmed_at", "ALTER TABLE hooks ADD COLUMN confirmed_at INTEGER NOT NULL DEFAULT 0;"},
              std::pair{"confirm_tries", "ALTER TABLE hooks ADD COLUMN confirm_tries INTEGER NOT NULL DEFAULT 0;"}})
            if (!has_column(w, "PRAGMA table_info(hooks);", name) && !sql::exec(w, alter))
                return fail(std::string("cannot add the ") + name + " column");
        if (!sql::exec(
                w, "UPDATE hooks SET confirmed_at = created_at WHERE confirmed_at = 0 AND url NOT LIKE 'mailto:%';"))
            return fail("cannot mark the existing webhooks confirmed");
    }
    const std::string set_version = "PRAGMA user_version = " + std::to_string(kSchemaVersion) + ";";
    if (!sql::exec(w, set_version.c_str())) return fail("cannot record the schema version");
    if (!sql::exec(w, "COMMIT;")) return fail("cannot commit the upgrade");
    return {};
}

}  // namespace

Result<std::unique_ptr<Database>> Database::open(const Options& options, const crypto::SecretKey& master_key) {
    std::error_code ec;
    if (!options.create && !std::filesystem::exists(options.path, ec))
        return make_error(ErrorKind::not_found, "the database " + options.path.string() +
                                                    " is missing; restore it from the backup taken with the blobs (the "
                                                    "gateway will not start on an empty database, which would discard "
                                                    "every stored package)");
    const auto db_key = crypto::derive_key(master_key, "serambi/sqlcipher/v1");
    std::unique_ptr<Database> db(new Database());
    int page_size = kPageSize;
    auto writer = connect(options, db_key, options.create, page_size);
    if (!writer) return writer.error();
    // Only a first page that does not authenticate under 4 KiB pages means 1 KiB ones; any other
    // failure (a lock, an I/O error) is reported as it is, below.
    if (const int probe =
            sqlite3_exec((*writer)->get(), "SELECT count(*) FROM sqlite_master;", nullptr, nullptr, nullptr);
        probe == SQLITE_NOTADB && !options.create) {
        page_size = kFirstReleasePageSize;
        writer = connect(options, db_key, false, page_size);
        if (!writer) return writer.error();
    } else if (const int primary = probe & 0xff; primary == SQLITE_BUSY || primary == SQLITE_LOCKED ||
                                                 primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN ||
                                                 primary == SQLITE_PERM || primary == SQLITE_READONLY) {
        return make_error(ErrorKind::unavailable, "cannot read the database " + options.path.string() + ": " +
                                                      sqlite3_errstr(probe) +
                                                      " (another process holding it, or the disk or permissions)");
    }
    db->writer_ = std::move(*writer);
    db->options_ = options;
    db->page_size_ = page_size;
    sqlite3* w = db->writer_->get();

    if (!sql::exec(w, "SELECT count(*) FROM sqlite_master;"))
        return make_error(ErrorKind::permission_denied,
                          "the database " + options.path.string() +
                              " cannot be read with this master key: "
                              "the key is wrong, or the file is damaged or not a Serambi database (run serambi fsck; "
                              "restore it from a backup)");
    // Nothing is trusted before the whole file has been read back: SQLCipher authenticates
    // every page, so a flipped bit anywhere shows up here rather than as a missing row later,
    // when a missing row would make a stored package look like an orphan.
    if (auto problems = options.read_only ? std::vector<std::string>{} : integrity_check(w); !problems)
        return problems.error();
    else if (!problems->empty())
        return make_error(ErrorKind::corruption, "the database " + options.path.string() +
                                                     " is damaged (integrity check: " + problems->front() +
                                                     "); restore it from a backup, run serambi fsck, and "
                                                     "start again");
    // Only `init` may lay down the schema: a file without it (emptied, truncated to nothing, or
    // another SQLCipher database under the same key) is refused rather than filled anew.
    if (!options.create) {
        if (auto missing = missing_tables(w); !missing.empty())
            return make_error(ErrorKind::corruption, "the database " + options.path.string() +
                                                         " lacks the Serambi schema (no table " + missing +
                                                         "); restore it from the backup taken with the blobs");
    }
    auto version = schema_version(w);
    if (!version) return version.error();
    if (*version > kSchemaVersion)
        return make_error(ErrorKind::unavailable,
                          "the database " + options.path.string() + " has schema version " + std::to_string(*version) +
                              ", newer than this Serambi knows (" + std::to_string(kSchemaVersion) +
                              "): a newer release made or upgraded it. Run that release; to go back to this one, "
                              "restore the backup taken before the upgrade. Nothing was changed");
    if (options.read_only) {
        if (!sql::exec(w, "PRAGMA query_only=ON;")) return sql::db_error("cannot open the database for reading");
    } else if (!sql::exec(w, "PRAGMA journal_mode=WAL;") || !sql::exec(w, "PRAGMA synchronous=FULL;") ||
               !sql::exec(w, "PRAGMA foreign_keys=ON;") || !sql::exec(w, "PRAGMA secure_delete=ON;") ||
               // 32 MiB of decrypted pages: the tree's right edge and the newest entries stay in
               // memory instead of being read back and decrypted again on every append.
               !sql::exec(w, "PRAGMA cache_size=-32768;")) {
        return sql::db_error("cannot prepare the database");
    } else if (*version < kSchemaVersion) {
        if (auto upgraded = upgrade_schema(w, *version); !upgraded)
            return make_error(upgraded.error().kind,
                              "the database " + options.path.string() + " could not be upgraded from schema version " +
                                  std::to_string(*version) + " to " + std::to_string(kSchemaVersion) + " (" +
                                  upgraded.error().message + "); nothing was changed");
    }

    if (auto loaded = db->tail_.load(*db->writer_); !loaded) return loaded.error();
    db->committed_log_size_.store(db->tail_.size(), std::memory_order_release);

    // The reader opens once the writer has put the file in WAL mode and laid down the schema.
    auto reader = connect(options, db_key, false, page_size);
    if (!reader) return reader.error();
    db->reader_ = std::move(*reader);
    sqlite3* r = db->reader_->get();
    if (!sql::exec(r, "PRAGMA query_only=ON;") || !sql::exec(r, "PRAGMA cache_size=-16384;") ||
        !sql::exec(r, "SELECT count(*) FROM sqlite_master;"))
        return sql::db_error("cannot open the database for reading");
    return db;
}

struct Database::Waiting {
    const std::function<Status(Transaction&)>* change;
    Rerun rerun;
    Status result;
    bool commit_failed = false;
    bool done = false;
};

std::size_t Database::queued_changes() {
    std::lock_guard lock(queue_mutex_);
    return queue_.size();
}

Status Database::write(const std::function<Status(Transaction&)>& change, bool* commit_failed, Rerun rerun) {
    Waiting me{&change, rerun, {}, false, false};
    std::unique_lock lock(queue_mutex_);
    queue_.push_back(&me);
    queue_changed_.wait(lock, [&] { return me.done || !leading_; });
    if (!me.done) {
        // This thread leads: it commits every change queued so far, its own among them.
        leading_ = true;
        std::vector<Waiting*> group;
        group.swap(queue_);
        lock.unlock();
        try {
            commit_group(group);
        } catch (...) {
            // Whatever escaped (memory ran out copying the log tail, say): nothing of the group is
            // committed, and the next leader finds the writer outside any transaction.
            std::lock_guard writer(write_mutex_);
            abandon_group(group, make_error(ErrorKind::unavailable, "the change could not be committed"));
        }
        lock.lock();
        leading_ = false;
        for (auto* waiting : group) waiting->done = true;
        queue_changed_.notify_all();
    }
    if (commit_failed && me.commit_failed) *commit_failed = true;
    return std::move(me.result);
}

// Rolls back whatever of the group is in the open transaction and fails every change of it
// that had not failed on its own; `outcome_unknown` when it was the COMMIT that failed.
void Database::abandon_group(const std::vector<Waiting*>& group, const Error& why, bool outcome_unknown) noexcept {
    sqlite3* w = writer_->get();
    if (!sqlite3_get_autocommit(w)) sql::exec(w, "ROLLBACK;");
    try {
        tail_.reload_after_rollback(*writer_);
    } catch (...) {
    }
    for (auto* waiting : group)
        if (waiting->result) {
            waiting->result = why;
            waiting->commit_failed = outcome_unknown;
        }
}

namespace {
// Runs one change of a group; what it throws is the caller's, not ours to end the gateway with.
Status run_change(const std::function<Status(Transaction&)>& change, Transaction& transaction) {
    try {
        return change(transaction);
    } catch (...) {
        return make_error(ErrorKind::internal, "the change failed unexpectedly");
    }
}
}  // namespace

void Database::commit_group(const std::vector<Waiting*>& group) {
    std::lock_guard lock(write_mutex_);
    const bool rerunnable =
        std::all_of(group.begin(), group.end(), [](const Waiting* w) { return w->rerun == Rerun::allowed; });
    if (group.size() > 1 && rerunnable && commit_without_savepoints(group)) return;
    commit_with_savepoints(group);
}

bool Database::commit_without_savepoints(const std::vector<Waiting*>& group) {
    sqlite3* w = writer_->get();
    if (!sql::exec(w, "BEGIN IMMEDIATE;")) {
        abandon_group(group, sql::db_error("the database is not available for writing"));
        return true;
    }
    const Error lost = sql::db_error("the change could not be committed");
    const LogTail before = tail_;
    Transaction transaction(*writer_, tail_);
    for (auto* waiting : group) {
        waiting->result = run_change(*waiting->change, transaction);
        // SQLite gives up the whole transaction on some errors (I/O, a full disk), even under a
        // change that reported success: the changes before went with it.
        if (sqlite3_get_autocommit(w)) {
            abandon_group(group, lost);
            return true;
        }
        if (waiting->result) continue;
        // One failed: nothing of the group stays, and every change runs again in a savepoint.
        if (!sql::exec(w, "ROLLBACK;")) {
            abandon_group(group, lost);
            return true;
        }
        tail_ = before;
        for (auto* each : group) each->result = Status{};
        return false;
    }
    if (!sql::exec(w, "COMMIT;")) {
        abandon_group(group, lost, true);
        return true;
    }
    committed_log_size_.store(tail_.size(), std::memory_order_release);
    return true;
}

void Database::commit_with_savepoints(const std::vector<Waiting*>& group) {
    sqlite3* w = writer_->get();
    if (!sql::exec(w, "BEGIN IMMEDIATE;")) {
        abandon_group(group, sql::db_error("the database is not available for writing"));
        return;
    }
    const Error lost = sql::db_error("the change could not be committed");
    Transaction transaction(*writer_, tail_);
    const bool alone = group.size() == 1;  // no savepoint needed: the transaction is the change's own
    std::size_t kept = 0;
    for (auto* waiting : group) {
        const LogTail before = tail_;
        if (!alone && !sql::exec(w, "SAVEPOINT change;")) return abandon_group(group, lost);
        if (auto changed = run_change(*waiting->change, transaction); !changed) waiting->result = std::move(changed);
        // SQLite gives up the whole transaction on some errors (I/O, a full disk), even under a
        // change that reported success: the changes before went with it.
        if (sqlite3_get_autocommit(w)) return abandon_group(group, lost);
        if (waiting->result) {
            if (!alone && !sql::exec(w, "RELEASE change;")) return abandon_group(group, lost);
            ++kept;
            continue;
        }
        // Undone alone, its log entries with it.
        if (!alone && (!sql::exec(w, "ROLLBACK TO change;") || !sql::exec(w, "RELEASE change;")))
            return abandon_group(group, lost);
        tail_ = before;
    }
    if (kept == 0) {
        sql::exec(w, "ROLLBACK;");
        tail_.reload_after_rollback(*writer_);
        return;
    }
    if (!sql::exec(w, "COMMIT;")) return abandon_group(group, lost, true);
    committed_log_size_.store(tail_.size(), std::memory_order_release);
}

Result<std::optional<std::uint64_t>> Database::write_with_entry(const std::function<Status(Connection&)>& change,
                                                                const std::string& entry) {
    std::optional<std::uint64_t> index;
    bool change_failed = false;
    Status written = write([&](Transaction& tx) -> Status {
        if (auto s = change(tx.connection()); !s) {
            change_failed = true;
            return s;
        }
        if (entry.empty()) return {};
        auto appended = tx.append_log({entry});
        if (!appended) return appended.error();
        index = *appended;
        return {};
    });
    if (!written) {
        if (change_failed) return written.error();
        return sql::db_error("the change and its access-log entry could not be recorded");
    }
    return index;
}

Result<std::vector<std::string>> Database::integrity_problems() {
    std::lock_guard lock(write_mutex_);
    return integrity_check(writer_->get());
}

Status Database::copy_to(const std::filesystem::path& destination, const crypto::SecretKey& master_key) {
    // Created here, empty and 0600, so that SQLite never makes it with the umask's mode, and a
    // file already there is refused rather than overwritten.
    const int fd = ::open(destination.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return make_error(errno == EEXIST ? ErrorKind::conflict : ErrorKind::unavailable,
                          "cannot create " + destination.string() + ": " + std::strerror(errno));
    ::close(fd);
    auto fail = [&](Error why) -> Status {
        std::error_code ignored;
        std::filesystem::remove(destination, ignored);
        return why;
    };
    Options copy_options{destination, false, false, {}};
    auto copy = connect(copy_options, crypto::derive_key(master_key, "serambi/sqlcipher/v1"), false, page_size_);
    if (!copy) return fail(copy.error());
    sqlite3* to = (*copy)->get();
    {
        std::lock_guard lock(read_mutex_);
        sqlite3_backup* backup = sqlite3_backup_init(to, "main", reader_->get(), "main");
        if (backup == nullptr)
            return fail(make_error(ErrorKind::unavailable,
                                   std::string("cannot start copying the database: ") + sqlite3_errmsg(to)));
        const int rc = sqlite3_backup_step(backup, -1);
        sqlite3_backup_finish(backup);
        if (rc != SQLITE_DONE)
            return fail(
                make_error(ErrorKind::unavailable, std::string("cannot copy the database: ") + sqlite3_errstr(rc)));
    }
    // One self-contained file: the copy's pages leave its write-ahead log before it is closed.
    {
        sql::Statement mode(to, "PRAGMA journal_mode=DELETE;");
        if (mode.step() != SQLITE_ROW || mode.text(0) != "delete")
            return fail(make_error(ErrorKind::unavailable, "cannot finish the copy of the database"));
    }
    copy->reset();
    if (auto s = fsync_directory(*Env::posix(), destination.parent_path()); !s) return fail(s.error());
    return {};
}

int database_schema_version() noexcept { return kSchemaVersion; }

std::uint64_t Database::file_bytes() const {
    std::uint64_t total = 0;
    for (const char* suffix : {"", "-wal"}) {
        struct stat st {};
        if (::stat((options_.path.string() + suffix).c_str(), &st) == 0)
            total += static_cast<std::uint64_t>(st.st_size);
    }
    return total;
}

std::string database_library_version() {
    std::string cipher = "unknown";
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
        sql::Statement s(raw, "PRAGMA cipher_version;");
        if (s.step() == SQLITE_ROW) cipher = s.text(0);
    }
    sql::DbPtr close(raw);
    return "SQLCipher " + cipher + " (SQLite " + sqlite3_libversion() + ")";
}

Result<std::vector<std::string>> integrity_check(sqlite3* db) {
    sql::Statement s(db, "PRAGMA integrity_check;");
    std::vector<std::string> problems;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        if (const auto line = s.text(0); line != "ok" && problems.size() < 100) problems.push_back(line);
    if (rc != SQLITE_DONE)
        return make_error(ErrorKind::corruption, "the database could not be read whole (" +
                                                     std::string(sqlite3_errmsg(db)) +
                                                     "); it is damaged or not a Serambi database");
    return problems;
}

}  // namespace serambi::storage
