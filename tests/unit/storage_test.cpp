#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "base/time.h"
#include "crypto/tlog.h"
#include "gateway/canonical_json.h"
#include "storage/audit_export.h"
#include "storage/read_cache.h"
#include "storage/sqlite.h"
#include "storage/store.h"
#include "temp_dir.h"

using namespace serambi;
using namespace serambi::storage;
namespace fs = std::filesystem;

namespace {

struct Fixture {
    TempDir dir;
    crypto::SecretKey master = crypto::SecretKey::random();
    Store::Options options() const {
        return {dir.path / "serambi.db", dir.path / "blobs", crypto::Aead::aes_256_gcm, true};
    }
    std::unique_ptr<Store> open() {
        auto store = Store::open(options(), master);
        REQUIRE(store.ok());
        return std::move(store).value();
    }
};

void seed(Store& store) {
    REQUIRE(store.registry()
                .add_principal({"dinkes-malut", "Dinas Kesehatan", {"producer"}, "01", "ff", {}, {}, {}, {}})
                .ok());
    Dataset d;
    d.id = "dinkes-malut/imunisasi";
    d.owner = "dinkes-malut";
    d.classification = "terbatas";
    d.title = "Imunisasi";
    d.created_by = "admin";
    REQUIRE(store.registry().add_dataset(d).ok());
}

std::string payload(std::size_t n) {
    std::string s;
    s.reserve(n);
    const std::string marker = "RAHASIA-NEGARA-";
    while (s.size() < n) s += marker;
    s.resize(n);
    return s;
}

// Bytes that differ from one 64 KiB chunk to the next, so that a chunk out of place shows.
std::string varied_payload(std::size_t n) {
    std::string s(n, '\0');
    std::uint32_t x = 2463534242u;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return s;
}

std::string commit_package(Store& store, const std::string& body, const std::vector<std::size_t>& writes = {7000}) {
    auto writer = store.packages().begin_package(
        {"dinkes-malut/imunisasi", "dinkes-malut", "terbatas", "a.csv", "text/csv", {}, {}});
    REQUIRE(writer.ok());
    // The write sizes are used in turn, the last one repeated until the body is written.
    std::size_t at = 0;
    for (std::size_t i = 0; at < body.size(); ++i) {
        const std::size_t n = writes[std::min(i, writes.size() - 1)];
        REQUIRE((*writer)->write(crypto::as_bytes(std::string_view(body).substr(at, n))).ok());
        at += n;
    }
    auto sealed = (*writer)->finish();
    REQUIRE(sealed.ok());
    CHECK(sealed->size == body.size());
    CHECK(sealed->sha256_hex == crypto::to_hex(crypto::Sha256::of(crypto::as_bytes(body))));
    auto record = (*writer)->commit("{\"manifest\":1}", crypto::Bytes{1, 2, 3}, "{\"action\":\"package.push\"}");
    REQUIRE(record.ok());
    return record->id;
}

std::string read_back(Store& store, const std::string& id, std::uint64_t from = 0, std::size_t buffer_bytes = 10007) {
    auto reader = store.packages().open_package(id);
    REQUIRE(reader.ok());
    REQUIRE((*reader)->seek(from).ok());
    std::string out;
    std::vector<std::uint8_t> buf(buffer_bytes);
    for (;;) {
        auto n = (*reader)->read(buf);
        REQUIRE(n.ok());
        if (*n == 0) break;
        out.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    return out;
}

fs::path only_blob(const fs::path& blobs) {
    for (const auto& e : fs::recursive_directory_iterator(blobs))
        if (e.path().extension() == ".blob") return e.path();
    FAIL("no blob found");
    return {};
}

}  // namespace

TEST_CASE("a committed package reads back whole and from any offset") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    const std::string body = payload(200000);
    const auto id = commit_package(*store, body);
    CHECK(read_back(*store, id) == body);
    CHECK(read_back(*store, id, 65536) == body.substr(65536));
    CHECK(read_back(*store, id, 131071) == body.substr(131071));
    CHECK(read_back(*store, id, body.size()) == "");
    auto record = store->packages().package(id);
    REQUIRE(record.ok());
    CHECK(record->size == body.size());
    CHECK(record->manifest == "{\"manifest\":1}");
    CHECK(store->packages().packages_in("dinkes-malut/imunisasi")->size() == 1);
}

TEST_CASE("a commit names the package it repeats: the dataset's newest, with the same content") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    Dataset other;
    other.id = "dinkes-malut/gizi";
    other.owner = "dinkes-malut";
    other.classification = "terbatas";
    other.title = "Gizi";
    other.created_by = "admin";
    REQUIRE(store->registry().add_dataset(other).ok());
    // Commits `body` to `dataset`: the new package's id and the one it repeats.
    auto push = [&](const std::string& dataset, const std::string& body) {
        auto writer =
            store->packages().begin_package({dataset, "dinkes-malut", "terbatas", "a.csv", "text/csv", {}, {}});
        REQUIRE(writer.ok());
        REQUIRE((*writer)->write(crypto::as_bytes(body)).ok());
        REQUIRE((*writer)->finish().ok());
        auto record = (*writer)->commit("{}", crypto::Bytes{1}, "{\"action\":\"package.push\"}");
        REQUIRE(record.ok());
        return std::pair(record->id, (*writer)->repeats());
    };
    const auto [first, none] = push("dinkes-malut/imunisasi", "kode,nilai\n1,2\n");
    CHECK(none.empty());
    const auto [second, repeated] = push("dinkes-malut/imunisasi", "kode,nilai\n1,2\n");
    CHECK(repeated == first);
    CHECK(second != first);
    CHECK(push("dinkes-malut/imunisasi", "kode,nilai\n1,3\n").second.empty());  // other content
    CHECK(push("dinkes-malut/imunisasi", "kode,nilai\n1,2\n").second.empty());  // not the newest any more
    CHECK(push("dinkes-malut/gizi", "kode,nilai\n1,2\n").second.empty());       // another dataset
    const auto large = payload(100000);  // a blob file rather than a kept payload: the same rule
    const auto [big, before] = push("dinkes-malut/gizi", large);
    CHECK(before.empty());
    CHECK(push("dinkes-malut/gizi", large).second == big);
}

TEST_CASE("a payload of up to 64 KiB is kept in the database, one byte more makes a blob file, both read back") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    auto blob_files = [&] {
        std::size_t n = 0;
        for (const auto& e : fs::recursive_directory_iterator(f.dir.path / "blobs"))
            n += e.path().extension() == ".blob";
        return n;
    };
    for (const std::size_t size : {std::size_t{1}, std::size_t{4096}, std::size_t{65535}, std::size_t{65536}}) {
        const std::string body = varied_payload(size);
        const auto id = commit_package(*store, body, {1000});
        CHECK(read_back(*store, id) == body);
        CHECK(read_back(*store, id, size / 2, 7) == body.substr(size / 2));
        CHECK(read_back(*store, id, size) == "");
    }
    CHECK(blob_files() == 0);
    const auto temp = f.dir.path / "blobs" / "tmp";
    CHECK((!fs::exists(temp) || fs::is_empty(temp)));
    const std::string larger = varied_payload(65537);
    const auto id = commit_package(*store, larger, {65536, 1});  // spills on its second write
    CHECK(blob_files() == 1);
    CHECK(read_back(*store, id) == larger);
    auto report = store->packages().check_blobs(true);
    REQUIRE(report.ok());
    CHECK(report->packages == 5);
    CHECK(report->kept == 4);
    CHECK(report->blobs == 1);
    CHECK(report->missing.empty());
    CHECK(report->damaged.empty());
    CHECK(report->unknown.empty());
    // An abandoned small package leaves nothing anywhere.
    {
        auto writer = store->packages().begin_package(
            {"dinkes-malut/imunisasi", "dinkes-malut", "terbatas", "a.csv", "text/csv", {}, {}});
        REQUIRE(writer.ok());
        REQUIRE((*writer)->write(crypto::as_bytes(std::string_view("abandoned"))).ok());
    }
    CHECK(store->packages().packages_in("dinkes-malut/imunisasi")->size() == 5);
    CHECK(blob_files() == 1);
}

TEST_CASE("concurrent commits share transactions, a change that fails in a group is undone alone") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    const auto log_before = store->log().head()->size;
    // Eight threads commit at once, so that commits queue behind one another and go in groups.
    // Every third package reuses its thread's first Idempotency-Key: that commit conflicts and
    // must fail alone, taking its access-log entry with it, never its group's other packages.
    constexpr int kThreads = 8, kEach = 24;
    struct Outcome {
        std::string id, body, entry, error;
        std::uint64_t index = 0;
    };
    std::vector<std::vector<Outcome>> outcomes(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                Outcome o;
                o.body = "thread " + std::to_string(t) + " package " + std::to_string(i);
                o.entry = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}";
                PackageDraft draft{"dinkes-malut/imunisasi", "dinkes-malut", "terbatas", "a.csv", "text/csv", {}, {}};
                draft.idempotency_key = "k" + std::to_string(t) + "-" + std::to_string(i % 3 == 2 ? 0 : i);
                auto writer = store->packages().begin_package(draft);
                if (!writer) {
                    o.error = writer.error().message;
                } else if (auto w = (*writer)->write(crypto::as_bytes(o.body)); !w) {
                    o.error = w.error().message;
                } else if (auto sealed = (*writer)->finish(); !sealed) {
                    o.error = sealed.error().message;
                } else if (auto record = (*writer)->commit("{}", crypto::Bytes{1}, o.entry); !record) {
                    o.error = record.error().kind == ErrorKind::conflict ? "conflict" : record.error().message;
                } else {
                    o.id = record->id;
                    o.index = record->audit_index;
                }
                outcomes[static_cast<std::size_t>(t)].push_back(std::move(o));
            }
        });
    }
    for (auto& thread : threads) thread.join();
    std::size_t committed = 0;
    std::set<std::uint64_t> indexes;
    for (const auto& mine : outcomes)
        for (std::size_t i = 0; i < mine.size(); ++i) {
            const auto& o = mine[i];
            INFO(o.body << ": " << o.error);
            if (i % 3 == 2) {
                CHECK(o.error == "conflict");  // the key of the thread's package 0, used again
                continue;
            }
            REQUIRE(o.error.empty());
            ++committed;
            CHECK(indexes.insert(o.index).second);
            CHECK(read_back(*store, o.id) == o.body);
            auto entry = store->log().entries(o.index, o.index + 1, 1);
            REQUIRE(entry.ok());
            REQUIRE(entry->size() == 1);
            CHECK(entry->front() == o.entry);
        }
    CHECK(committed == static_cast<std::size_t>(kThreads) * (kEach - kEach / 3));
    CHECK(store->packages().packages_in("dinkes-malut/imunisasi")->size() == committed);
    // The log holds exactly one entry per committed package, with no gap where a failed one was.
    const auto head = store->log().head();
    REQUIRE(head.ok());
    CHECK(head->size == log_before + committed);
    CHECK(*indexes.begin() == log_before);
    CHECK(*indexes.rbegin() == log_before + committed - 1);
}

TEST_CASE("writes and reads of any size, megabytes at once included, keep every byte in place") {
    // Spans several flushes of the writer and several read-ahead batches of the reader.
    Fixture f;
    auto store = f.open();
    seed(*store);
    const std::string body = varied_payload(11 * 1024 * 1024 + 12345);
    const auto id = commit_package(*store, body, {1, 1 << 20, (3 << 20) + 17, 700000, 1 << 20});
    CHECK(read_back(*store, id) == body);
    CHECK(read_back(*store, id, 0, 1 << 20) == body);  // whole chunks opened in place
    CHECK(read_back(*store, id, 65536, 3 << 20) == body.substr(65536));
    CHECK(read_back(*store, id, (9 << 20) + 5, 65536) == body.substr((9 << 20) + 5));

    // Seeking back and forth discards the read-ahead and still returns the right bytes.
    auto reader = store->packages().open_package(id);
    REQUIRE(reader.ok());
    std::vector<std::uint8_t> buf(100000);
    for (const std::uint64_t at :
         {std::uint64_t{8} << 20, std::uint64_t{1000}, std::uint64_t{5} << 20, std::uint64_t{4} << 20}) {
        REQUIRE((*reader)->seek(at).ok());
        auto n = (*reader)->read(buf);
        REQUIRE(n.ok());
        REQUIRE(*n == buf.size());
        CHECK(std::string_view(reinterpret_cast<const char*>(buf.data()), *n) == std::string_view(body).substr(at, *n));
    }
}

TEST_CASE("no plaintext payload byte reaches the disk, in blobs or in the database") {
    Fixture f;
    {
        auto store = f.open();
        seed(*store);
        commit_package(*store, payload(300000));
        commit_package(*store, payload(3000));  // kept in the database
    }
    for (const auto& e : fs::recursive_directory_iterator(f.dir.path)) {
        if (!e.is_regular_file()) continue;
        INFO(e.path().string());
        CHECK(slurp(e.path()).find("RAHASIA-NEGARA") == std::string::npos);
        CHECK(slurp(e.path()).find("Dinas Kesehatan") == std::string::npos);  // SQLCipher pages
    }
}

TEST_CASE("the database does not open without the right master key") {
    Fixture f;
    {
        auto store = f.open();
        seed(*store);
    }
    auto wrong = crypto::SecretKey::random();
    auto refused = Store::open(f.options(), wrong);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == ErrorKind::permission_denied);
    auto again = f.open();
    CHECK(again->registry().principal("dinkes-malut").ok());
}

namespace {
// Runs SQL on a raw connection keyed as the gateway keys its database, with the given page size.
bool raw_sql(const fs::path& db, const crypto::SecretKey& master, int page_size, const std::string& sql) {
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        sqlite3_close_v2(raw);
        return false;
    }
    const auto key = crypto::derive_key(master, "serambi/sqlcipher/v1");
    const std::string literal = "x'" + crypto::to_hex(key.bytes()) + "'";
    sqlite3_key(raw, literal.data(), static_cast<int>(literal.size()));
    const std::string all = "PRAGMA cipher_page_size = " + std::to_string(page_size) + ";" + sql;
    const bool ok = sqlite3_exec(raw, all.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
    sqlite3_close_v2(raw);
    return ok;
}
}  // namespace

TEST_CASE("a database of the first release's 1 KiB pages opens, takes new packages and keeps its page size") {
    Fixture f;
    std::string kept;
    {
        auto store = f.open();
        seed(*store);
        kept = commit_package(*store, payload(5000));
    }
    const auto db = f.dir.path / "serambi.db";
    const auto old = f.dir.path / "old.db";
    CHECK(raw_sql(db, f.master, 4096, "SELECT count(*) FROM principals;"));
    CHECK_FALSE(raw_sql(db, f.master, 1024, "SELECT count(*) FROM principals;"));
    // The same content re-encrypted in 1 KiB pages, as the first release wrote its databases.
    const auto key = crypto::derive_key(f.master, "serambi/sqlcipher/v1");
    REQUIRE(
        raw_sql(db, f.master, 4096,
                "ATTACH DATABASE '" + old.string() + "' AS old KEY \"x'" + crypto::to_hex(key.bytes()) +
                    "'\"; PRAGMA old.cipher_page_size = 1024; SELECT sqlcipher_export('old'); DETACH DATABASE old;"));
    fs::remove(db);
    fs::remove(f.dir.path / "serambi.db-wal");
    fs::remove(f.dir.path / "serambi.db-shm");
    fs::rename(old, db);
    REQUIRE(raw_sql(db, f.master, 1024, "SELECT count(*) FROM principals;"));

    auto options = f.options();
    options.create = false;
    {
        auto store = Store::open(options, f.master);
        REQUIRE(store.ok());
        CHECK(read_back(**store, kept) == payload(5000));
        const auto added = commit_package(**store, payload(3000));
        CHECK(read_back(**store, added) == payload(3000));
    }
    CHECK(raw_sql(db, f.master, 1024, "SELECT count(*) FROM packages;"));
    CHECK_FALSE(raw_sql(db, f.master, 4096, "SELECT count(*) FROM packages;"));
}

TEST_CASE("a missing database is an error, not a fresh start that discards the blobs") {
    Fixture f;
    {
        auto store = f.open();
        seed(*store);
        commit_package(*store, payload(100000));  // large enough for a blob file of its own
    }
    fs::rename(f.dir.path / "serambi.db", f.dir.path / "elsewhere.db");
    auto options = f.options();
    options.create = false;
    auto refused = Store::open(options, f.master);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == ErrorKind::not_found);
    CHECK(refused.error().message.find("missing") != std::string::npos);
    std::size_t blobs = 0;
    for (const auto& e : fs::recursive_directory_iterator(f.dir.path / "blobs"))
        blobs += e.path().extension() == ".blob";
    CHECK(blobs == 1);
    CHECK_FALSE(fs::exists(f.dir.path / "serambi.db"));
}

TEST_CASE("an abandoned upload leaves nothing behind") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    {
        auto writer = store->packages().begin_package(
            {"dinkes-malut/imunisasi", "dinkes-malut", "terbatas", "a.csv", "text/csv", {}, {}});
        REQUIRE(writer.ok());
        REQUIRE((*writer)->write(crypto::as_bytes(payload(100000))).ok());
        REQUIRE((*writer)->finish().ok());  // placed on disk, never committed
    }
    std::size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(f.dir.path / "blobs")) files += e.is_regular_file();
    CHECK(files == 0);
    CHECK(store->packages().packages_in("dinkes-malut/imunisasi")->empty());
}

TEST_CASE("recovery removes temporary files and quarantines blobs without a committed row, deleting none") {
    Fixture f;
    std::string kept;
    {
        auto store = f.open();
        seed(*store);
        kept = commit_package(*store, payload(1000));
    }
    // What a crash between write and commit leaves: a partial temp file and a placed blob.
    std::ofstream(f.dir.path / "blobs" / "tmp" / "0123456789abcdef0123456789abcdef.part") << "partial";
    fs::create_directories(f.dir.path / "blobs" / "ab");
    std::ofstream(f.dir.path / "blobs" / "ab" / "abababababababababababababababab.blob") << "orphan";
    auto store = f.open();
    // Opening alone moves nothing: recovery waits until the database is judged trustworthy.
    CHECK(fs::exists(f.dir.path / "blobs" / "ab" / "abababababababababababababababab.blob"));
    auto recovery = store->packages().recover();
    REQUIRE(recovery.ok());
    CHECK(recovery->temporary_removed == 1);
    REQUIRE(recovery->quarantined.size() == 1);
    CHECK_FALSE(fs::exists(f.dir.path / "blobs" / "ab" / "abababababababababababababababab.blob"));
    CHECK(slurp(f.dir.path / "blobs" / "quarantine" / "abababababababababababababababab.blob") == "orphan");
    CHECK(read_back(*store, kept) == payload(1000));

    // The same orphan again (a second restore) does not overwrite the first copy.
    std::ofstream(f.dir.path / "blobs" / "ab" / "abababababababababababababababab.blob") << "second";
    auto again = store->packages().recover();
    REQUIRE(again.ok());
    REQUIRE(again->quarantined.size() == 1);
    CHECK(slurp(f.dir.path / "blobs" / "quarantine" / "abababababababababababababababab.blob") == "orphan");
    CHECK(slurp(again->quarantined.front()) == "second");
    // fsck's view: the committed package is whole, the quarantined ones are listed.
    auto report = store->packages().check_blobs(true);
    REQUIRE(report.ok());
    CHECK(report->packages == 1);
    CHECK(report->missing.empty());
    CHECK(report->damaged.empty());
    CHECK(report->unknown.empty());
    CHECK(report->quarantined.size() == 2);
}

TEST_CASE("an emptied, schema-less or damaged database is refused and no blob is touched") {
    Fixture f;
    {
        auto store = f.open();
        seed(*store);
        for (int i = 0; i < 40; ++i) commit_package(*store, payload(70000 + static_cast<std::size_t>(i)));
    }
    auto blob_count = [&] {
        std::size_t n = 0;
        for (const auto& e : fs::recursive_directory_iterator(f.dir.path / "blobs"))
            n += e.path().extension() == ".blob";
        return n;
    };
    REQUIRE(blob_count() == 40);
    auto options = f.options();
    options.create = false;
    const auto db = f.dir.path / "serambi.db";

    SECTION("emptied to zero bytes") {
        fs::resize_file(db, 0);
        auto refused = Store::open(options, f.master);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().message.find("schema") != std::string::npos);
    }
    SECTION("one bit flipped in the last page, which only a full read finds") {
        auto bytes = slurp(db);
        bytes[bytes.size() - 2000] = static_cast<char>(bytes[bytes.size() - 2000] ^ 0x10);
        std::ofstream(db, std::ios::binary | std::ios::trunc) << bytes;
        auto refused = Store::open(options, f.master);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().kind == ErrorKind::corruption);
        CHECK(refused.error().message.find("damaged") != std::string::npos);
    }
    SECTION("one bit flipped in a page") {
        auto bytes = slurp(db);
        REQUIRE(bytes.size() > 8192);
        bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x04);
        std::ofstream(db, std::ios::binary | std::ios::trunc) << bytes;
        auto refused = Store::open(options, f.master);
        REQUIRE_FALSE(refused.ok());
        // Where the flip lands decides which check sees it first: the key check (page 1 and the
        // schema pages) or the integrity check (any other page). Either way it is named damage.
        CHECK((refused.error().kind == ErrorKind::corruption || refused.error().kind == ErrorKind::permission_denied));
        CHECK(refused.error().message.find("damaged") != std::string::npos);
    }
    CHECK(blob_count() == 40);
    CHECK_FALSE(fs::exists(f.dir.path / "blobs" / "quarantine"));
}

TEST_CASE("the state file round-trips, only grows, and a damaged one is an error") {
    Fixture f;
    const auto path = f.dir.path / "gateway.state";
    auto absent = StateFile::read(path);
    REQUIRE(absent.ok());
    CHECK_FALSE(absent->has_value());

    StateFile state(path, {});
    crypto::tlog::Hash root{};
    root[0] = 7;
    REQUIRE(state.record_checkpoint(12, root).ok());
    REQUIRE(state.record_revoked("0A1B2C").ok());
    CHECK_FALSE(state.record_revoked("not hex").ok());
    crypto::tlog::Hash older{};
    CHECK_FALSE(state.record_checkpoint(5, older).ok());   // smaller: a fork, refused
    CHECK_FALSE(state.record_checkpoint(12, older).ok());  // same size, another root: refused
    auto back = StateFile::read(path);
    REQUIRE(back.ok());
    REQUIRE(back->has_value());
    CHECK((*back)->checkpoint_size == 12);
    CHECK((*back)->checkpoint_root == root);
    CHECK((*back)->revoked == std::set<std::string>{"0A1B2C"});

    auto text = slurp(path);
    for (const std::string& bad : {std::string("garbage\n"), text.substr(0, text.find('\n') + 1), text + "revoked zz\n",
                                   text + "checkpoint 1 AAAA\n", text + "extra line\n"}) {
        std::ofstream(path, std::ios::trunc) << bad;
        auto damaged = StateFile::read(path);
        CHECK_FALSE(damaged.ok());
    }
}

TEST_CASE("a tampered, truncated or swapped blob is reported as corruption, never returned") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    const auto id = commit_package(*store, payload(150000));
    const auto blob = only_blob(f.dir.path / "blobs");
    auto bytes = slurp(blob);

    SECTION("a flipped byte") {
        bytes[70000] = static_cast<char>(bytes[70000] ^ 0x01);
        std::ofstream(blob, std::ios::binary | std::ios::trunc) << bytes;
        auto reader = store->packages().open_package(id);
        REQUIRE(reader.ok());
        std::vector<std::uint8_t> buf(200000);
        auto n = (*reader)->read(buf);
        REQUIRE_FALSE(n.ok());
        CHECK(n.error().kind == ErrorKind::corruption);
    }
    SECTION("a truncated blob") {
        bytes.resize(bytes.size() - 100);
        std::ofstream(blob, std::ios::binary | std::ios::trunc) << bytes;
        auto reader = store->packages().open_package(id);
        REQUIRE_FALSE(reader.ok());
        CHECK(reader.error().kind == ErrorKind::corruption);
    }
    SECTION("another package's blob in its place") {
        const auto other = commit_package(*store, payload(150000));
        fs::path other_blob;
        for (const auto& e : fs::recursive_directory_iterator(f.dir.path / "blobs"))
            if (e.path().stem() == other) other_blob = e.path();
        fs::copy_file(other_blob, blob, fs::copy_options::overwrite_existing);
        auto reader = store->packages().open_package(id);
        REQUIRE(reader.ok());
        std::vector<std::uint8_t> buf(1000);
        CHECK_FALSE((*reader)->read(buf).ok());
    }
}

TEST_CASE("duplicate principals and datasets are conflicts, unknown owners are refused") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    CHECK(
        store->registry().add_principal({"dinkes-malut", "x", {"producer"}, "02", "ee", {}, {}, {}, {}}).error().kind ==
        ErrorKind::conflict);
    Dataset d;
    d.id = "nobody/x";
    d.owner = "nobody";
    d.classification = "biasa";
    d.title = "t";
    d.created_by = "admin";
    CHECK_FALSE(store->registry().add_dataset(d).ok());
    CHECK(store->registry().dataset("dinkes-malut/imunisasi")->classification == "terbatas");
    CHECK(store->registry().dataset("x'; DROP TABLE datasets; --").error().kind == ErrorKind::not_found);
    CHECK(store->registry().datasets()->size() == 1);
}

TEST_CASE("a renewal whose certificate was revoked meanwhile fails, a reissue keeps the first revocation") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    auto& registry = store->registry();
    // The admin revokes serial 01 (keyCompromise) while a renewal made with that key is on its way.
    REQUIRE(registry.revoke_certificate({"01", "dinkes-malut", 1, 1000, "admin"}).ok());
    auto renewed = registry.replace_certificate("dinkes-malut", "02", "ee", "2027-01-01T00:00:00Z",
                                                {"01", "dinkes-malut", 4, 1001, "dinkes-malut"});
    REQUIRE_FALSE(renewed.ok());
    CHECK(renewed.error().kind == ErrorKind::conflict);
    CHECK(registry.principal("dinkes-malut")->cert_serial == "01");  // nothing changed
    // An admin's reissue for the unit's new key goes through, and 01 stays revoked for its first reason.
    auto reissued = registry.replace_certificate("dinkes-malut", "03", "dd", "2027-01-01T00:00:00Z",
                                                 {"01", "dinkes-malut", 4, 1002, "admin"}, {}, true);
    REQUIRE(reissued.ok());
    CHECK(registry.principal("dinkes-malut")->cert_serial == "03");
    auto revoked = registry.revocations();
    REQUIRE(revoked.ok());
    REQUIRE(revoked->size() == 1);
    CHECK(revoked->front().reason == 1);
    CHECK(revoked->front().revoked_by == "admin");
}

TEST_CASE("the master key file is written 0600 and refused when others may read it") {
    TempDir dir;
    const auto path = dir.path / "master.key";
    REQUIRE(write_master_key(path).ok());
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(read_master_key(path).ok());
    CHECK(write_master_key(path).error().kind == ErrorKind::conflict);  // never overwritten
    ::chmod(path.c_str(), 0644);
    CHECK(read_master_key(path).error().kind == ErrorKind::permission_denied);
    ::chmod(path.c_str(), 0600);
    std::ofstream(path, std::ios::trunc) << "not hex\n";
    CHECK_FALSE(read_master_key(path).ok());
}

TEST_CASE("canonical JSON follows RFC 8785: UTF-16 member order, minimal escapes, integers") {
    // The member-sorting example of RFC 8785 §3.2.3.
    auto value = boost::json::parse(
        R"({"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh",)"
        R"("1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"})");
    auto text = gateway::canonical_json(value);
    REQUIRE(text.ok());
    const std::string expected =
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\",\"\xc3\xb6\":\"Latin Small Letter O With "
        "Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":"
        "\"Hebrew Letter Dalet With Dagesh\"}";
    CHECK(*text == expected);
    CHECK(gateway::canonical_json(boost::json::parse(R"({"b":[1,true,null,"x\u0001\"\\"],"a":-5})")).value() ==
          "{\"a\":-5,\"b\":[1,true,null,\"x\\u0001\\\"\\\\\"]}");
    CHECK_FALSE(gateway::canonical_json(boost::json::parse("1.5")).ok());
}

TEST_CASE("the access log's roots and proofs agree with a tree computed from its entries") {
    Fixture f;
    auto store = f.open();
    crypto::tlog::TreeBuilder reference;
    std::vector<crypto::tlog::Hash> roots{crypto::tlog::empty_root()};
    for (int i = 0; i < 37; ++i) {
        const std::string entry = "{\"n\":" + std::to_string(i) + "}";
        auto index = store->log().append({entry});
        REQUIRE(index.ok());
        CHECK(*index == static_cast<std::uint64_t>(i));
        reference.add(crypto::tlog::leaf_hash(crypto::as_bytes(entry)));
        roots.push_back(reference.root());
    }
    auto head = store->log().head();
    REQUIRE(head.ok());
    CHECK(head->size == 37);
    CHECK(head->root == reference.root());
    for (std::uint64_t size = 0; size <= 37; ++size) {
        auto root = store->log().root(size);
        REQUIRE(root.ok());
        CHECK(*root == roots[size]);
        for (std::uint64_t index = 0; index < size; ++index) {
            auto proof = store->log().inclusion(index, size);
            REQUIRE(proof.ok());
            const std::string entry = "{\"n\":" + std::to_string(index) + "}";
            CHECK(crypto::tlog::verify_inclusion(index, size, crypto::tlog::leaf_hash(crypto::as_bytes(entry)), *proof,
                                                 roots[size]));
        }
        for (std::uint64_t old_size = 0; old_size <= size; ++old_size) {
            auto proof = store->log().consistency(old_size, size);
            REQUIRE(proof.ok());
            if (old_size > 0)
                CHECK(crypto::tlog::verify_consistency(old_size, size, roots[old_size], roots[size], *proof));
        }
    }
    CHECK_FALSE(store->log().inclusion(37, 37).ok());
    CHECK_FALSE(store->log().consistency(5, 38).ok());
    auto rows = store->log().entries(35, 100, 10);
    REQUIRE(rows.ok());
    CHECK(*rows == std::vector<std::string>{"{\"n\":35}", "{\"n\":36}"});

    // The tail survives a reopen: appends continue the same tree.
    store.reset();
    store = f.open();
    REQUIRE(store->log().append({"{\"n\":37}"}).ok());
    reference.add(crypto::tlog::leaf_hash(crypto::as_bytes(std::string("{\"n\":37}"))));
    CHECK(store->log().head()->root == reference.root());
}

TEST_CASE("a tree past several bands of stored levels: roots and proofs at every size agree") {
    // Only every fourth level is stored; 700 leaves reach level 9, so nodes are folded from
    // levels 0, 4 and 8, on the right edge as well as inside.
    Fixture f;
    auto store = f.open();
    crypto::tlog::TreeBuilder reference;
    std::vector<crypto::tlog::Hash> roots{crypto::tlog::empty_root()};
    std::vector<crypto::tlog::Hash> leaves;
    constexpr std::uint64_t kSize = 700;
    for (std::uint64_t at = 0; at < kSize; at += 50) {
        std::vector<std::string> batch;
        for (std::uint64_t i = at; i < at + 50; ++i) {
            batch.push_back("{\"m\":" + std::to_string(i) + "}");
            leaves.push_back(crypto::tlog::leaf_hash(crypto::as_bytes(batch.back())));
            reference.add(leaves.back());
            roots.push_back(reference.root());
        }
        REQUIRE(store->log().append(std::move(batch)).ok());
    }
    for (std::uint64_t size = 0; size <= kSize; ++size) {
        auto root = store->log().root(size);
        REQUIRE(root.ok());
        CHECK(*root == roots[size]);
        if (size == 0) continue;
        for (const std::uint64_t index :
             {std::uint64_t{0}, size / 3, size / 2 + 1 < size ? size / 2 + 1 : 0, size - 1}) {
            auto proof = store->log().inclusion(index, size);
            REQUIRE(proof.ok());
            CHECK(crypto::tlog::verify_inclusion(index, size, leaves[index], *proof, roots[size]));
        }
        for (const std::uint64_t old_size : {std::uint64_t{1}, size / 2 + 1, size - 1}) {
            if (old_size == 0 || old_size > size) continue;
            auto proof = store->log().consistency(old_size, size);
            REQUIRE(proof.ok());
            CHECK(crypto::tlog::verify_consistency(old_size, size, roots[old_size], roots[size], *proof));
        }
    }
    // The tail is rebuilt from folded nodes at a reopen, and appends continue the same tree.
    store.reset();
    store = f.open();
    REQUIRE(store->log().append({"{\"m\":700}"}).ok());
    reference.add(crypto::tlog::leaf_hash(crypto::as_bytes(std::string("{\"m\":700}"))));
    CHECK(store->log().head()->root == reference.root());
}

TEST_CASE("concurrent appends share commits and every entry lands exactly once") {
    Fixture f;
    auto store = f.open();
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i)
                if (!store->log().append({"{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}"}).ok())
                    ++failures;
        });
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    auto rows = store->log().entries(0, 1000, 1000);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 400);
    std::set<std::string> distinct(rows->begin(), rows->end());
    CHECK(distinct.size() == 400);
    crypto::tlog::TreeBuilder reference;
    for (const auto& row : *rows) reference.add(crypto::tlog::leaf_hash(crypto::as_bytes(row)));
    CHECK(store->log().head()->root == reference.root());
}

TEST_CASE("a committed package's access-log entry is committed with it, and only then") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    REQUIRE(store->log().append({"{\"first\":true}"}).ok());
    const auto id = commit_package(*store, payload(1000));
    auto rows = store->log().entries(0, 10, 10);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 2);
    CHECK((*rows)[1] == "{\"action\":\"package.push\"}");
    CHECK(store->packages().package(id).ok());

    // An upload abandoned before commit leaves no entry.
    {
        auto writer = store->packages().begin_package(
            {"dinkes-malut/imunisasi", "dinkes-malut", "terbatas", "b.csv", "text/csv", {}, {}});
        REQUIRE(writer.ok());
        REQUIRE((*writer)->write(crypto::as_bytes(std::string("abc"))).ok());
    }
    CHECK(store->log().head()->size == 2);
}

TEST_CASE("an administrative change and its access-log entry commit together or not at all") {
    Fixture f;
    auto store = f.open();
    auto added = store->registry().add_principal({"walidata", "Walidata", {"custodian"}, "0A", "aa", {}, {}, {}, {}},
                                                 "{\"add\":\"walidata\"}");
    REQUIRE(added.ok());
    REQUIRE(added->has_value());
    CHECK(**added == 0);
    // Refused (the id exists): neither the change nor its entry is kept.
    auto again = store->registry().add_principal({"walidata", "Other", {"admin"}, "0B", "bb", {}, {}, {}, {}},
                                                 "{\"add\":\"again\"}");
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().kind == ErrorKind::conflict);
    CHECK(store->log().head()->size == 1);
    CHECK(store->registry().principal("walidata")->name == "Walidata");
    // The log still grows from where it was.
    auto next = store->log().append({"{\"next\":1}"});
    REQUIRE(next.ok());
    CHECK(*next == 1);
}

TEST_CASE("removing a principal marks it, revokes its certificate and logs it, once") {
    Fixture f;
    auto store = f.open();
    REQUIRE(store->registry().add_principal({"opd-lama", "OPD Lama", {"producer"}, "0C", "cc", {}, {}, {}, {}}).ok());
    REQUIRE(
        store->registry().add_principal({"opd-hilang", "OPD Hilang", {"producer"}, "0D", "dd", {}, {}, {}, {}}).ok());
    storage::Revocation r{"0C", "opd-lama", 5, 1795660000, "admin"};
    auto removed = store->registry().remove_principal("opd-lama", r, "{\"remove\":\"opd-lama\"}");
    REQUIRE(removed.ok());
    CHECK(store->registry().principal("opd-lama")->removed_at == format_time(1795660000));
    CHECK(store->registry().principal("opd-hilang")->removed_at.empty());
    auto revoked = store->registry().revocations();
    REQUIRE(revoked.ok());
    REQUIRE(revoked->size() == 1);
    CHECK(revoked->front().serial_hex == "0C");
    CHECK(revoked->front().reason == 5);
    const auto log_size = store->log().head()->size;
    // A second removal is refused and leaves no entry.
    auto twice = store->registry().remove_principal("opd-lama", r, "{\"remove\":\"again\"}");
    REQUIRE_FALSE(twice.ok());
    CHECK(twice.error().kind == ErrorKind::conflict);
    CHECK(store->log().head()->size == log_size);
    // A certificate revoked earlier (a lost key) keeps its first reason when the unit is removed.
    REQUIRE(store->registry().revoke_certificate({"0D", "opd-hilang", 1, 1795650000, "admin"}).ok());
    REQUIRE(store->registry().remove_principal("opd-hilang", {"0D", "opd-hilang", 5, 1795670000, "admin"}).ok());
    auto after = store->registry().revocations();
    REQUIRE(after.ok());
    REQUIRE(after->size() == 2);
    for (const auto& rev : *after)
        if (rev.serial_hex == "0D") CHECK(rev.reason == 1);
    CHECK_FALSE(store->registry().principal("opd-hilang")->removed_at.empty());
}

namespace {

// A hand-over as the gateway writes it: the announcement, then the checkpoint of the tree that
// ends with it, signed by the old key and the new one and naming the new key.
struct Handover {
    std::uint64_t size = 0;
    crypto::tlog::Hash root{};
};

std::string announcement(const std::string& old_key, const std::string& new_key) {
    return boost::json::serialize(
        boost::json::object{{"action", "log.key_rotated"}, {"old_key", old_key}, {"new_key", new_key}});
}

std::string holding(const std::string& note) {
    return boost::json::serialize(boost::json::object{{"action", "log.key_handover"}, {"checkpoint", note}});
}

std::string signed_by(const std::string& body, const std::vector<const crypto::tlog::NoteSigner*>& signers) {
    std::string note = body + "\n";
    for (const auto* s : signers) note += s->sign(body).substr(body.size() + 1);
    return note;
}

crypto::tlog::NoteSigner log_key(const std::string& origin = "serambi.example/log") {
    auto k = crypto::tlog::NoteSigner::generate(origin);
    REQUIRE(k.ok());
    return std::move(k).value();
}

}  // namespace

TEST_CASE("a key hand-over is written in one transaction over the tree as it stands, whatever its size") {
    Fixture f;
    auto store = f.open();
    auto first = log_key();
    auto previous = &first;
    std::vector<crypto::tlog::NoteSigner> keys;
    keys.reserve(12);
    std::uint64_t appended = 0;
    // Hand-overs at many sizes, each after a different number of plain entries: the root the
    // writer computes from its tail must be the one the stored nodes give.
    for (int round = 0; round < 12; ++round) {
        for (int i = 0; i < round * 3 + 1; ++i)
            REQUIRE(store->log().append({"{\"n\":" + std::to_string(appended++) + "}"}).ok());
        keys.push_back(log_key());
        auto& next = keys.back();
        Handover seen;
        auto done = store->log().hand_over_key(
            previous->verifier_key(), next.verifier_key(), announcement(previous->verifier_key(), next.verifier_key()),
            [&](std::uint64_t size, const crypto::tlog::Hash& root) {
                seen = {size, root};
                const auto body = handover_checkpoint_body({"serambi.example/log", size, root}, next.verifier_key());
                const auto note = signed_by(body, {previous, &next});
                return std::make_pair(note, holding(note));
            });
        REQUIRE(done.ok());
        appended += 2;
        CHECK(done->size == appended - 1);
        CHECK(seen.size == done->size);
        auto stored_root = store->log().root(seen.size);
        REQUIRE(stored_root.ok());
        CHECK(*stored_root == seen.root);
        previous = &next;
    }
    auto handovers = store->log().key_handovers();
    REQUIRE(handovers.ok());
    REQUIRE(handovers->size() == 12);
    CHECK(handovers->back().new_key == keys.back().verifier_key());
    auto latest = store->log().latest_checkpoint();
    REQUIRE(latest.ok());
    CHECK(*latest == handovers->back().note);

    // An auditor who trusts the first key follows every hand-over in the export.
    auto entries = store->log().entries(0, appended, appended);
    REQUIRE(entries.ok());
    KeyChain chain(first.verifier_key());
    crypto::tlog::TreeBuilder tree;
    for (const auto& entry : *entries) {
        REQUIRE(chain.see(entry, tree).ok());
        tree.add(crypto::tlog::leaf_hash(crypto::as_bytes(entry)));
    }
    CHECK(chain.handovers_followed(0, appended) == 12);
    CHECK(chain.key_for(appended) == keys.back().verifier_key());
    CHECK(chain.key_for(handovers->front().size) == first.verifier_key());
    CHECK(chain.key_for(handovers->front().size + 1) == keys.front().verifier_key());
}

TEST_CASE("a hand-over moves an auditor's trust only when the key trusted signed it over the very tree") {
    auto old_key = log_key();
    auto new_key = log_key();
    auto stranger = log_key();
    auto other_log = log_key("another.example/log");
    const std::vector<std::string> before{"{\"n\":0}", "{\"n\":1}", "{\"n\":2}"};

    // Walks `entries` (the plain ones, then `extra`) from the old key.
    auto walk = [&](const std::vector<std::string>& extra, KeyChain& chain) -> Status {
        crypto::tlog::TreeBuilder tree;
        auto all = before;
        all.insert(all.end(), extra.begin(), extra.end());
        for (const auto& entry : all) {
            if (auto s = chain.see(entry, tree); !s) return s;
            tree.add(crypto::tlog::leaf_hash(crypto::as_bytes(entry)));
        }
        return {};
    };
    auto tree_of = [&](const std::string& last) {
        crypto::tlog::TreeBuilder tree;
        for (const auto& e : before) tree.add(crypto::tlog::leaf_hash(crypto::as_bytes(e)));
        tree.add(crypto::tlog::leaf_hash(crypto::as_bytes(last)));
        return tree;
    };
    const auto a = announcement(old_key.verifier_key(), new_key.verifier_key());
    const auto body = handover_checkpoint_body({"serambi.example/log", 4, tree_of(a).root()}, new_key.verifier_key());

    SECTION("the real thing is followed") {
        KeyChain chain(old_key.verifier_key() + "\n");
        REQUIRE(walk({a, holding(signed_by(body, {&old_key, &new_key}))}, chain).ok());
        CHECK(chain.key_for(5) == new_key.verifier_key());
        CHECK(chain.key_for(4) == old_key.verifier_key());
    }
    SECTION("an auditor who holds the new key checks checkpoints from before the hand-over") {
        KeyChain chain(new_key.verifier_key());
        REQUIRE(walk({a, holding(signed_by(body, {&old_key, &new_key}))}, chain).ok());
        CHECK(chain.key_for(3) == old_key.verifier_key());
        CHECK(chain.key_for(4) == old_key.verifier_key());
        CHECK(chain.key_for(5) == new_key.verifier_key());
        CHECK(chain.handovers_followed(3, 5) == 1);
        CHECK(chain.handovers_followed(5, 5) == 0);
    }
    SECTION("without the old key's signature it is refused") {
        KeyChain chain(old_key.verifier_key());
        CHECK_FALSE(walk({a, holding(signed_by(body, {&new_key}))}, chain).ok());
    }
    SECTION("without the new key's signature it is refused") {
        KeyChain chain(old_key.verifier_key());
        CHECK_FALSE(walk({a, holding(signed_by(body, {&old_key}))}, chain).ok());
    }
    SECTION("over another tree it is refused") {
        const auto wrong =
            handover_checkpoint_body({"serambi.example/log", 4, tree_of("{}").root()}, new_key.verifier_key());
        KeyChain chain(old_key.verifier_key());
        auto s = walk({a, holding(signed_by(wrong, {&old_key, &new_key}))}, chain);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().message.find("not the tree") != std::string::npos);
    }
    SECTION("a checkpoint that names no new key, or another, is refused") {
        KeyChain chain(old_key.verifier_key());
        const auto plain = crypto::tlog::checkpoint_body({"serambi.example/log", 4, tree_of(a).root()});
        CHECK_FALSE(walk({a, holding(signed_by(plain, {&old_key, &new_key}))}, chain).ok());
        KeyChain again(old_key.verifier_key());
        const auto names_stranger =
            handover_checkpoint_body({"serambi.example/log", 4, tree_of(a).root()}, stranger.verifier_key());
        CHECK_FALSE(walk({a, holding(signed_by(names_stranger, {&old_key, &new_key}))}, again).ok());
    }
    SECTION("a hand-over with no announcement just before it is refused") {
        KeyChain chain(old_key.verifier_key());
        CHECK_FALSE(walk({holding(signed_by(body, {&old_key, &new_key}))}, chain).ok());
    }
    SECTION("a key of another log is not followed") {
        const auto to_other = announcement(old_key.verifier_key(), other_log.verifier_key());
        const auto other_body =
            handover_checkpoint_body({"serambi.example/log", 4, tree_of(to_other).root()}, other_log.verifier_key());
        KeyChain chain(old_key.verifier_key());
        CHECK_FALSE(walk({to_other, holding(signed_by(other_body, {&old_key, &other_log}))}, chain).ok());
    }
    SECTION("a hand-over between keys the auditor never trusted moves nothing") {
        // Whoever holds a stranger key can write a well-formed hand-over from it; the auditor's
        // trust stays with the old key, and a checkpoint by the stranger's successor fails.
        const auto forged = announcement(stranger.verifier_key(), new_key.verifier_key());
        const auto forged_body =
            handover_checkpoint_body({"serambi.example/log", 4, tree_of(forged).root()}, new_key.verifier_key());
        KeyChain chain(old_key.verifier_key());
        REQUIRE(walk({forged, holding(signed_by(forged_body, {&stranger, &new_key}))}, chain).ok());
        CHECK(chain.handovers_followed(0, 5) == 0);
        CHECK(chain.key_for(5) == old_key.verifier_key());
    }
    SECTION("entries that only look like one are ignored, broken JSON included") {
        KeyChain chain(old_key.verifier_key());
        REQUIRE(walk({"{\"reason\":\"log.key_handover\"}", "{\"log.key_", "not json at all"}, chain).ok());
        CHECK(chain.key_for(6) == old_key.verifier_key());
    }
}

TEST_CASE("an email hook's confirmation: five tries in all, once, and the code's mail emptied after") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    HookRecord h;
    h.id = "hook-00000000000000aa";
    h.owner = "dinkes-malut";
    h.url = "mailto:walidata@dinkes.malutprov.go.id";
    h.events = {"package.arrived"};
    h.secret = std::string(64, 'a');  // the code's hash
    h.created_at = 1796600000;
    h.cert_serial = "01";
    DeliveryRecord mail;
    mail.id = "msg_confirm";
    mail.event = "address.confirm";
    mail.recipient = "dinkes-malut";
    mail.body = R"({"type":"address.confirm","data":{"code":"7QKM-3XWD"}})";
    mail.created_at = mail.next_at = h.created_at;
    REQUIRE(store->hooks().add_hook(h, {10, 10}, {}, &mail).ok());
    // The same address again while it waits: refused, nothing mailed twice.
    auto twice = h;
    twice.id = "hook-00000000000000ab";
    auto again_mail = mail;
    again_mail.id = "msg_confirm_2";
    auto second = store->hooks().add_hook(twice, {10, 10}, {}, &again_mail);
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().kind == ErrorKind::conflict);

    auto listed = store->hooks().hooks("dinkes-malut");
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 1);
    CHECK(listed->front().confirmed_at == 0);
    auto queued = store->hooks().deliveries(h.id, 10);
    REQUIRE(queued.ok());
    REQUIRE(queued->size() == 1);
    CHECK(queued->front().event == "address.confirm");

    auto try_once = [&] {
        auto taken = store->hooks().take_confirm_try(h.id, 5);
        REQUIRE(taken.ok());
        return *taken;
    };
    auto stored = [&] {
        auto hook = store->hooks().hook(h.id);
        REQUIRE(hook.ok());
        return *hook;
    };
    for (int i = 0; i < 5; ++i) CHECK(try_once());
    CHECK_FALSE(try_once());  // the sixth is not given
    CHECK(stored().confirm_tries == 5);

    // Sent, then confirmed: the mail's copy of the code goes.
    auto sent = queued->front();
    sent.state = "delivered";
    sent.attempts = 1;
    sent.delivered_at = h.created_at + 1;
    REQUIRE(store->hooks().record_attempt(sent, {}).ok());
    REQUIRE(store->hooks().confirm_hook(h.id, h.created_at + 60, 42).ok());
    CHECK(stored().from_index == 42);  // it hears from its confirmation on
    CHECK(stored().confirmed_at == h.created_at + 60);
    auto after = store->hooks().deliveries(h.id, 10);
    REQUIRE(after.ok());
    CHECK(after->front().body.empty());
    auto again = store->hooks().confirm_hook(h.id, h.created_at + 61, 43);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().kind == ErrorKind::conflict);
    CHECK_FALSE(try_once());  // nothing left to try on a confirmed hook
}

TEST_CASE("email hooks: at most so many addresses a day, removed ones counted") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    HookRecord h;
    h.owner = "dinkes-malut";
    h.events = {"package.arrived"};
    h.secret = std::string(64, 'a');
    h.created_at = 1796600000;
    h.cert_serial = "01";
    for (int i = 0; i < 3; ++i) {
        h.id = "hook-00000000000000c" + std::to_string(i);
        h.url = "mailto:a" + std::to_string(i) + "@dinkes.malutprov.go.id";
        REQUIRE(store->hooks().add_hook(h, {10, 3}).ok());
        REQUIRE(store->hooks().remove_hook(h.id, h.created_at + 1).ok());
    }
    h.id = "hook-00000000000000c9";
    h.url = "mailto:a9@dinkes.malutprov.go.id";
    auto fourth = store->hooks().add_hook(h, {10, 3});
    REQUIRE_FALSE(fourth.ok());
    CHECK(fourth.error().message.find("in the last 24 hours") != std::string::npos);
    h.created_at += 24 * 3600 + 1;  // a day later
    CHECK(store->hooks().add_hook(h, {10, 3}).ok());
    // HTTPS hooks are not counted: they mail no one.
    h.id = "hook-00000000000000d1";
    h.url = "https://notifikasi.example.go.id/serambi";
    CHECK(store->hooks().add_hook(h, {10, 3}).ok());
}

TEST_CASE("rows kept in memory go at every change, a read begun before a change is not kept, failures never are") {
    ReadCache<std::string> cache;
    int reads = 0;
    auto read_as = [&](std::string value) {
        return [&reads, value] {
            ++reads;
            return Result<std::string>(value);
        };
    };
    CHECK(cache.get("walidata", read_as("A")).value() == "A");
    CHECK(cache.get("walidata", read_as("B")).value() == "A");  // kept
    CHECK(reads == 1);
    cache.forget_all();
    CHECK(cache.get("walidata", read_as("B")).value() == "B");
    CHECK(reads == 2);

    // A change commits while a read is under way: what that read found is answered, not kept.
    auto raced = cache.get("dinkes-malut", [&] {
        ++reads;
        cache.forget_all();
        return Result<std::string>(std::string("before the change"));
    });
    CHECK(raced.value() == "before the change");
    CHECK(cache.get("dinkes-malut", read_as("after")).value() == "after");
    CHECK(reads == 4);
    CHECK(cache.get("dinkes-malut", read_as("later")).value() == "after");  // kept again after a change
    CHECK(reads == 4);

    // Not found now may be found after the next change, which need not be one the cache hears of.
    auto missing = [&] {
        ++reads;
        return Result<std::string>(make_error(ErrorKind::not_found, "no such principal"));
    };
    CHECK_FALSE(cache.get("opd-baru", missing).ok());
    CHECK_FALSE(cache.get("opd-baru", missing).ok());
    CHECK(reads == 6);
}

TEST_CASE("a principal or dataset read once is read again after any change to the registry") {
    Fixture f;
    auto store = f.open();
    seed(*store);
    auto& registry = store->registry();
    CHECK(registry.principal("dinkes-malut")->cert_serial == "01");
    CHECK(registry.principal("dinkes-malut")->age_recipient.empty());
    REQUIRE(registry.set_age_recipient("dinkes-malut", "age1example").ok());
    CHECK(registry.principal("dinkes-malut")->age_recipient == "age1example");
    REQUIRE(registry
                .replace_certificate("dinkes-malut", "02", "ee", "2027-01-01T00:00:00Z",
                                     {"01", "dinkes-malut", 4, 1001, "dinkes-malut"})
                .ok());
    CHECK(registry.principal("dinkes-malut")->cert_serial == "02");
    CHECK(registry.principal("dinkes-malut")->removed_at.empty());
    REQUIRE(registry.remove_principal("dinkes-malut", {"02", "dinkes-malut", 5, 1795660000, "admin"}).ok());
    CHECK_FALSE(registry.principal("dinkes-malut")->removed_at.empty());

    CHECK(registry.dataset("dinkes-malut/gizi").error().kind == ErrorKind::not_found);
    REQUIRE(registry.add_dataset({"dinkes-malut/gizi", "dinkes-malut", "rahasia", "Gizi", "admin", {}}).ok());
    CHECK(registry.dataset("dinkes-malut/gizi")->classification == "rahasia");
}

TEST_CASE("a gateway's lock on its database holds across blob directories and belongs to the database's owner") {
    TempDir dir;
    const auto database = dir.path / "serambi.db";
    const auto lock_file = dir.path / "serambi.db.gateway.lock";
    for (const char* blobs : {"blobs", "other-blobs", "third-blobs"}) fs::create_directories(dir.path / blobs);
    { std::ofstream(database) << "a database"; }
    // Run as root (a rotation by sudo), the lock is made for the database's owner, whom the
    // gateway runs as; run as anyone else, the owner is the one running it.
    const bool root = ::geteuid() == 0;
    if (root) REQUIRE(::chown(database.c_str(), 65534, 65534) == 0);
    {
        auto rotation = DeploymentLock::acquire(dir.path / "blobs", database, DeploymentLock::Mode::rotate);
        REQUIRE(rotation.ok());
        struct stat st {};
        REQUIRE(::stat(lock_file.c_str(), &st) == 0);
        CHECK(st.st_uid == (root ? 65534u : ::geteuid()));
        CHECK((st.st_mode & 0777) == 0600);
        auto gateway = DeploymentLock::acquire(dir.path / "other-blobs", database, DeploymentLock::Mode::serve);
        REQUIRE_FALSE(gateway.ok());
        CHECK(gateway.error().kind == ErrorKind::conflict);
        CHECK(gateway.error().message.find("serambi.db.gateway.lock") != std::string::npos);
    }
    {
        auto gateway = DeploymentLock::acquire(dir.path / "blobs", database, DeploymentLock::Mode::serve);
        REQUIRE(gateway.ok());
        auto second = DeploymentLock::acquire(dir.path / "other-blobs", database, DeploymentLock::Mode::serve);
        REQUIRE_FALSE(second.ok());
        CHECK(second.error().kind == ErrorKind::conflict);
        // An inspection beside the gateway is still allowed, from either blob directory.
        CHECK(DeploymentLock::acquire(dir.path / "other-blobs", database, DeploymentLock::Mode::inspect).ok());
    }
    // Released with its holder: the next gateway starts, whichever blob directory it names.
    CHECK(DeploymentLock::acquire(dir.path / "third-blobs", database, DeploymentLock::Mode::serve).ok());
    // No database, no lock file: opening the database then says it is missing, with its remedy.
    const auto missing = dir.path / "gone" / "serambi.db";
    CHECK(DeploymentLock::acquire(dir.path / "third-blobs", missing, DeploymentLock::Mode::serve).ok());
    CHECK_FALSE(fs::exists(dir.path / "gone"));
}
