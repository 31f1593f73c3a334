// Resumable uploads in the store: what survives between requests and across a restart, what a
// torn or tampered part file gives back, and that a finished upload is a package like any push.
#include <catch2/catch.hpp>
#include <fstream>

#include "storage/store.h"
#include "temp_dir.h"

using namespace serambi;
using namespace serambi::storage;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kChunk = crypto::kStreamChunkBytes;

struct Fixture {
    TempDir dir;
    crypto::SecretKey master = crypto::SecretKey::random();
    std::unique_ptr<Store> store;
    Fixture() { reopen(); }
    void reopen() {
        store.reset();
        auto opened =
            Store::open({dir.path / "serambi.db", dir.path / "blobs", crypto::Aead::aes_256_gcm, true}, master);
        REQUIRE(opened.ok());
        store = std::move(opened).value();
        if (!store->registry().principal("dinkes-malut").ok()) {
            REQUIRE(store->registry()
                        .add_principal({"dinkes-malut", "Dinas Kesehatan", {"producer"}, "01", "ff", {}, {}, {}, {}})
                        .ok());
            Dataset d;
            d.id = "dinkes-malut/imunisasi";
            d.owner = "dinkes-malut";
            d.classification = "terbatas";
            d.title = "Imunisasi";
            d.created_by = "admin";
            REQUIRE(store->registry().add_dataset(d).ok());
        }
    }
    Packages& packages() { return store->packages(); }
    fs::path uploads() const { return dir.path / "blobs" / "uploads"; }
    std::vector<std::string> part_files() const {
        std::vector<std::string> out;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(uploads(), ec)) out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }
};

PackageDraft draft() {
    return {"dinkes-malut/imunisasi", "dinkes-malut", "terbatas", "besar.bin", "application/octet-stream", {}, {}};
}

std::string varied(std::size_t n, std::uint32_t seed = 2463534242u) {
    std::string s(n, '\0');
    for (auto& c : s) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        c = static_cast<char>(seed);
    }
    return s;
}

std::string read_package(Packages& packages, const std::string& id) {
    auto reader = packages.open_package(id);
    REQUIRE(reader.ok());
    std::string out;
    std::vector<std::uint8_t> buf(100000);
    for (;;) {
        auto n = (*reader)->read(buf);
        REQUIRE(n.ok());
        if (*n == 0) break;
        out.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    return out;
}

// Writes [from, to) of `body`, then lets the writer go as a request that ends would.
void append(std::unique_ptr<UploadWriter> writer, const std::string& body, std::size_t from, std::size_t to) {
    REQUIRE(writer->size() == from);
    REQUIRE(writer->write(crypto::as_bytes(std::string_view(body).substr(from, to - from))).ok());
    REQUIRE(writer->sync().ok());
}

}  // namespace

TEST_CASE("an upload resumes after a restart from its last whole sealed chunk, under a new key") {
    Fixture f;
    const auto body = varied(5 * kChunk + 1234);
    auto begun = f.packages().begin_upload(draft(), body.size(), 4102444800);
    REQUIRE(begun.ok());
    const auto id = (*begun)->record().id;
    CHECK(f.part_files() == std::vector<std::string>{id + ".0.part"});
    append(std::move(begun).value(), body, 0, 3 * kChunk + 100);

    f.reopen();  // a restart: nothing of the writer is left but its file
    auto resumed = f.packages().resume_upload(id);
    REQUIRE(resumed.ok());
    // Chunks 0-2 were sealed on disk; the 100 bytes after them were in memory only.
    CHECK((*resumed)->size() == 3 * kChunk);
    CHECK(f.part_files() == std::vector<std::string>{id + ".1.part"});
    append(std::move(resumed).value(), body, 3 * kChunk, body.size() - 10);

    auto again = f.packages().resume_upload(id);  // a failed request: resumed from disk again
    REQUIRE(again.ok());
    CHECK((*again)->size() == 5 * kChunk);  // the last, short chunk is never on disk before the end
    REQUIRE((*again)->write(crypto::as_bytes(std::string_view(body).substr(5 * kChunk))).ok());
    auto sealed = (*again)->finish();
    REQUIRE(sealed.ok());
    CHECK(sealed->sha256_hex == crypto::to_hex(crypto::Sha256::of(crypto::as_bytes(body))));
    auto record = (*again)->commit("{\"manifest\":1}", crypto::Bytes{1, 2, 3}, "{\"action\":\"package.push\"}");
    REQUIRE(record.ok());
    CHECK(read_package(f.packages(), record->id) == body);
    auto done = f.packages().upload(id);
    REQUIRE(done.ok());
    CHECK(done->complete);
    CHECK(done->package_id == record->id);
    CHECK(done->audit_index == record->audit_index);
    CHECK(f.part_files().empty());
    CHECK(f.packages().resume_upload(id).error().kind == ErrorKind::conflict);
    CHECK(f.packages().open_uploads("dinkes-malut")->empty());
}

TEST_CASE("a torn or tampered part file resumes at the first chunk that does not authenticate") {
    Fixture f;
    const auto body = varied(6 * kChunk);
    auto begun = f.packages().begin_upload(draft(), body.size(), 4102444800);
    REQUIRE(begun.ok());
    const auto id = (*begun)->record().id;
    append(std::move(begun).value(), body, 0, 5 * kChunk + 1);  // chunks 0-4 sealed
    const auto sealed_chunk = crypto::kSealedChunkBytes;

    SECTION("torn in the middle of chunk 3") {
        fs::resize_file(f.uploads() / (id + ".0.part"), 3 * sealed_chunk + 500);
        auto resumed = f.packages().resume_upload(id);
        REQUIRE(resumed.ok());
        CHECK((*resumed)->size() == 3 * kChunk);
    }
    SECTION("a byte of chunk 1 flipped") {
        std::fstream part(f.uploads() / (id + ".0.part"), std::ios::in | std::ios::out | std::ios::binary);
        part.seekp(static_cast<std::streamoff>(sealed_chunk + 10));
        part.put('\x5a');
        part.close();
        auto resumed = f.packages().resume_upload(id);
        REQUIRE(resumed.ok());
        CHECK((*resumed)->size() == kChunk);
        // What follows is taken again and the package comes out whole.
        REQUIRE((*resumed)->write(crypto::as_bytes(std::string_view(body).substr(kChunk))).ok());
        REQUIRE((*resumed)->finish().ok());
        auto record = (*resumed)->commit("{}", crypto::Bytes{1}, "{\"action\":\"package.push\"}");
        REQUIRE(record.ok());
        CHECK(read_package(f.packages(), record->id) == body);
    }
    SECTION("the part file gone") {
        fs::remove(f.uploads() / (id + ".0.part"));
        auto resumed = f.packages().resume_upload(id);
        REQUIRE(resumed.ok());
        CHECK((*resumed)->size() == 0);
    }
}

TEST_CASE("an upload takes no byte beyond its declared length, and stays usable") {
    Fixture f;
    auto writer = f.packages().begin_upload(draft(), 10, 4102444800);
    REQUIRE(writer.ok());
    auto refused = (*writer)->write(crypto::as_bytes(std::string("01234567890")));
    CHECK(refused.error().kind == ErrorKind::invalid_argument);
    CHECK((*writer)->size() == 0);
    REQUIRE((*writer)->write(crypto::as_bytes(std::string("0123456789"))).ok());
    CHECK((*writer)->finish().ok());
    CHECK(f.packages().begin_upload(draft(), 0, 4102444800).error().kind == ErrorKind::invalid_argument);
}

TEST_CASE("a finished upload whose commit never happened goes back to being resumable") {
    Fixture f;
    const auto body = varied(2 * kChunk + 7);
    auto writer = f.packages().begin_upload(draft(), body.size(), 4102444800);
    REQUIRE(writer.ok());
    const auto id = (*writer)->record().id;
    REQUIRE((*writer)->write(crypto::as_bytes(body)).ok());
    REQUIRE((*writer)->finish().ok());
    writer->reset();  // the request failed between the blob and the row
    auto resumed = f.packages().resume_upload(id);
    REQUIRE(resumed.ok());
    // The final chunk was sealed as the last one: it does not authenticate as an inner one.
    CHECK((*resumed)->size() == 2 * kChunk);
    CHECK(f.packages().packages_in("dinkes-malut/imunisasi")->empty());
}

TEST_CASE("expired uploads are found, and removing one removes its files") {
    Fixture f;
    auto old = f.packages().begin_upload(draft(), 100, 1000);
    auto fresh = f.packages().begin_upload(draft(), 100, 4102444800);
    REQUIRE(old.ok());
    REQUIRE(fresh.ok());
    const auto old_id = (*old)->record().id;
    old->reset();
    auto expired = f.packages().expired_uploads(2000);
    REQUIRE(expired.ok());
    REQUIRE(expired->size() == 1);
    CHECK(expired->front().id == old_id);
    auto removed = f.packages().remove_upload(old_id, "{\"action\":\"upload.expire\"}");
    REQUIRE(removed.ok());
    CHECK(removed->has_value());
    CHECK(f.part_files() == std::vector<std::string>{(*fresh)->record().id + ".0.part"});
    CHECK(f.packages().upload(old_id).error().kind == ErrorKind::not_found);
    CHECK(f.packages().remove_upload(old_id).error().kind == ErrorKind::not_found);
}

TEST_CASE("start-up recovery keeps open uploads' part files and removes stray ones") {
    Fixture f;
    auto writer = f.packages().begin_upload(draft(), 100, 4102444800);
    REQUIRE(writer.ok());
    const auto id = (*writer)->record().id;
    writer->reset();
    std::ofstream(f.uploads() / (id + ".7.part")) << "an earlier epoch";
    std::ofstream(f.uploads() / "0123456789abcdef0123456789abcdef.0.part") << "a removed upload";
    REQUIRE(f.packages().recover().ok());
    CHECK(f.part_files() == std::vector<std::string>{id + ".0.part"});
}

TEST_CASE("a push's Idempotency-Key is kept with its package, once") {
    Fixture f;
    auto keyed = draft();
    keyed.idempotency_key = "retry-1";
    auto push = [&]() -> Result<PackageRecord> {
        auto writer = f.packages().begin_package(keyed);
        REQUIRE(writer.ok());
        REQUIRE((*writer)->write(crypto::as_bytes(std::string("abc"))).ok());
        REQUIRE((*writer)->finish().ok());
        return (*writer)->commit("{}", crypto::Bytes{1}, "{\"action\":\"package.push\"}");
    };
    CHECK(f.packages().pushed_with_key("dinkes-malut", "retry-1")->has_value() == false);
    auto first = push();
    REQUIRE(first.ok());
    auto found = f.packages().pushed_with_key("dinkes-malut", "retry-1");
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->package_id == first->id);
    CHECK((*found)->audit_index == first->audit_index);
    // Two retries racing past the lookup: the second commit is refused, and stores nothing.
    auto second = push();
    CHECK(second.error().kind == ErrorKind::conflict);
    CHECK(f.packages().packages_in("dinkes-malut/imunisasi")->size() == 1);
    CHECK(f.packages().pushed_with_key("someone-else", "retry-1")->has_value() == false);
}
