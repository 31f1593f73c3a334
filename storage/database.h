// Internal: the connection layer under the four stores. One SQLCipher database, two connections:
// a writer, through which every change goes in a transaction that also appends its access-log
// entries, and a reader, which in WAL mode sees the last committed state without waiting for a
// commit's fsync. Each connection has its own lock and its own prepared statements; lookups use
// the writer when it is idle and the reader when it is not.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/tlog.h"
#include "storage/env.h"
#include "storage/sqlite.h"

namespace serambi::storage {

// One connection and the statements prepared on it. Not thread-safe: the Database lock that
// hands it out guards it.
class Connection {
  public:
    explicit Connection(sql::DbPtr db) : db_(std::move(db)) {}
    sqlite3* get() const noexcept { return db_.get(); }

    // A statement prepared once and kept: preparing costs more than the lookups the gateway runs
    // at every request. The handle resets it when it goes, so no read transaction stays open
    // behind a half-read result.
    class Cached {
      public:
        explicit Cached(sql::Statement& s) : s_(s) {}
        ~Cached() { s_.reset(); }
        Cached(const Cached&) = delete;
        Cached& operator=(const Cached&) = delete;
        sql::Statement& operator*() noexcept { return s_; }
        sql::Statement* operator->() noexcept { return &s_; }

      private:
        sql::Statement& s_;
    };
    Cached cached(const std::string& sql) {
        auto& slot = statements_[sql];
        if (!slot || !slot->prepared())
            slot = std::make_unique<sql::Statement>(db_.get(), sql);  // a failed prepare is retried
        return Cached(*slot);
    }
    // Rows changed by the last INSERT or UPDATE.
    int changes() const noexcept { return sqlite3_changes(db_.get()); }

  private:
    sql::DbPtr db_;
    std::unordered_map<std::string, std::unique_ptr<sql::Statement>> statements_;
};

// The access log's right edge on the writer: its size, and for every level where the next node
// will be a right child, its left sibling's hash. Kept in step with the writer's transaction.
class LogTail {
  public:
    Status load(Connection& writer);
    // In the writer's open transaction: appends leaves and their complete subtrees; the first
    // leaf's index.
    Result<std::uint64_t> append(Connection& writer, const std::vector<std::string>& entries);
    std::uint64_t size() const noexcept { return size_; }
    // The root of the tree as it stands in the writer's transaction.
    crypto::tlog::Hash root() const;
    // After a rollback: reload, or refuse every append until a reload succeeds, so that the
    // tree in memory never runs ahead of the database.
    void reload_after_rollback(Connection& writer) { stale_ = !load(writer); }

  private:
    std::uint64_t size_ = 0;
    std::vector<crypto::tlog::Hash> frontier_;
    bool stale_ = false;
};

// What a change sees inside the writer's transaction.
class Transaction {
  public:
    Transaction(Connection& connection, LogTail& tail) : connection_(connection), tail_(tail) {}
    Connection& connection() noexcept { return connection_; }
    sqlite3* get() const noexcept { return connection_.get(); }
    // Appends access-log entries in this transaction; the first one's index.
    Result<std::uint64_t> append_log(const std::vector<std::string>& entries) {
        return tail_.append(connection_, entries);
    }
    // The access log's size and root as this transaction leaves them so far.
    std::uint64_t log_size() const noexcept { return tail_.size(); }
    crypto::tlog::Hash log_root() const { return tail_.root(); }

  private:
    Connection& connection_;
    LogTail& tail_;
};

class Database {
  public:
    struct Options {
        std::filesystem::path path;
        bool create = false;
        bool read_only = false;
        std::string sqlite_vfs;
    };
    // Opens and keys both connections, reads every page back (integrity check), checks the
    // schema (lays it down only with `create`) and loads the access log's tail.
    static Result<std::unique_ptr<Database>> open(const Options& options, const crypto::SecretKey& master_key);
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Runs `change` in a writer transaction: committed if it succeeds, rolled back (with its
    // log entries) if it fails or the commit does. `commit_failed` is set when it was the
    // COMMIT that failed: such a change may still reach the disk (SQLite wrote the WAL frames
    // before the fsync that failed), so its outcome is unknown.
    //
    // Group commit: changes that arrive while one is being committed wait, and the first of them
    // then commits them all in one transaction with one fsync, each in a savepoint of its own, so
    // that one change that fails is undone alone. It returns when its own change is durable (or
    // failed); `change` runs on whichever thread leads the group, while its caller waits.
    //
    // A savepoint is not free: SQLCipher encrypts and authenticates a copy of every page that a
    // change touches and an earlier change of its group touched already (a fifth of a small
    // push's CPU). So a group whose changes may all be run again (`Rerun::allowed`) first runs
    // without savepoints; only if one of them fails is the transaction rolled back whole and the
    // group run again, each change in its savepoint. Such a change must leave nothing outside the
    // transaction that its next run does not overwrite: it assigns its results, never adds to
    // them, and never moves from what it captured.
    enum class Rerun { never, allowed };
    Status write(const std::function<Status(Transaction&)>& change, bool* commit_failed = nullptr,
                 Rerun rerun = Rerun::never);

    // A change committed with its one access-log entry (none when `entry` is empty): the entry's
    // index, or nullopt without one. The change's own error is returned as it is.
    Result<std::optional<std::uint64_t>> write_with_entry(const std::function<Status(Connection&)>& change,
                                                          const std::string& entry);

    // Runs `query` where it is answered soonest; either connection sees every change committed
    // before it starts. The writer's page cache is warm and current, so an idle writer answers.
    // While a change is being committed on it (an fsync can take milliseconds, or hang), the
    // reader answers instead of waiting; its cache is cold after any commit (SQLite resets a WAL
    // reader's cache when the log has changed, and SQLCipher decrypts every page read again).
    template <typename Query>
    auto read(Query&& query) {
        if (std::unique_lock idle_writer(write_mutex_, std::try_to_lock); idle_writer.owns_lock())
            return query(*writer_);
        std::lock_guard lock(read_mutex_);
        return query(*reader_);
    }

    // Changes queued behind the group being committed: how deep the writer's queue is.
    std::size_t queued_changes();

    // Entries committed to the access log: the reader sees at least these.
    std::uint64_t log_size() const noexcept { return committed_log_size_.load(std::memory_order_acquire); }

    // What `PRAGMA integrity_check` reports wrong (empty: nothing).
    Result<std::vector<std::string>> integrity_problems();

    // A copy of the committed database in a new file (mode 0600), keyed alike and with the same
    // page size: SQLite's online backup in one step, so the whole copy is read under one snapshot
    // and a gateway writing meanwhile neither waits for it nor changes what is copied.
    // The database file and its write-ahead log, in bytes.
    std::uint64_t file_bytes() const;

    // `master_key` keys the copy: this database's own, or a new one (master-key rotation).
    Status copy_to(const std::filesystem::path& destination, const crypto::SecretKey& master_key);

  private:
    Database() = default;
    struct Waiting;  // a change queued for the next group
    void commit_group(const std::vector<Waiting*>& group);
    // The group in one transaction without savepoints: false when a change failed and the
    // transaction was rolled back whole, every result reset, for the group to run again.
    bool commit_without_savepoints(const std::vector<Waiting*>& group);
    void commit_with_savepoints(const std::vector<Waiting*>& group);
    void abandon_group(const std::vector<Waiting*>& group, const Error& why, bool outcome_unknown = false) noexcept;

    std::mutex queue_mutex_;
    std::condition_variable queue_changed_;
    std::vector<Waiting*> queue_;  // changes waiting for the group being committed to finish
    bool leading_ = false;         // a thread is committing a group
    std::mutex write_mutex_;       // held through a whole transaction, its fsync included
    std::unique_ptr<Connection> writer_;
    LogTail tail_;
    std::mutex read_mutex_;
    std::unique_ptr<Connection> reader_;
    std::atomic<std::uint64_t> committed_log_size_{0};
    Options options_;
    int page_size_ = 0;  // SQLCipher's, which a copy must share
};

// What `PRAGMA integrity_check` reports wrong (empty: nothing); an error when the file cannot be
// read whole, which SQLCipher's page authentication turns any flipped bit into.
Result<std::vector<std::string>> integrity_check(sqlite3* db);

// The one row `query` selects with ?1 bound to `key`, or not_found saying `missing`.
template <typename Record, typename From>
Result<Record> one_row(Connection& c, const std::string& query, std::string_view key, From from, const char* missing) {
    auto s = c.cached(query);
    const int rc = s->bind(1, key).step();
    if (rc == SQLITE_ROW) return from(*s);
    if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, missing);
    return sql::db_error("the database could not be read");
}

// Reads every row of a statement into records.
template <typename Record, typename From>
Result<std::vector<Record>> all_rows(sql::Statement& s, From from) {
    std::vector<Record> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(from(s));
    if (rc != SQLITE_DONE) return sql::db_error("the database could not be read");
    return out;
}

}  // namespace serambi::storage
