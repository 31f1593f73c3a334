// The access log's storage: entries as RFC 6962 leaves, and the hash of every complete subtree
// at every fourth level (node `idx` at `level` covers leaves [idx·2^level, (idx+1)·2^level)), so
// that any root or proof is a handful of lookups however long the log grows.
#include <algorithm>
#include <bit>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <thread>

#include "crypto/tlog.h"
#include "storage/database.h"
#include "storage/store.h"

namespace serambi::storage {
namespace {

using crypto::tlog::Hash;

// Largest power of two strictly below n (n >= 2), the split point of RFC 6962.
std::uint64_t split_point(std::uint64_t n) { return std::bit_floor(n - 1); }

// Only every fourth level of the tree is stored (0, 4, 8, …). A node in between is folded from
// at most 8 stored nodes below it, and those sit side by side: the nodes a proof needs from one
// band of four levels all lie in one aligned run of 16 stored nodes, one B-tree descent and a
// page or two. A proof in a ten-million-entry tree reads about six such runs instead of one
// scattered page per level, and appends write half as many rows.
constexpr int kBand = 4;
constexpr std::uint64_t kRun = std::uint64_t{1} << kBand;

constexpr const char* kRunQuery =
    "SELECT idx, hash FROM audit_nodes WHERE level = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx";

// Reads nodes for one root or proof with a statement of kRunQuery, keeping the runs it has read.
class NodeReader {
  public:
    explicit NodeReader(sql::Statement& run_query) : run_query_(run_query) {}

    // MTH of leaves [begin, end), from the stored complete subtrees.
    Result<Hash> subtree(std::uint64_t begin, std::uint64_t end) {
        const std::uint64_t n = end - begin;
        if (n == 0) return crypto::tlog::empty_root();
        if (std::has_single_bit(n) && begin % n == 0) return node(std::countr_zero(n), begin / n);
        const std::uint64_t k = split_point(n);
        auto left = subtree(begin, begin + k);
        if (!left) return left.error();
        auto right = subtree(begin + k, end);
        if (!right) return right.error();
        return crypto::tlog::node_hash(*left, *right);
    }

    // The complete subtree `index` at `level`: stored, or folded from the band's stored level.
    Result<Hash> node(int level, std::uint64_t index) {
        const int stored = level - level % kBand;
        const int fold = level - stored;
        const std::uint64_t first = index << fold;
        auto run = stored_run(stored, first - first % kRun);
        if (!run) return run.error();
        const std::size_t at = static_cast<std::size_t>(first % kRun);
        const std::size_t width = std::size_t{1} << fold;
        if (at + width > (*run)->size()) return sql::db_error("an access-log node is missing");
        std::vector<Hash> layer((*run)->begin() + static_cast<std::ptrdiff_t>(at),
                                (*run)->begin() + static_cast<std::ptrdiff_t>(at + width));
        while (layer.size() > 1) {
            for (std::size_t i = 0; i < layer.size() / 2; ++i)
                layer[i] = crypto::tlog::node_hash(layer[2 * i], layer[2 * i + 1]);
            layer.resize(layer.size() / 2);
        }
        return layer.front();
    }

    // RFC 9162 2.1.3.1: PATH(m, D[begin:end]), deepest sibling first.
    Status path(std::uint64_t m, std::uint64_t begin, std::uint64_t end, std::vector<Hash>& out) {
        const std::uint64_t n = end - begin;
        if (n <= 1) return {};
        const std::uint64_t k = split_point(n);
        Result<Hash> sibling = Hash{};
        if (m < k) {
            if (auto s = path(m, begin, begin + k, out); !s) return s;
            sibling = subtree(begin + k, end);
        } else {
            if (auto s = path(m - k, begin + k, end, out); !s) return s;
            sibling = subtree(begin, begin + k);
        }
        if (!sibling) return sibling.error();
        out.push_back(*sibling);
        return {};
    }

    // RFC 9162 2.1.4.1: SUBPROOF(m, D[begin:end], whole).
    Status subproof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool whole, std::vector<Hash>& out) {
        const std::uint64_t n = end - begin;
        if (m == n) {
            if (whole) return {};
            auto h = subtree(begin, end);
            if (!h) return h.error();
            out.push_back(*h);
            return {};
        }
        const std::uint64_t k = split_point(n);
        Result<Hash> sibling = Hash{};
        if (m <= k) {
            if (auto s = subproof(m, begin, begin + k, whole, out); !s) return s;
            sibling = subtree(begin + k, end);
        } else {
            if (auto s = subproof(m - k, begin + k, end, false, out); !s) return s;
            sibling = subtree(begin, begin + k);
        }
        if (!sibling) return sibling.error();
        out.push_back(*sibling);
        return {};
    }

  private:
    // Stored nodes [first, first + kRun) of `level`, as many as exist in a row from `first`.
    Result<const std::vector<Hash>*> stored_run(int level, std::uint64_t first) {
        auto& run = runs_[{level, first}];
        if (!run.empty()) return &run;
        auto* s = &run_query_;
        s->reset();
        s->bind(1, std::int64_t{level})
            .bind(2, static_cast<std::int64_t>(first))
            .bind(3, static_cast<std::int64_t>(first + kRun));
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) {
            if (static_cast<std::uint64_t>(s->integer(0)) != first + run.size()) break;  // a gap ends the run
            const auto bytes = s->blob(1);
            if (bytes.size() != Hash{}.size())
                return make_error(ErrorKind::corruption, "an access-log node is malformed");
            Hash h;
            std::copy(bytes.begin(), bytes.end(), h.begin());
            run.push_back(h);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sql::db_error("cannot read the access log");
        return &run;
    }

    sql::Statement& run_query_;
    std::map<std::pair<int, std::uint64_t>, std::vector<Hash>> runs_;
};

}  // namespace

Status LogTail::load(Connection& writer) {
    // The size comes from the nodes, which only appends write: an edited or deleted entry row
    // does not move it, and shows up where it must, in the auditor's check of an export.
    sql::Statement size_query(writer.get(), "SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_nodes WHERE level = 0");
    if (size_query.step() != SQLITE_ROW) return sql::db_error("cannot read the access log");
    const auto size = static_cast<std::uint64_t>(size_query.integer(0));
    auto run_query = writer.cached(kRunQuery);
    NodeReader reader(*run_query);
    std::vector<Hash> frontier(64);
    for (int level = 0; level < 64; ++level) {
        if (((size >> level) & 1) == 0) continue;
        auto h = reader.node(level, (size >> level) - 1);
        if (!h) return h.error();
        frontier[static_cast<std::size_t>(level)] = *h;
    }
    size_ = size;
    frontier_ = std::move(frontier);
    return {};
}

Hash LogTail::root() const {
    // Right to left: the smallest complete subtree is the rightmost, and each larger one to its
    // left takes what is folded so far as its right sibling.
    std::optional<Hash> folded;
    for (std::size_t level = 0; level < frontier_.size() && level < 64; ++level) {
        if (((size_ >> level) & 1) == 0) continue;
        folded = folded ? crypto::tlog::node_hash(frontier_[level], *folded) : frontier_[level];
    }
    return folded ? *folded : crypto::tlog::empty_root();
}

Result<std::uint64_t> LogTail::append(Connection& writer, const std::vector<std::string>& entries) {
    if (stale_) reload_after_rollback(writer);
    if (stale_) return sql::db_error("the access log's tail could not be reloaded");
    auto insert_entry = writer.cached("INSERT INTO audit_entries(idx, entry) VALUES(?1, ?2)");
    auto insert_node = writer.cached("INSERT INTO audit_nodes(level, idx, hash) VALUES(?1, ?2, ?3)");
    const std::uint64_t first = size_;
    for (const auto& entry : entries) {
        const std::uint64_t index = size_;
        insert_entry->reset();
        if (insert_entry->bind(1, static_cast<std::int64_t>(index)).bind(2, entry).step() != SQLITE_DONE)
            return sql::db_error("cannot write the access log");
        // The new leaf, then every subtree it completes: while the node is a right child, it
        // joins its waiting left sibling one level up.
        Hash h = crypto::tlog::leaf_hash(crypto::as_bytes(entry));
        std::uint64_t at = index;
        int level = 0;
        for (;;) {
            if (level % kBand == 0) {
                insert_node->reset();
                if (insert_node->bind(1, std::int64_t{level})
                        .bind(2, static_cast<std::int64_t>(at))
                        .bind(3, crypto::ByteView(h))
                        .step() != SQLITE_DONE)
                    return sql::db_error("cannot write the access log");
            }
            if ((at & 1) == 0) break;
            h = crypto::tlog::node_hash(frontier_[static_cast<std::size_t>(level)], h);
            at >>= 1;
            ++level;
        }
        frontier_[static_cast<std::size_t>(level)] = h;
        ++size_;
    }
    return first;
}

// Group commit: callers queue entries without holding a thread, and the committer writes
// whatever is queued in one transaction with one fsync.
struct AccessLog::Queue {
    struct Pending {
        std::vector<std::string> entries;
        Done done;
    };
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<Pending> pending;
    bool committing = false;
    bool stopping = false;
    std::thread committer;
};

AccessLog::AccessLog(Database& db, bool committer) : db_(db), queue_(std::make_unique<Queue>()) {
    if (committer) queue_->committer = std::thread([this] { run_committer(); });
}

AccessLog::~AccessLog() {
    if (!queue_->committer.joinable()) return;
    {
        std::lock_guard lock(queue_->mutex);
        queue_->stopping = true;
    }
    queue_->changed.notify_all();
    queue_->committer.join();  // what was queued is written first
}

void AccessLog::run_committer() {
    auto& q = *queue_;
    std::unique_lock queue_lock(q.mutex);
    for (;;) {
        q.changed.wait(queue_lock, [&q] { return q.stopping || !q.pending.empty(); });
        if (q.pending.empty()) return;  // stopping, and nothing left to write
        std::deque<Queue::Pending> group;
        group.swap(q.pending);
        q.committing = true;
        queue_lock.unlock();
        std::vector<Result<std::uint64_t>> results;
        results.reserve(group.size());
        const Status written = db_.write(
            [&](Transaction& tx) -> Status {
                results.clear();  // from a run that was rolled back
                for (auto& pending : group) {
                    results.push_back(tx.append_log(pending.entries));
                    if (!results.back()) return results.back().error();
                }
                return {};
            },
            nullptr, Database::Rerun::allowed);
        if (!written) results.assign(group.size(), sql::db_error("the access log could not be written"));
        for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(results[i]));
        queue_lock.lock();
        q.committing = false;
        q.changed.notify_all();  // for flush()
    }
}

void AccessLog::append_async(std::vector<std::string> entries, Done done) {
    if (entries.empty()) return done(make_error(ErrorKind::invalid_argument, "no access-log entries"));
    {
        std::unique_lock lock(queue_->mutex);
        if (queue_->stopping || !queue_->committer.joinable()) {
            lock.unlock();
            return done(make_error(ErrorKind::unavailable, "the access log is closed for writing"));
        }
        queue_->pending.push_back({std::move(entries), std::move(done)});
    }
    queue_->changed.notify_all();
}

Result<std::uint64_t> AccessLog::append(std::vector<std::string> entries) {
    // Shared: set_value may still be returning on the committer when get() wakes us.
    auto promise = std::make_shared<std::promise<Result<std::uint64_t>>>();
    auto future = promise->get_future();
    append_async(std::move(entries), [promise](Result<std::uint64_t> r) { promise->set_value(std::move(r)); });
    return future.get();
}

void AccessLog::flush() {
    std::unique_lock lock(queue_->mutex);
    queue_->changed.wait(lock, [this] { return queue_->pending.empty() && !queue_->committing; });
}

// Reads run on the reader against the committed size: every node below it is visible there.
std::uint64_t AccessLog::size() const noexcept { return db_.log_size(); }

Result<AuditHead> AccessLog::head() {
    const std::uint64_t size = db_.log_size();
    return db_.read([&](Connection& c) -> Result<AuditHead> {
        auto run_query = c.cached(kRunQuery);
        auto root = NodeReader(*run_query).subtree(0, size);
        if (!root) return root.error();
        return AuditHead{size, *root};
    });
}

Result<Hash> AccessLog::root(std::uint64_t size) {
    if (size > db_.log_size()) return make_error(ErrorKind::invalid_argument, "the log is not that large yet");
    return db_.read([&](Connection& c) -> Result<Hash> {
        auto run_query = c.cached(kRunQuery);
        return NodeReader(*run_query).subtree(0, size);
    });
}

Result<std::vector<std::string>> AccessLog::entries(std::uint64_t start, std::uint64_t end, std::size_t limit,
                                                    std::vector<std::uint64_t>* indexes) {
    if (indexes) indexes->clear();
    end = std::min({end, db_.log_size(), start + limit});
    std::vector<std::string> out;
    if (start >= end) return out;
    return db_.read([&](Connection& c) -> Result<std::vector<std::string>> {
        auto s = c.cached("SELECT idx, entry FROM audit_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx");
        s->bind(1, static_cast<std::int64_t>(start)).bind(2, static_cast<std::int64_t>(end));
        // Rows are returned as stored, a missing or edited one included: proving the log intact
        // is the auditor's check against a signed checkpoint, not something to take our word for.
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) {
            out.push_back(s->text(1));
            if (indexes) indexes->push_back(static_cast<std::uint64_t>(s->integer(0)));
        }
        if (rc != SQLITE_DONE) return sql::db_error("cannot read the access log");
        return out;
    });
}

Result<std::vector<Hash>> AccessLog::inclusion(std::uint64_t index, std::uint64_t size) {
    if (size > db_.log_size() || index >= size)
        return make_error(ErrorKind::invalid_argument,
                          "the index must be below the size, and the size at most the log's");
    return db_.read([&](Connection& c) -> Result<std::vector<Hash>> {
        std::vector<Hash> proof;
        auto run_query = c.cached(kRunQuery);
        if (auto s = NodeReader(*run_query).path(index, 0, size, proof); !s) return s.error();
        return proof;
    });
}

Result<std::vector<Hash>> AccessLog::consistency(std::uint64_t old_size, std::uint64_t new_size) {
    if (new_size > db_.log_size() || old_size > new_size)
        return make_error(ErrorKind::invalid_argument, "the sizes must satisfy old <= new <= the log's");
    std::vector<Hash> proof;
    if (old_size == 0 || old_size == new_size) return proof;
    return db_.read([&](Connection& c) -> Result<std::vector<Hash>> {
        auto run_query = c.cached(kRunQuery);
        if (auto s = NodeReader(*run_query).subproof(old_size, 0, new_size, true, proof); !s) return s.error();
        return proof;
    });
}

Status AccessLog::save_checkpoint(std::uint64_t size, const std::string& note) {
    return db_.write([&](Transaction& tx) -> Status {
        sql::Statement s(tx.get(), "INSERT OR IGNORE INTO audit_checkpoints(size, note) VALUES(?1, ?2)");
        if (s.bind(1, static_cast<std::int64_t>(size)).bind(2, note).step() != SQLITE_DONE)
            return sql::db_error("cannot record the checkpoint");
        return {};
    });
}

Result<std::string> AccessLog::latest_checkpoint() {
    return db_.read([&](Connection& c) -> Result<std::string> {
        sql::Statement s(c.get(), "SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1");
        const int rc = s.step();
        if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, "no checkpoint has been issued yet");
        if (rc != SQLITE_ROW) return sql::db_error("cannot read the checkpoints");
        return s.text(0);
    });
}

namespace {

// The cosignature lines kept for a checkpoint, appended to its note (witness order).
Status append_cosignatures(Connection& c, AccessLog::CheckpointNote& checkpoint) {
    auto lines = c.cached("SELECT line FROM audit_cosignatures WHERE size = ?1 ORDER BY witness");
    lines->bind(1, static_cast<std::int64_t>(checkpoint.size));
    int rc;
    while ((rc = lines->step()) == SQLITE_ROW) checkpoint.note += lines->text(0);
    if (rc != SQLITE_DONE) return sql::db_error("cannot read the cosignatures");
    return {};
}

}  // namespace

Status AccessLog::save_cosignature(std::uint64_t size, const std::string& witness, const std::string& line) {
    return db_.write([&](Transaction& tx) -> Status {
        sql::Statement s(tx.get(), "INSERT OR REPLACE INTO audit_cosignatures(size, witness, line) VALUES(?1, ?2, ?3)");
        if (s.bind(1, static_cast<std::int64_t>(size)).bind(2, witness).bind(3, line).step() != SQLITE_DONE)
            return sql::db_error("cannot record the cosignature");
        return {};
    });
}

Result<std::vector<std::string>> AccessLog::cosignatures(std::uint64_t size) {
    return db_.read([&](Connection& c) -> Result<std::vector<std::string>> {
        auto s = c.cached("SELECT line FROM audit_cosignatures WHERE size = ?1 ORDER BY witness");
        s->bind(1, static_cast<std::int64_t>(size));
        std::vector<std::string> out;
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) out.push_back(s->text(0));
        if (rc != SQLITE_DONE) return sql::db_error("cannot read the cosignatures");
        return out;
    });
}

Result<std::uint64_t> AccessLog::cosigned_size(const std::string& witness) {
    return db_.read([&](Connection& c) -> Result<std::uint64_t> {
        auto s = c.cached("SELECT coalesce(max(size), 0) FROM audit_cosignatures WHERE witness = ?1");
        s->bind(1, witness);
        if (s->step() != SQLITE_ROW) return sql::db_error("cannot read the cosignatures");
        return static_cast<std::uint64_t>(s->integer(0));
    });
}

Result<AccessLog::CheckpointNote> AccessLog::checkpoint_covering(std::uint64_t index, std::size_t min_cosignatures) {
    if (index >= static_cast<std::uint64_t>(INT64_MAX)) return make_error(ErrorKind::not_found, "no such entry");
    return db_.read([&](Connection& c) -> Result<CheckpointNote> {
        // Without cosignatures asked for, the first checkpoint issued after the entry; with them,
        // the first that enough witnesses cosigned (a witness may skip checkpoints when behind).
        auto s = min_cosignatures == 0
                     ? c.cached("SELECT size, note FROM audit_checkpoints WHERE size > ?1 ORDER BY size LIMIT 1")
                     : c.cached(
                           "SELECT k.size, k.note FROM audit_checkpoints k WHERE k.size > ?1 AND "
                           "(SELECT count(*) FROM audit_cosignatures w WHERE w.size = k.size) >= ?2 "
                           "ORDER BY k.size LIMIT 1");
        s->bind(1, static_cast<std::int64_t>(index));
        if (min_cosignatures != 0) s->bind(2, static_cast<std::int64_t>(min_cosignatures));
        const int rc = s->step();
        if (rc == SQLITE_DONE)
            return make_error(ErrorKind::not_found, min_cosignatures == 0
                                                        ? "no checkpoint covers that entry yet"
                                                        : "no checkpoint covering that entry has that many "
                                                          "cosignatures yet");
        if (rc != SQLITE_ROW) return sql::db_error("cannot read the checkpoints");
        CheckpointNote out{static_cast<std::uint64_t>(s->integer(0)), s->text(1)};
        if (auto added = append_cosignatures(c, out); !added) return added.error();
        return out;
    });
}

Result<AccessLog::CheckpointNote> AccessLog::newest_witnessed(std::size_t min_cosignatures) {
    return db_.read([&](Connection& c) -> Result<CheckpointNote> {
        auto s = c.cached(
            "SELECT k.size, k.note FROM audit_checkpoints k WHERE "
            "(SELECT count(*) FROM audit_cosignatures w WHERE w.size = k.size) >= ?1 ORDER BY k.size DESC LIMIT 1");
        s->bind(1, static_cast<std::int64_t>(min_cosignatures));
        const int rc = s->step();
        if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, "no checkpoint has that many cosignatures yet");
        if (rc != SQLITE_ROW) return sql::db_error("cannot read the checkpoints");
        CheckpointNote out{static_cast<std::uint64_t>(s->integer(0)), s->text(1)};
        if (auto added = append_cosignatures(c, out); !added) return added.error();
        return out;
    });
}

Result<std::vector<std::uint64_t>> AccessLog::find_recent(const std::string& needle, std::uint64_t window) {
    const std::uint64_t size = db_.log_size();
    const std::uint64_t from = size > window ? size - window : 0;
    return db_.read([&](Connection& c) -> Result<std::vector<std::uint64_t>> {
        auto s = c.cached(
            "SELECT idx FROM audit_entries WHERE idx >= ?1 AND idx < ?2 AND instr(entry, ?3) > 0 "
            "ORDER BY idx DESC LIMIT 16");
        s->bind(1, static_cast<std::int64_t>(from)).bind(2, static_cast<std::int64_t>(size)).bind(3, needle);
        std::vector<std::uint64_t> out;
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) out.push_back(static_cast<std::uint64_t>(s->integer(0)));
        if (rc != SQLITE_DONE) return sql::db_error("cannot search the access log");
        return out;
    });
}

Result<std::vector<AccessLog::KeyHandover>> AccessLog::key_handovers() {
    return db_.read([&](Connection& c) -> Result<std::vector<KeyHandover>> {
        std::vector<KeyHandover> out;
        // A database of schema 1 opened for inspection (not upgraded) has no hand-overs.
        sql::Statement table(
            c.get(), "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_key_handovers'");
        if (table.step() != SQLITE_ROW) return sql::db_error("cannot read the access log's key hand-overs");
        if (table.integer(0) == 0) return out;
        auto s = c.cached("SELECT size, old_key, new_key, note FROM audit_key_handovers ORDER BY size");
        int rc;
        while ((rc = s->step()) == SQLITE_ROW)
            out.push_back({static_cast<std::uint64_t>(s->integer(0)), s->text(1), s->text(2), s->text(3)});
        if (rc != SQLITE_DONE) return sql::db_error("cannot read the access log's key hand-overs");
        return out;
    });
}

Result<AccessLog::KeyHandover> AccessLog::hand_over_key(const std::string& old_key, const std::string& new_key,
                                                        const std::string& announcement, const HandoverSigner& sign) {
    // Whatever the committer has queued goes first, so that the hand-over's entries are the
    // last the old key's checkpoints could cover.
    flush();
    KeyHandover handover{0, old_key, new_key, {}};
    auto written = db_.write([&](Transaction& tx) -> Status {
        auto first = tx.append_log({announcement});
        if (!first) return first.error();
        handover.size = tx.log_size();
        auto [note, entry] = sign(handover.size, tx.log_root());
        handover.note = std::move(note);
        if (auto held = tx.append_log({entry}); !held) return held.error();
        sql::Statement record(tx.get(),
                              "INSERT INTO audit_key_handovers(size, old_key, new_key, note) VALUES(?1, ?2, ?3, ?4)");
        if (record.bind(1, static_cast<std::int64_t>(handover.size))
                .bind(2, old_key)
                .bind(3, new_key)
                .bind(4, handover.note)
                .step() != SQLITE_DONE)
            return sql::db_error("cannot record the key hand-over");
        // No checkpoint of this size was issued before: the announcement makes the tree new.
        sql::Statement keep(tx.get(), "INSERT OR REPLACE INTO audit_checkpoints(size, note) VALUES(?1, ?2)");
        if (keep.bind(1, static_cast<std::int64_t>(handover.size)).bind(2, handover.note).step() != SQLITE_DONE)
            return sql::db_error("cannot record the hand-over checkpoint");
        return {};
    });
    if (!written) return written.error();
    return handover;
}

}  // namespace serambi::storage
