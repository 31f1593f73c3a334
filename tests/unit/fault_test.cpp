// Fault injection: every write, fsync, rename, unlink, directory fsync and database write of a
// push, a commit, an access-log append, a start-up recovery and a state-file update is made to
// fail in turn (EIO, ENOSPC, a torn write). After each: the failure was reported, nothing
// committed is lost, nothing half-written is visible, and a reopened store recovers and works.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <map>
#include <set>

#include "crypto/tlog.h"
#include "faulty_env.h"
#include "storage/database.h"
#include "storage/store.h"
#include "temp_dir.h"

using namespace serambi;
using namespace serambi::storage;
using serambi::testing::Fault;
using serambi::testing::FaultyEnv;
using serambi::testing::Op;
namespace fs = std::filesystem;

namespace {

constexpr const char* kDataset = "dinkes-malut/imunisasi";

std::string varied(std::size_t n, std::uint32_t seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 0x9e3779b9u;  // distinct seeds, distinct bytes
    if (x == 0) x = 1;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return s;
}

std::string read_all(Store& store, const std::string& id, std::string& error) {
    auto reader = store.packages().open_package(id);
    if (!reader) {
        error = reader.error().message;
        return {};
    }
    std::string out;
    std::vector<std::uint8_t> buf(100003);
    for (;;) {
        auto n = (*reader)->read(buf);
        if (!n) {
            error = n.error().message;
            return out;
        }
        if (*n == 0) return out;
        out.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
}

// Every entry of the store's access log, in order, checked against the root its head gives.
std::vector<std::string> whole_log(Store& store) {
    auto head = store.log().head();
    REQUIRE(head.ok());
    auto all = store.log().entries(0, head->size, head->size + 1);
    REQUIRE(all.ok());
    REQUIRE(all->size() == head->size);
    crypto::tlog::TreeBuilder tree;
    for (const auto& e : *all) tree.add(crypto::tlog::leaf_hash(crypto::as_bytes(e)));
    CHECK(tree.root() == head->root);
    return std::move(all).value();
}

// One deployment under test, and what it has acknowledged: a package or an entry is in `committed`
// or `entries` only once the store said it was stored.
struct World {
    TempDir dir;
    crypto::SecretKey master = crypto::SecretKey::random();
    std::shared_ptr<FaultyEnv> env = std::make_shared<FaultyEnv>();
    std::map<std::string, std::string> committed;  // package id -> payload
    std::map<std::uint64_t, std::string> entries;  // acknowledged access-log entries
    std::uint32_t seed = 7;

    World() { serambi::testing::use_faulty_vfs(env.get()); }
    ~World() { serambi::testing::use_faulty_vfs(nullptr); }

    Store::Options options(bool faulty, bool create = false) const {
        Store::Options o{dir.path / "serambi.db", dir.path / "blobs", crypto::Aead::aes_256_gcm, create};
        if (faulty) {
            o.env = env;
            o.sqlite_vfs = serambi::testing::kFaultyVfs;
        }
        return o;
    }
    std::unique_ptr<Store> open(bool faulty) {
        auto store = Store::open(options(faulty), master);
        REQUIRE(store.ok());
        return std::move(store).value();
    }

    // A store with a principal, a dataset, two packages and a few entries, opened through the
    // faulty env and VFS (not yet armed).
    std::unique_ptr<Store> populated() {
        {
            auto created = Store::open(options(false, true), master);
            REQUIRE(created.ok());
        }
        auto store = open(true);
        REQUIRE((*store)
                    .registry()
                    .add_principal({"dinkes-malut", "Dinas Kesehatan", {"producer"}, "01", "ff", {}, {}, {}, {}})
                    .ok());
        Dataset d{kDataset, "dinkes-malut", "terbatas", "Imunisasi", "admin", {}};
        REQUIRE(store->registry().add_dataset(d).ok());
        for (int i = 0; i < 2; ++i) {
            std::string body = varied(150000 + static_cast<std::size_t>(i) * 70001, ++seed);
            auto pushed = push(*store, body);
            REQUIRE(pushed.error.empty());
            committed[pushed.id] = body;
        }
        for (int i = 0; i < 3; ++i) {
            const std::string entry = "{\"seed\":" + std::to_string(i) + "}";
            auto index = store->log().append({entry});
            REQUIRE(index.ok());
            entries[*index] = entry;
        }
        return store;
    }

    struct Pushed {
        std::string id;     // known once begin_package succeeded
        std::string error;  // empty: committed
        std::uint64_t audit_index = 0;
    };
    // begin, several writes (the payload crosses the 1 MiB flush mark twice), finish, commit.
    Pushed push(Store& store, const std::string& body) {
        Pushed out;
        auto writer = store.packages().begin_package(
            {kDataset, "dinkes-malut", "terbatas", "a.bin", "application/octet-stream", {}, {}});
        if (!writer) return {{}, "begin: " + writer.error().message};
        out.id = (*writer)->id();
        for (std::size_t at = 0; at < body.size(); at += 700001) {
            auto chunk = std::string_view(body).substr(at, 700001);
            if (auto s = (*writer)->write(crypto::as_bytes(chunk)); !s) {
                out.error = "write: " + s.error().message;
                return out;
            }
        }
        auto sealed = (*writer)->finish();
        if (!sealed) {
            out.error = "finish: " + sealed.error().message;
            return out;
        }
        const std::string entry = "{\"action\":\"package.push\",\"id\":\"" + out.id + "\"}";
        auto record = (*writer)->commit("{\"manifest\":1}", crypto::Bytes{1, 2, 3}, entry);
        if (!record) {
            out.error = "commit: " + record.error().message;
            return out;
        }
        out.audit_index = record->audit_index;
        entries[record->audit_index] = entry;
        return out;
    }

    // What must hold of any store at any time: exactly the acknowledged packages are listed and
    // read back byte for byte, `absent` is nowhere, and the access log's root is the one its
    // entries give, every acknowledged entry in its place.
    void check(Store& store, const std::string& absent = {}) {
        auto listed = store.packages().packages_in(kDataset);
        REQUIRE(listed.ok());
        std::set<std::string> ids;
        for (const auto& p : *listed) ids.insert(p.id);
        std::set<std::string> expected;
        for (const auto& [id, body] : committed) expected.insert(id);
        CHECK(ids == expected);
        for (const auto& [id, body] : committed) {
            std::string error;
            const std::string back = read_all(store, id, error);
            CHECK(error == "");
            CHECK((back == body));
        }
        if (!absent.empty()) {
            CHECK_FALSE(store.packages().open_package(absent).ok());
            CHECK_FALSE(store.packages().package(absent).ok());
        }
        const auto all = whole_log(store);
        for (const auto& [index, entry] : entries) {
            REQUIRE(index < all.size());
            CHECK(all[index] == entry);
        }
        // Nothing but acknowledged entries: a failed append or commit left no leaf behind.
        CHECK(all.size() == entries.size());
    }

    // A crash right after the failure, the page cache kept (kill -9): the database, its WAL and
    // the blobs as they are now, without the WAL index, so that SQLite recovers from the WAL as
    // it does at the first open after a crash. Reports what the recovered store lists and logs.
    struct AfterCrash {
        std::set<std::string> listed;
        std::uint64_t log_size = 0;
    };
    AfterCrash crash_now(const std::string& uncertain, const std::string& uncertain_body) {
        const auto copy = dir.path / "crash";
        fs::create_directories(copy);
        for (const char* name : {"serambi.db", "serambi.db-wal"})
            if (fs::exists(dir.path / name)) fs::copy_file(dir.path / name, copy / name);
        fs::copy(dir.path / "blobs", copy / "blobs", fs::copy_options::recursive);
        AfterCrash out;
        {
            auto store = Store::open({copy / "serambi.db", copy / "blobs", crypto::Aead::aes_256_gcm, false}, master);
            REQUIRE(store.ok());
            REQUIRE((*store)->packages().recover().ok());
            auto listed = (*store)->packages().packages_in(kDataset);
            REQUIRE(listed.ok());
            for (const auto& p : *listed) out.listed.insert(p.id);
            for (const auto& [id, body] : committed) {
                CHECK(out.listed.count(id) == 1);
                std::string error;
                CHECK((read_all(**store, id, error) == body));
            }
            // A package the store said failed may survive a crash (its commit's outcome was not
            // known), but then whole: its blob in place and readable, never a row without it.
            for (const auto& id : out.listed) {
                if (committed.count(id) != 0) continue;
                CHECK(id == uncertain);
                std::string error;
                CHECK(read_all(**store, id, error) == uncertain_body);
                CHECK(error == "");
            }
            const auto all = whole_log(**store);
            for (const auto& [index, entry] : entries) {
                REQUIRE(index < all.size());
                CHECK(all[index] == entry);
            }
            out.log_size = all.size();
        }
        fs::remove_all(copy);
        return out;
    }

    // After a failure: a healthy store opened afresh, recovered, holds everything and takes
    // new packages and entries.
    void reopen_and_check(const std::string& absent) {
        env->disarm();
        auto store = Store::open(options(false), master);
        REQUIRE(store.ok());
        auto recovered = (*store)->packages().recover();
        REQUIRE(recovered.ok());
        check(**store, absent);
        if (!absent.empty()) {
            std::string error;
            CHECK(read_all(**store, absent, error).empty());
            CHECK(error != "");
        }
        const std::string body = varied(90000, ++seed);
        auto pushed = push(**store, body);
        REQUIRE(pushed.error == "");
        committed[pushed.id] = body;
        auto index = (*store)->log().append({"{\"after\":1}"});
        REQUIRE(index.ok());
        entries[*index] = "{\"after\":1}";
        check(**store);
    }
};

struct Case {
    Op op;
    Fault fault;
};

// Every kind of operation with every fault that applies to it.
std::vector<Case> cases(std::initializer_list<Op> ops) {
    std::vector<Case> out;
    for (Op op : ops)
        for (Fault fault : {Fault::eio, Fault::enospc, Fault::tear})
            if (fault != Fault::tear || serambi::testing::tears(op)) out.push_back({op, fault});
    return out;
}

// Runs `step` for n = 1, 2, … with the nth operation of each kind failing, until the step no
// longer reaches an nth operation (the fault did not fire). Returns how many faults fired.
template <typename Step>
int every_step(std::initializer_list<Op> ops, Step step) {
    int fired = 0;
    for (const auto& c : cases(ops)) {
        for (std::uint64_t n = 1;; ++n) {
            INFO("the " << n << "th " << serambi::testing::name_of(c.op) << " fails with "
                        << serambi::testing::name_of(c.fault));
            if (!step(c.op, n, c.fault)) break;
            ++fired;
            REQUIRE(n < 200);  // a step that never stops reaching the operation is a bug of its own
        }
    }
    return fired;
}

}  // namespace

TEST_CASE("a push fails whole at any failed write, fsync, rename or database write", "[fault]") {
    const int fired =
        every_step({Op::create, Op::write, Op::sync, Op::truncate, Op::mkdir, Op::rename, Op::sync_dir, Op::db_write,
                    Op::db_sync, Op::db_truncate},
                   [](Op op, std::uint64_t n, Fault fault) {
                       World w;
                       auto store = w.populated();
                       const std::string body = varied(2 * 1024 * 1024 + 300007, 99);
                       w.env->arm(op, n, fault);
                       const auto pushed = w.push(*store, body);
                       w.env->disarm();
                       if (!w.env->fired()) {
                           REQUIRE(pushed.error == "");  // nothing failed: it must have worked
                           return false;
                       }
                       INFO("push: " << pushed.error);
                       CHECK(pushed.error != "");  // never a success with a failed write under it
                       if (pushed.error.empty()) w.committed[pushed.id] = body;
                       w.check(*store, pushed.error.empty() ? std::string() : pushed.id);
                       const auto crashed = w.crash_now(pushed.id, body);
                       CHECK(crashed.log_size == w.entries.size() + (crashed.listed.size() - w.committed.size()));
                       store.reset();
                       w.reopen_and_check(pushed.error.empty() ? std::string() : pushed.id);
                       return true;
                   });
    CHECK(fired > 20);
}

TEST_CASE("a small push, kept in the database, fails whole at any failed database write and makes no file", "[fault]") {
    const int fired = every_step(
        {Op::create, Op::write, Op::sync, Op::rename, Op::sync_dir, Op::db_write, Op::db_sync, Op::db_truncate},
        [](Op op, std::uint64_t n, Fault fault) {
            World w;
            auto store = w.populated();
            for (const std::size_t size : {std::size_t{1}, std::size_t{4096}, std::size_t{65536}}) {
                const std::string body = varied(size, ++w.seed);
                w.env->arm(op, n, fault);
                const auto pushed = w.push(*store, body);
                w.env->disarm();
                if (!w.env->fired()) {
                    REQUIRE(pushed.error == "");
                    w.committed[pushed.id] = body;
                    CHECK_FALSE(fs::exists(w.dir.path / "blobs" / pushed.id.substr(0, 2) / (pushed.id + ".blob")));
                    continue;
                }
                INFO("push of " << size << " bytes: " << pushed.error);
                CHECK(pushed.error != "");
                w.check(*store, pushed.id);
                const auto crashed = w.crash_now(pushed.id, body);
                CHECK(crashed.log_size == w.entries.size() + (crashed.listed.size() - w.committed.size()));
                store.reset();
                w.reopen_and_check(pushed.id);
                return true;
            }
            w.check(*store);
            return false;
        });
    CHECK(fired > 5);
}

TEST_CASE("an access-log append fails whole at any failed database write", "[fault]") {
    const int fired = every_step({Op::db_write, Op::db_sync, Op::db_truncate}, [](Op op, std::uint64_t n, Fault fault) {
        World w;
        auto store = w.populated();
        w.env->arm(op, n, fault);
        auto index = store->log().append({"{\"a\":1}", "{\"a\":2}"});
        w.env->disarm();
        if (!w.env->fired()) {
            REQUIRE(index.ok());
            return false;
        }
        CHECK_FALSE(index.ok());
        if (index.ok()) {
            w.entries[*index] = "{\"a\":1}";
            w.entries[*index + 1] = "{\"a\":2}";
        }
        w.check(*store);
        const auto crashed = w.crash_now({}, {});
        CHECK((crashed.log_size == w.entries.size() || crashed.log_size == w.entries.size() + 2));
        // The same store goes on: its tree in memory did not run ahead of the database.
        auto next = store->log().append({"{\"b\":1}"});
        REQUIRE(next.ok());
        w.entries[*next] = "{\"b\":1}";
        w.check(*store);
        store.reset();
        w.reopen_and_check({});
        return true;
    });
    CHECK(fired > 3);
}

TEST_CASE("start-up recovery stops at any failed unlink, rename or fsync, and a later one finishes", "[fault]") {
    const int fired =
        every_step({Op::remove, Op::mkdir, Op::rename, Op::sync_dir, Op::db_write, Op::db_sync, Op::db_truncate},
                   [](Op op, std::uint64_t n, Fault fault) {
                       World w;
                       std::map<fs::path, std::string> orphans;
                       {
                           auto store = w.populated();
                           // What a crash leaves: blobs renamed into place whose rows never committed (two in one
                           // shard, one alone), and uploads still under their temporary names.
                           for (const char* shard : {"ab", "ab", "cd"}) {
                               const std::string id = shard + crypto::random_hex(15);
                               fs::create_directories(w.dir.path / "blobs" / shard);
                               const auto path = w.dir.path / "blobs" / shard / (id + ".blob");
                               const std::string bytes = varied(5000, ++w.seed);
                               REQUIRE(write_new_file(path, bytes, 0600).ok());
                               orphans[path] = bytes;
                           }
                           for (int i = 0; i < 2; ++i)
                               REQUIRE(write_new_file(w.dir.path / "blobs" / "tmp" / (crypto::random_hex(16) + ".part"),
                                                      "half", 0600)
                                           .ok());
                       }
                       w.env->arm(op, n, fault);
                       auto opened = Store::open(w.options(true), w.master);
                       Result<Packages::Recovery> recovered = make_error(ErrorKind::internal, "not run");
                       if (opened.ok()) recovered = (*opened)->packages().recover();
                       w.env->disarm();
                       if (!w.env->fired()) {
                           REQUIRE(opened.ok());
                           REQUIRE(recovered.ok());
                           CHECK(recovered->quarantined.size() == 3);
                           CHECK(recovered->temporary_removed == 2);
                           return false;
                       }
                       CHECK_FALSE((opened.ok() && recovered.ok()));
                       // Not one orphan's bytes were lost: each is where it was or in quarantine, once.
                       auto find = [&](const std::string& bytes) {
                           int copies = 0;
                           for (const auto& e : fs::recursive_directory_iterator(w.dir.path / "blobs"))
                               if (e.is_regular_file() && e.file_size() == bytes.size() && slurp(e.path()) == bytes)
                                   ++copies;
                           return copies;
                       };
                       for (const auto& [path, bytes] : orphans) CHECK(find(bytes) == 1);
                       if (opened.ok()) w.check(**opened);
                       opened = make_error(ErrorKind::internal, "closed");
                       w.reopen_and_check({});
                       for (const auto& [path, bytes] : orphans) {
                           CHECK_FALSE(fs::exists(path));
                           CHECK(find(bytes) == 1);
                       }
                       CHECK(fs::is_empty(w.dir.path / "blobs" / "tmp"));
                       return true;
                   });
    CHECK(fired > 8);
}

TEST_CASE("a state-file update fails whole at any failed step and leaves the old file or the new", "[fault]") {
    const int fired = every_step({Op::create, Op::write, Op::sync, Op::rename, Op::remove, Op::sync_dir},
                                 [](Op op, std::uint64_t n, Fault fault) {
                                     TempDir dir;
                                     auto env = std::make_shared<FaultyEnv>();
                                     const auto path = dir.path / "state";
                                     StateFile::Contents first;
                                     first.checkpoint_size = 10;
                                     first.checkpoint_root[0] = 1;
                                     first.revoked = {"0A", "0B"};
                                     REQUIRE(StateFile(path, {}, env).replace(first).ok());
                                     StateFile state(path, first, env);
                                     env->arm(op, n, fault);
                                     const bool checkpoint = n % 2 == 0;  // both kinds of change, turn about
                                     crypto::tlog::Hash root{};
                                     root[0] = 2;
                                     const Status s =
                                         checkpoint ? state.record_checkpoint(20, root) : state.record_revoked("0C");
                                     env->disarm();
                                     StateFile::Contents wanted = first;
                                     if (checkpoint) {
                                         wanted.checkpoint_size = 20;
                                         wanted.checkpoint_root = root;
                                     } else {
                                         wanted.revoked.insert("0C");
                                     }
                                     auto same = [](const StateFile::Contents& a, const StateFile::Contents& b) {
                                         return a.checkpoint_size == b.checkpoint_size &&
                                                a.checkpoint_root == b.checkpoint_root && a.revoked == b.revoked;
                                     };
                                     auto on_disk = StateFile::read(path);
                                     REQUIRE(on_disk.ok());
                                     REQUIRE(on_disk->has_value());
                                     if (!env->fired()) {
                                         REQUIRE(s.ok());
                                         CHECK(same(**on_disk, wanted));
                                         CHECK(same(state.contents(), wanted));
                                         return false;
                                     }
                                     CHECK_FALSE(s.ok());
                                     CHECK(same(state.contents(), first));  // memory changes only once the file has
                                     CHECK((same(**on_disk, first) || same(**on_disk, wanted)));
                                     for (const auto& e : fs::directory_iterator(dir.path))
                                         CHECK(e.path().filename() == "state");  // no temporary left
                                     // A restart reads whatever is there, and goes on from it.
                                     StateFile again(path, **on_disk);
                                     REQUIRE(again.record_revoked("0D").ok());
                                     auto later = StateFile::read(path);
                                     REQUIRE(later.ok());
                                     CHECK((*later)->revoked.count("0D") == 1);
                                     CHECK((*later)->revoked.count("0A") == 1);
                                     return true;
                                 });
    CHECK(fired > 10);
}

TEST_CASE("a blob in a new shard directory is durable before its row commits: the shard's own name is fsynced",
          "[fault]") {
    World w;
    auto store = w.populated();
    // A shard no package uses yet: push until a blob lands in a new one (almost always the first).
    for (int attempt = 0; attempt < 20; ++attempt) {
        w.env->arm(Op::count_, 0, Fault::eio);             // records, fails nothing
        const std::string body = varied(70000, ++w.seed);  // above the size kept in the database
        const auto pushed = w.push(*store, body);
        w.env->disarm();
        REQUIRE(pushed.error == "");
        w.committed[pushed.id] = body;
        const auto shard = (w.dir.path / "blobs" / pushed.id.substr(0, 2)).string();
        if (w.committed.size() > 2 && std::count_if(w.committed.begin(), w.committed.end(), [&](const auto& p) {
                                          return p.first.substr(0, 2) == pushed.id.substr(0, 2);
                                      }) > 1)
            continue;  // the shard existed already
        const auto log = w.env->log();
        auto at = [&](const std::string& line) { return std::find(log.begin(), log.end(), line) - log.begin(); };
        const auto first_db_write =
            std::find_if(log.begin(), log.end(), [](const std::string& l) { return l.starts_with("db_write"); }) -
            log.begin();
        INFO("operations: " << Catch::Detail::stringify(log));
        CHECK(at("sync_dir " + (w.dir.path / "blobs").string()) < first_db_write);
        CHECK(at("sync_dir " + shard) < first_db_write);
        return;
    }
    FAIL("no push landed in a new shard");
}

TEST_CASE("lookups do not wait behind a commit whose fsync hangs, and never see it before it commits", "[fault]") {
    World w;
    auto store = w.populated();
    const auto size_before = store->log().head().value().size;
    w.env->stall(Op::db_sync);
    // A change that will hang in its commit's fsync, holding the writer.
    auto change = std::async(std::launch::async, [&] {
        return store->registry().add_dataset({"dinkes-malut/gizi", "dinkes-malut", "biasa", "Gizi", "admin", {}},
                                             "{\"action\":\"dataset.create\"}");
    });
    REQUIRE(w.env->wait_stalled(std::chrono::seconds(10)));

    // Meanwhile every kind of lookup answers, from what was committed before.
    auto lookups = std::async(std::launch::async, [&] {
        std::vector<std::string> problems;
        if (!store->registry().principal("dinkes-malut")) problems.push_back("principal");
        if (auto d = store->registry().dataset("dinkes-malut/gizi"); d || d.error().kind != ErrorKind::not_found)
            problems.push_back("the uncommitted dataset is visible");
        if (auto rows = store->packages().packages_in(kDataset); !rows || rows->size() != w.committed.size())
            problems.push_back("packages_in");
        if (auto head = store->log().head(); !head || head->size != size_before)
            problems.push_back("the log's head moved before its commit");
        if (!store->grants().agreements("dinkes-malut")) problems.push_back("agreements");
        for (const auto& [id, body] : w.committed) {
            std::string error;
            if (read_all(*store, id, error) != body) problems.push_back("package " + id + ": " + error);
        }
        return problems;
    });
    const bool answered = lookups.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    w.env->release();
    REQUIRE(answered);
    CHECK(lookups.get() == std::vector<std::string>{});

    auto index = change.get();
    REQUIRE(index.ok());
    REQUIRE(index->has_value());
    CHECK(**index == size_before);
    CHECK(store->registry().dataset("dinkes-malut/gizi").ok());
    CHECK(store->log().head().value().size == size_before + 1);
}

namespace {

// Lets a stalled operation go however the test ends, so that a failed check never hangs it.
struct ReleaseAtEnd {
    FaultyEnv& env;
    ~ReleaseAtEnd() { env.release(); }
};

std::string entry_for(int value) { return "{\"x\":" + std::to_string(value) + "}"; }

// Inserts `value` into t and appends one access-log entry for it; counts its runs. It fails
// (conflict) when the value is taken, or while `fail_runs` runs have not yet been made.
std::function<Status(Transaction&)> insert_value(int value, std::atomic<int>& runs, int fail_runs = 0) {
    return [value, &runs, fail_runs](Transaction& tx) -> Status {
        const int run = ++runs;
        auto s = tx.connection().cached("INSERT INTO t(x) VALUES(?1)");
        if (auto written = sql::write_result(s->bind(1, static_cast<std::int64_t>(value)).step(), "that value");
            !written)
            return written;
        auto index = tx.append_log({entry_for(value)});
        if (!index) return index.error();
        if (run <= fail_runs) return make_error(ErrorKind::conflict, "not yet");
        return {};
    };
}

}  // namespace

TEST_CASE("a group of changes that may run again commits without savepoints, one that fails is undone alone",
          "[fault]") {
    World w;
    const auto path = w.dir.path / "serambi.db";
    auto opened = Database::open({path, true, false, serambi::testing::kFaultyVfs}, w.master);
    REQUIRE(opened.ok());
    Database& db = **opened;
    REQUIRE(db.write([](Transaction& tx) -> Status {
                  if (!sql::exec(tx.get(), "CREATE TABLE t(x INTEGER PRIMARY KEY)"))
                      return make_error(ErrorKind::internal, "create");
                  return {};
              }).ok());
    const auto values = [&db] {
        return db.read([](Connection& c) {
            std::vector<int> out;
            sql::Statement s(c.get(), "SELECT x FROM t ORDER BY x");
            while (s.step() == SQLITE_ROW) out.push_back(static_cast<int>(s.integer(0)));
            return out;
        });
    };
    // The access log as a store reads it back after the database is closed: every entry, in
    // order, and the root its entries give.
    const auto logged_after_close = [&] {
        opened.value().reset();
        auto store = Store::open({path, w.dir.path / "blobs"}, w.master);
        REQUIRE(store.ok());
        return whole_log(**store);
    };

    // Holds the writer in a commit's fsync until the changes wait behind it, one after another,
    // then lets the next leader commit them all as one group. Each change's outcome, in order.
    using Rerun = Database::Rerun;
    std::atomic<int> holder_runs{0};
    std::array<std::atomic<bool>, 8> outcome_unknown{};  // each change's commit_failed
    auto group_of = [&](const std::vector<std::pair<std::function<Status(Transaction&)>, Rerun>>& changes) {
        w.env->stall(Op::db_sync);
        std::future<Status> holder;
        std::vector<std::future<Status>> outcomes;
        ReleaseAtEnd release{*w.env};  // before the futures above wait for their writes
        holder = std::async(std::launch::async, [&] { return db.write(insert_value(1001, holder_runs)); });
        REQUIRE(w.env->wait_stalled(std::chrono::seconds(10)));
        for (std::size_t i = 0; i < changes.size(); ++i) {
            outcomes.push_back(std::async(std::launch::async, [&db, &changes, &outcome_unknown, i] {
                bool commit_failed = false;
                auto written = db.write(changes[i].first, &commit_failed, changes[i].second);
                outcome_unknown[i] = commit_failed;
                return written;
            }));
            const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            while (db.queued_changes() < outcomes.size() && std::chrono::steady_clock::now() < until)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            REQUIRE(db.queued_changes() == outcomes.size());
        }
        w.env->release();
        REQUIRE(holder.get().ok());
        std::vector<Status> out;
        for (auto& o : outcomes) out.push_back(o.get());
        return out;
    };

    SECTION("all succeed: each runs once, outside any savepoint") {
        std::array<std::atomic<int>, 2> runs{};
        // Only inside a savepoint named as the group's are can the probe release it.
        std::atomic<int> probe_runs{0};
        std::atomic<bool> in_savepoint{false};
        auto probe = [&](Transaction& tx) -> Status {
            ++probe_runs;
            if (sql::exec(tx.get(), "RELEASE change;")) in_savepoint = true;
            return {};
        };
        auto out = group_of({{insert_value(1, runs[0]), Rerun::allowed},
                             {insert_value(2, runs[1]), Rerun::allowed},
                             {probe, Rerun::allowed}});
        for (const auto& s : out) CHECK(s.ok());
        for (const auto& r : runs) CHECK(r == 1);
        CHECK(probe_runs == 1);
        CHECK_FALSE(in_savepoint);
        CHECK(values() == std::vector<int>{1, 2, 1001});
        CHECK(logged_after_close() == std::vector<std::string>{entry_for(1001), entry_for(1), entry_for(2)});
    }
    SECTION("one fails: the whole group runs again in savepoints, and only it is undone") {
        std::array<std::atomic<int>, 4> runs{};
        auto out = group_of({{insert_value(1, runs[0]), Rerun::allowed},
                             {insert_value(2, runs[1]), Rerun::allowed},
                             {insert_value(5, runs[2], 2), Rerun::allowed},  // fails both times, after its entry
                             {insert_value(3, runs[3]), Rerun::allowed}});
        CHECK(out[0].ok());
        CHECK(out[1].ok());
        REQUIRE_FALSE(out[2].ok());
        CHECK(out[2].error().kind == ErrorKind::conflict);
        CHECK(out[3].ok());
        // Up to the failure without savepoints, then all of them again with.
        CHECK(runs[0] == 2);
        CHECK(runs[1] == 2);
        CHECK(runs[2] == 2);
        CHECK(runs[3] == 1);
        CHECK(values() == std::vector<int>{1, 2, 3, 1001});
        // No entry of the failed change, none twice from the run that was rolled back.
        CHECK(logged_after_close() ==
              std::vector<std::string>{entry_for(1001), entry_for(1), entry_for(2), entry_for(3)});
    }
    SECTION("a change that fails only at its first run is committed at its second, and reported so") {
        std::array<std::atomic<int>, 2> runs{};
        auto out =
            group_of({{insert_value(1, runs[0], 1), Rerun::allowed}, {insert_value(2, runs[1]), Rerun::allowed}});
        CHECK(out[0].ok());
        CHECK(out[1].ok());
        CHECK(runs[0] == 2);
        CHECK(runs[1] == 1);
        CHECK(values() == std::vector<int>{1, 2, 1001});
        CHECK(logged_after_close() == std::vector<std::string>{entry_for(1001), entry_for(1), entry_for(2)});
    }
    SECTION("a change that may not run again puts its whole group in savepoints") {
        std::array<std::atomic<int>, 3> runs{};
        auto out = group_of({{insert_value(1, runs[0]), Rerun::allowed},
                             {insert_value(1, runs[1]), Rerun::allowed},
                             {insert_value(2, runs[2]), Rerun::never}});
        CHECK(out[0].ok());
        CHECK_FALSE(out[1].ok());
        CHECK(out[2].ok());
        for (const auto& r : runs) CHECK(r == 1);
        CHECK(values() == std::vector<int>{1, 2, 1001});
        CHECK(logged_after_close() == std::vector<std::string>{entry_for(1001), entry_for(1), entry_for(2)});
    }
    SECTION("the group's commit fails: every change fails with its outcome unknown, and the writer goes on") {
        std::array<std::atomic<int>, 3> runs{};
        w.env->arm(Op::db_sync, 2, Fault::eio);  // the first is the holder's commit, the second the group's
        auto out = group_of({{insert_value(1, runs[0]), Rerun::allowed},
                             {insert_value(2, runs[1]), Rerun::allowed},
                             {insert_value(3, runs[2]), Rerun::allowed}});
        for (std::size_t i = 0; i < out.size(); ++i) {
            INFO("change " << i);
            CHECK_FALSE(out[i].ok());
            CHECK(outcome_unknown[i]);
            CHECK(runs[i] == 1);
        }
        CHECK(values() == std::vector<int>{1001});
        std::atomic<int> later{0};
        CHECK(db.write(insert_value(9, later)).ok());
        CHECK(values() == std::vector<int>{9, 1001});
        CHECK(logged_after_close() == std::vector<std::string>{entry_for(1001), entry_for(9)});
    }
    SECTION("a change that throws is undone alone as well") {
        std::array<std::atomic<int>, 2> runs{};
        std::atomic<int> thrown{0};
        auto out = group_of({{insert_value(1, runs[0]), Rerun::allowed},
                             {[&thrown](Transaction& tx) -> Status {
                                  ++thrown;
                                  if (!tx.append_log({entry_for(7)})) return make_error(ErrorKind::internal, "append");
                                  throw std::runtime_error("a change's own bug");
                              },
                              Rerun::allowed},
                             {insert_value(2, runs[1]), Rerun::allowed}});
        CHECK(out[0].ok());
        REQUIRE_FALSE(out[1].ok());
        CHECK(out[1].error().kind == ErrorKind::internal);
        CHECK(out[2].ok());
        CHECK(thrown == 2);
        CHECK(runs[0] == 2);
        CHECK(runs[1] == 1);
        CHECK(values() == std::vector<int>{1, 2, 1001});
        CHECK(logged_after_close() == std::vector<std::string>{entry_for(1001), entry_for(1), entry_for(2)});
    }
}
