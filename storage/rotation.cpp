// Master-key rotation and the deployment lock. The rotation never has the database and the key
// disagree in a way it cannot undo: until the copy under the new key takes the database's place
// (one rename), the old key and database stand and the rotation is rolled back; after it, the
// new key file exists beside the old one and the rotation is finished.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crypto/tlog.h"
#include "storage/blobs.h"
#include "storage/database.h"
#include "storage/files.h"
#include "storage/store.h"

namespace serambi::storage {
namespace {

namespace fs = std::filesystem;

fs::path with_suffix(const fs::path& path, const char* suffix) { return fs::path(path.string() + suffix); }

Error io(const std::string& what) { return make_error(ErrorKind::io_error, what + ": " + std::strerror(errno)); }

// Whether a file exists; an error other than absence is an error, not a "no".
Result<bool> file_exists(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return io("cannot look at " + path.string());
}

Status remove_if_there(const fs::path& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io("cannot remove " + path.string());
    return {};
}

// A database file with nothing of SQLite's beside it: a write-ahead log left next to a file that
// a rename replaced would be replayed into the wrong database.
Status remove_database(const fs::path& database) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
        if (auto s = remove_if_there(with_suffix(database, suffix)); !s) return s;
    return fsync_directory(*Env::posix(), database.parent_path());
}

// Whether `key` opens `database` (a read-only open that authenticates its first pages): true,
// false for another key's database, or an error when it could not be told (a lock, the disk).
Result<bool> opens_with(const fs::path& database, const crypto::SecretKey& key) {
    Database::Options options{database, false, true, {}};
    auto db = Database::open(options, key);
    if (db) return true;
    if (db.error().kind == ErrorKind::permission_denied) return false;
    return make_error(ErrorKind::unavailable, "cannot tell which key opens " + database.string() + " (" +
                                                  db.error().message + "); nothing was changed: try again");
}

// The new key, whole or not at all: written under a temporary name, made durable, then renamed.
Status write_key_atomically(const fs::path& path, const crypto::SecretKey& key) {
    const auto temp = with_suffix(path, ".tmp");
    if (auto s = remove_if_there(temp); !s) return s;
    if (auto s = write_master_key(temp, key); !s) return s;
    if (::rename(temp.c_str(), path.c_str()) != 0) return io("cannot rename " + temp.string());
    return fsync_directory(*Env::posix(), path.parent_path());
}

// A file made in the place of another gets its owner and group, so that a rotation run as root
// leaves files the gateway's own user can still read.
Status match_owner(const fs::path& made, const fs::path& like) {
    struct stat st {};
    if (::stat(like.c_str(), &st) != 0) return io("cannot look at " + like.string());
    if (::lchown(made.c_str(), st.st_uid, st.st_gid) != 0)
        return io("cannot give " + made.string() + " the owner of " + like.string());
    return {};
}

// Overwrites a key file's bytes in place before it is replaced, so that the old key does not
// stay readable in the file's blocks (as far as the file system rewrites in place). A key kept
// read-only (0400) is made writable by its owner first.
Status overwrite(const fs::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == EACCES && ::chmod(path.c_str(), 0600) == 0)
        fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return errno == ENOENT ? Status{} : Status(io("cannot overwrite " + path.string()));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        return io("cannot overwrite " + path.string());
    }
    std::string zeros(static_cast<std::size_t>(st.st_size), '\0');
    const bool ok =
        ::pwrite(fd, zeros.data(), zeros.size(), 0) == static_cast<ssize_t>(zeros.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return io("cannot overwrite " + path.string());
    return {};
}

// A file that may hold a secret key, overwritten and then removed.
Status destroy(const fs::path& path) {
    if (auto s = overwrite(path); !s) return s;
    return remove_if_there(path);
}

Status place(const fs::path& from, const fs::path& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) return io("cannot rename " + from.string() + " to " + to.string());
    return fsync_directory(*Env::posix(), to.parent_path());
}

// In the copy under the new key: every wrapped data key unwrapped with the old key and wrapped
// with the new one, in one transaction.
Result<std::string> rewrap(Database& copy, const crypto::SecretKey& old_key, const crypto::SecretKey& new_key) {
    const auto old_wrap = wrapping_key_of(old_key);
    const auto new_wrap = wrapping_key_of(new_key);
    const auto old_id = key_id_of(old_key);
    const auto new_id = key_id_of(new_key);
    std::size_t packages = 0, uploads = 0;
    auto rewrapped = copy.write([&](Transaction& tx) -> Status {
        struct Row {
            std::string id;
            std::int64_t epoch;
            std::string key_id;
            crypto::Bytes wrapped;
        };
        for (const bool upload : {false, true}) {
            std::vector<Row> rows;
            {
                // A finished upload's key was cleared when its package was committed.
                sql::Statement s(tx.get(), upload ? "SELECT id, epoch, key_id, wrapped_key FROM uploads "
                                                    "WHERE length(wrapped_key) > 0"
                                                  : "SELECT id, 0, key_id, wrapped_key FROM packages");
                int rc;
                while ((rc = s.step()) == SQLITE_ROW) rows.push_back({s.text(0), s.integer(1), s.text(2), s.blob(3)});
                if (rc != SQLITE_DONE) return sql::db_error("the database could not be read");
            }
            sql::Statement update(tx.get(), upload ? "UPDATE uploads SET key_id = ?2, wrapped_key = ?3 WHERE id = ?1"
                                                   : "UPDATE packages SET key_id = ?2, wrapped_key = ?3 WHERE id = ?1");
            for (const auto& row : rows) {
                if (row.key_id != old_id)
                    return make_error(ErrorKind::corruption, std::string(upload ? "upload " : "package ") + row.id +
                                                                 " is wrapped by another master key (" + row.key_id +
                                                                 ") than this one (" + old_id + ")");
                const auto context = upload ? upload_key_context(row.id, row.epoch) : blob_context(row.id);
                auto data_key = crypto::unwrap_key(old_wrap, row.wrapped, crypto::as_bytes(context));
                if (!data_key)
                    return make_error(ErrorKind::corruption, "the data key of " + row.id + " fails authentication");
                const auto wrapped = crypto::wrap_key(new_wrap, *data_key, crypto::as_bytes(context));
                update.reset();
                if (update.bind(1, row.id).bind(2, new_id).bind(3, wrapped).step() != SQLITE_DONE)
                    return sql::db_error("the database could not be written");
                ++(upload ? uploads : packages);
            }
        }
        return {};
    });
    if (!rewrapped) return rewrapped.error();
    return std::to_string(packages) + " package keys and " + std::to_string(uploads) + " upload keys wrapped again";
}

}  // namespace

Result<DeploymentLock> DeploymentLock::acquire(const std::filesystem::path& blob_dir,
                                               const std::filesystem::path& database, Mode mode) {
    DeploymentLock lock;
    auto lock_fd = [&](int slot, int fd, const fs::path& path, int how, const std::string& holder) -> Status {
        lock.fds_[slot] = fd;
        if (::flock(fd, how | LOCK_NB) == 0) return {};
        if (errno == EWOULDBLOCK)
            return make_error(ErrorKind::conflict,
                              holder + " is working on this deployment (" + path.string() + " is locked)");
        return io("cannot lock " + path.string());
    };
    auto take = [&](int slot, const fs::path& dir, int how, const std::string& holder) -> Status {
        const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return io("cannot open " + dir.string() + " to lock the deployment");
        return lock_fd(slot, fd, dir, how, holder);
    };
    // Created on first use and never removed: removing it would let a second holder lock a new
    // file while the first still holds the old one. Not `<database>.lock`, which SQLite's
    // dot-file locking would take for its own. It is given the database's owner, so that a
    // rotation run as root leaves a lock the gateway's own user can still open. Without a
    // database there is nothing to guard, and opening it reports that, with its remedy, better
    // than a lock would.
    auto take_database = [&](const std::string& holder) -> Status {
        const auto path = with_suffix(database, ".gateway.lock");
        int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            struct stat owner {};
            if (::stat(database.c_str(), &owner) != 0)
                return errno == ENOENT ? Status{} : Status(io("cannot look at " + database.string()));
            fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (fd >= 0 && ::fchown(fd, owner.st_uid, owner.st_gid) != 0) {
                lock.fds_[2] = fd;  // closed with the lock
                return io("cannot give " + path.string() + " the owner of " + database.string());
            }
            if (fd < 0 && errno == EEXIST) fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
            return io("cannot open " + path.string() +
                      " to lock the deployment (it must be readable by the gateway's user, like the database)");
        return lock_fd(2, fd, path, LOCK_EX, holder);
    };
    switch (mode) {
        case Mode::serve: {
            if (auto s = take(0, blob_dir, LOCK_SH, "a key rotation"); !s) return s.error();
            const auto tmp = blob_dir / "tmp";
            if (::mkdir(tmp.c_str(), 0700) != 0 && errno != EEXIST) return io("cannot create " + tmp.string());
            if (auto s = take(1, tmp, LOCK_EX, "another serambi serve"); !s) return s.error();
            if (auto s = take_database("another serambi serve"); !s) return s.error();
            break;
        }
        case Mode::inspect:
            if (auto s = take(0, blob_dir, LOCK_SH, "a key rotation"); !s) return s.error();
            break;
        case Mode::rotate:
            if (auto s = take(0, blob_dir, LOCK_EX, "another serambi (a running gateway, fsck, backup or rotation)");
                !s)
                return s.error();
            if (auto s = take_database("another serambi (a running gateway or rotation)"); !s) return s.error();
            break;
    }
    return lock;
}

DeploymentLock::~DeploymentLock() {
    for (const int fd : fds_)
        if (fd >= 0) ::close(fd);
}

Result<std::string> finish_master_key_rotation(const MasterKeyFiles& files) {
    const auto next_key = with_suffix(files.key, ".next");
    const auto next_database = with_suffix(files.database, ".next");
    if (auto s = remove_if_there(with_suffix(next_key, ".tmp")); !s) return s.error();
    auto pending = file_exists(next_key);
    if (!pending) return pending.error();
    auto copying = file_exists(next_database);
    if (!copying) return copying.error();
    const std::string rolled_back = "an unfinished master-key rotation was rolled back: the old key stays";
    auto roll_back = [&]() -> Result<std::string> {
        if (auto s = remove_database(next_database); !s) return s.error();
        if (auto s = remove_if_there(next_key); !s) return s.error();
        if (auto s = fsync_directory(*Env::posix(), next_key.parent_path()); !s) return s.error();
        return rolled_back;
    };
    if (!*pending) {
        // A copy without its key: the key is written first, so this is a copy nobody can open.
        if (*copying)
            if (auto s = remove_database(next_database); !s) return s.error();
        return std::string();
    }
    // Until the copy takes the database's place, the old key and database stand.
    if (*copying) return roll_back();
    auto next = read_master_key(next_key);
    if (next) {
        auto opens = opens_with(files.database, *next);
        if (!opens) return opens.error();
        if (*opens) {
            // The copy is in place: the new key follows it.
            if (auto s = overwrite(files.key); !s) return s.error();
            if (auto s = place(next_key, files.key); !s) return s.error();
            return std::string("an interrupted master-key rotation was finished: the new key is in place");
        }
    }
    auto current = read_master_key(files.key);
    if (current) {
        auto opens = opens_with(files.database, *current);
        if (!opens) return opens.error();
        if (*opens) return roll_back();
    }
    return make_error(ErrorKind::corruption, "the database " + files.database.string() + " opens with neither " +
                                                 files.key.string() + " nor " + next_key.string() +
                                                 "; keep both files, run serambi fsck, and restore the database from "
                                                 "a backup only if it is damaged");
}

Status rotate_master_key(const MasterKeyFiles& files,
                         const std::function<void(int step, const std::string& done)>& progress) {
    const auto next_key = with_suffix(files.key, ".next");
    const auto next_database = with_suffix(files.database, ".next");
    // The files are replaced by rename: a link would be replaced by a plain file, and SQLite keeps
    // a linked database's journal beside the link's target.
    for (const auto* path : {&files.key, &files.database}) {
        struct stat st {};
        if (::lstat(path->c_str(), &st) != 0) return io("cannot look at " + path->string());
        if (!S_ISREG(st.st_mode))
            return make_error(ErrorKind::invalid_argument,
                              path->string() + " is not a plain file (a link?); point serambi.toml at the file itself");
    }
    auto old_key = read_master_key(files.key);
    if (!old_key) return old_key.error();

    // 1. The new key, durable before anything is encrypted under it.
    if (auto s = write_key_atomically(next_key, crypto::SecretKey::random()); !s) return s;
    if (auto s = match_owner(next_key, files.key); !s) return s;
    auto new_key = read_master_key(next_key);
    if (!new_key) return new_key.error();
    progress(1, "new key written: " + next_key.string());

    // 2. The database settled: opened as the gateway opens it (every page read back), and closed,
    //    which folds its write-ahead log back in; then copied under the new key.
    {
        auto db = Database::open({files.database, false, false, {}}, *old_key);
        if (!db) return db.error();
        if (auto s = (*db)->copy_to(next_database, *new_key); !s) return s;
    }
    for (const char* suffix : {"-wal", "-shm"})
        if (auto there = file_exists(with_suffix(files.database, suffix)); !there || *there)
            return make_error(ErrorKind::unavailable, "the database " + files.database.string() +
                                                          " still has a write-ahead log after it was closed; is "
                                                          "another process using it?");
    if (auto s = match_owner(next_database, files.database); !s) return s;
    progress(2, "database copied under the new key: " + next_database.string());

    // 3. The copy's data keys wrapped again, committed, and the copy checked whole.
    Result<std::string> done = std::string();
    {
        auto copy = Database::open({next_database, false, false, {}}, *new_key);
        if (!copy) return copy.error();
        done = rewrap(**copy, *old_key, *new_key);
        if (!done) return done.error();
        if (auto problems = (*copy)->integrity_problems(); !problems || !problems->empty())
            return make_error(ErrorKind::corruption, "the copy under the new key does not read back whole");
    }
    for (const char* suffix : {"-wal", "-shm", "-journal"})
        if (auto there = file_exists(with_suffix(next_database, suffix)); !there || *there)
            return make_error(ErrorKind::unavailable, "the copy kept a journal after it was closed");
    if (auto s = fsync_directory(*Env::posix(), next_database.parent_path()); !s) return s;
    progress(3, *done);

    // 4. The copy takes the database's place: from here on the rotation can only be finished. A
    //    journal that appeared beside the old database meanwhile (another process opened it)
    //    would be replayed into the new one: checked once more, just before.
    for (const char* suffix : {"-wal", "-shm"})
        if (auto there = file_exists(with_suffix(files.database, suffix)); !there || *there)
            return make_error(ErrorKind::unavailable, "another process opened " + files.database.string() +
                                                          " during the rotation; nothing was changed");
    if (auto s = place(next_database, files.database); !s) return s;
    progress(4, "database under the new key in place: " + files.database.string());

    // 5. The old key overwritten, 6. the new one in its place.
    if (auto s = overwrite(files.key); !s) return s;
    progress(5, "old key overwritten");
    if (auto s = place(next_key, files.key); !s) return s;
    progress(6, "new key in place: " + files.key.string());
    return {};
}

Status stage_log_key(const std::filesystem::path& key, std::string_view private_text) {
    struct stat st {};
    if (::lstat(key.c_str(), &st) != 0) return io("cannot look at " + key.string());
    if (!S_ISREG(st.st_mode))
        return make_error(ErrorKind::invalid_argument,
                          key.string() + " is not a plain file (a link?); point serambi.toml at the file itself");
    const auto next = with_suffix(key, ".next");
    const auto temp = with_suffix(next, ".tmp");
    if (auto s = destroy(temp); !s) return s;
    std::string contents;
    contents.reserve(private_text.size() + 1);  // no reallocation to leave a copy behind
    contents.append(private_text).push_back('\n');
    auto written = write_new_file(temp, contents, 0600);
    crypto::wipe(contents);
    if (!written) return written;
    if (auto s = match_owner(temp, key); !s) return s;
    if (::rename(temp.c_str(), next.c_str()) != 0) return io("cannot rename " + temp.string());
    return fsync_directory(*Env::posix(), key.parent_path());
}

Result<std::string> install_log_key(const std::filesystem::path& key) {
    // The old key is wiped first where it can be; where it cannot, the new key goes in place all
    // the same (the log already names it) and the caller is told.
    const auto wiped = overwrite(key);
    if (auto s = place(with_suffix(key, ".next"), key); !s) return s.error();
    if (!wiped)
        return "the new key is in place, but the old one could not be overwritten first (" + wiped.error().message +
               "); its bytes may remain on the disk";
    return std::string();
}

namespace {

// The verifier key of a signer key file, or empty when it does not hold one.
Result<std::string> verifier_in(const fs::path& file) {
    auto text = crypto::read_secret_file(file, 4096);
    if (!text) {
        if (text.error().kind == ErrorKind::io_error || text.error().kind == ErrorKind::permission_denied)
            return make_error(ErrorKind::unavailable,
                              "cannot read " + file.string() + " (" + text.error().message + "); try again");
        return std::string();
    }
    while (!text->empty() && (text->view().back() == '\n' || text->view().back() == '\r'))
        text->shrink(text->size() - 1);
    auto signer = crypto::tlog::NoteSigner::from_private(text->view());
    return signer ? signer->verifier_key() : std::string();
}

}  // namespace

Result<std::string> install_pending_log_key(const std::filesystem::path& key, const std::string& current) {
    const auto next = with_suffix(key, ".next");
    if (auto s = destroy(with_suffix(next, ".tmp")); !s) return s.error();
    auto pending = file_exists(next);
    if (!pending) return pending.error();
    if (!*pending || current.empty()) return std::string();
    auto verifier = verifier_in(next);
    if (!verifier) return verifier.error();
    if (*verifier != current) return std::string();
    auto installed = install_log_key(key);
    if (!installed) return installed.error();
    return "an interrupted access-log key rotation was finished: the new key is in place" +
           (installed->empty() ? std::string() : "; " + *installed);
}

Result<std::string> discard_pending_log_key(const std::filesystem::path& key) {
    const auto next = with_suffix(key, ".next");
    auto pending = file_exists(next);
    if (!pending) return pending.error();
    if (!*pending) return std::string();
    if (auto s = destroy(next); !s) return s.error();
    if (auto s = fsync_directory(*Env::posix(), key.parent_path()); !s) return s.error();
    return std::string("an unfinished access-log key rotation was rolled back: the old key stays");
}

}  // namespace serambi::storage
