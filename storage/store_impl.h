// Internal: state shared by Store, PackageWriter and PackageReader.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "crypto/tlog.h"
#include "storage/sqlite.h"
#include "storage/store.h"

namespace serambi::storage {

struct Store::Impl {
    Impl(crypto::SecretKey wrap, std::string id) : wrapping_key(std::move(wrap)), key_id(std::move(id)) {}

    std::mutex mutex;  // guards db: one connection, statements never interleave
    sql::DbPtr db;
    std::shared_ptr<Env> env;  // never null
    std::filesystem::path blob_dir;
    std::filesystem::path temp_dir;
    crypto::Aead aead = crypto::Aead::aes_256_gcm;
    crypto::SecretKey wrapping_key;  // wraps per-package data keys
    std::string key_id;              // names the master key generation the wrapping key came from

    // The access log's tail, kept in step with the database under `mutex`: its size, and for
    // every level where the next node will be a right child, its left sibling's hash.
    std::uint64_t audit_size = 0;
    std::vector<crypto::tlog::Hash> audit_frontier;

    // Group commit of access-log entries: callers queue entries without holding a thread, and
    // one committer thread writes whatever is queued in one transaction with one fsync.
    struct PendingAudit {
        std::vector<std::string> entries;
        Store::AuditDone done;
    };
    std::mutex audit_queue_mutex;
    std::condition_variable audit_queue_changed;
    std::deque<PendingAudit> audit_queue;
    bool audit_committing = false;
    bool audit_stopping = false;
    std::thread audit_committer;
    void run_audit_committer();

    // With `mutex` held and a transaction open: appends leaves and their complete subtrees.
    Result<std::uint64_t> append_audit_locked(const std::vector<std::string>& entries);
    // With `mutex` held: reloads the tail after a rollback or at open.
    Status load_audit_tail();
    // After a rollback: reload, or refuse every append until a reload succeeds, so that the
    // tree in memory never runs ahead of the database.
    void reload_audit_tail_after_rollback() { audit_tail_stale = !load_audit_tail(); }
    bool audit_tail_stale = false;

    // Statements the gateway runs at every request, prepared once: preparing costs more than
    // the lookups themselves. With `mutex` held; the handle resets the statement when it goes,
    // so no read transaction stays open behind a half-read result.
    class CachedStatement {
      public:
        explicit CachedStatement(sql::Statement& s) : s_(s) {}
        ~CachedStatement() { s_.reset(); }
        CachedStatement(const CachedStatement&) = delete;
        CachedStatement& operator=(const CachedStatement&) = delete;
        sql::Statement& operator*() noexcept { return s_; }
        sql::Statement* operator->() noexcept { return &s_; }

      private:
        sql::Statement& s_;
    };
    CachedStatement cached(const std::string& sql) {
        auto& slot = statements[sql];
        if (!slot || !slot->prepared())
            slot = std::make_unique<sql::Statement>(db.get(), sql);  // a failed prepare is retried
        return CachedStatement(*slot);
    }
    std::unordered_map<std::string, std::unique_ptr<sql::Statement>> statements;

    // Each partner's agreements, read at every request it makes. The store is their only
    // writer and forgets them all at any change, under `mutex`, so the copy is never stale.
    std::unordered_map<std::string, std::vector<AgreementRecord>> agreements_by_partner;

    std::filesystem::path blob_path(const std::string& package_id) const {
        return blob_dir / package_id.substr(0, 2) / (package_id + ".blob");
    }
};

// Associated data binding a blob and its wrapped key to one package.
inline std::string blob_context(const std::string& package_id) { return "serambi/blob/v1/" + package_id; }

Status fsync_directory(Env& env, const std::filesystem::path& dir);
// write_new_file and replace_file of store.h, through `env`.
Status write_new_file(Env& env, const std::filesystem::path& path, std::string_view contents, unsigned mode);
Status replace_file(Env& env, const std::filesystem::path& path, std::string_view contents, unsigned mode);
// What `PRAGMA integrity_check` reports wrong (empty: nothing); an error when the file cannot be
// read whole, which SQLCipher's page authentication turns any flipped bit into.
Result<std::vector<std::string>> integrity_check(sqlite3* db);

}  // namespace serambi::storage
