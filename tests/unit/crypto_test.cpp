#include "crypto/crypto.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <type_traits>

#include "temp_dir.h"

using namespace serambi;
using namespace serambi::crypto;

namespace {

Bytes pattern(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 131 + 7);
    return b;
}

Bytes seal_all(Aead aead, const SecretKey& key, ByteView aad, ByteView plaintext, std::size_t piece) {
    StreamSealer sealer(aead, key, aad);
    Bytes out;
    for (std::size_t at = 0; at < plaintext.size(); at += piece)
        REQUIRE(sealer.update(plaintext.subspan(at, std::min(piece, plaintext.size() - at)), out).ok());
    REQUIRE(sealer.finish(out).ok());
    return out;
}

// Opens a whole sealed stream the way storage does, chunk by chunk.
Result<Bytes> open_all(Aead aead, const SecretKey& key, ByteView aad, ByteView sealed) {
    StreamOpener opener(aead, key, aad);
    Bytes out, chunk(kStreamChunkBytes);
    const std::size_t chunks = (sealed.size() + kSealedChunkBytes - 1) / kSealedChunkBytes;
    for (std::size_t i = 0; i < std::max<std::size_t>(chunks, 1); ++i) {
        const auto piece =
            sealed.subspan(i * kSealedChunkBytes, std::min(kSealedChunkBytes, sealed.size() - i * kSealedChunkBytes));
        auto n = opener.open_chunk(i, i + 1 == chunks, piece, chunk);
        if (!n) return n.error();
        out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    return out;
}

}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-2 known answers") {
    CHECK(to_hex(Sha256::of(as_bytes(""))) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(to_hex(Sha256::of(as_bytes("abc"))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    Sha256 streamed;
    streamed.update(as_bytes("ab"));
    streamed.update(as_bytes("c"));
    CHECK(to_hex(streamed.finish()) == to_hex(Sha256::of(as_bytes("abc"))));
}

TEST_CASE("hex and base64 round-trip and reject malformed text") {
    const Bytes data = pattern(37);
    CHECK(from_hex(to_hex(data)).value() == data);
    CHECK(from_base64(to_base64(data)).value() == data);
    CHECK(to_base64(as_bytes("foobar")) == "Zm9vYmFy");
    CHECK_FALSE(from_hex("abc").ok());
    CHECK_FALSE(from_hex("zz").ok());
    CHECK_FALSE(from_base64("Zm9v!").ok());
}

TEST_CASE("derived keys differ by label and are stable for a master key") {
    auto master = SecretKey::random();
    const auto a1 = derive_key(master, "serambi/a");
    const auto a2 = derive_key(master, "serambi/a");
    const auto b = derive_key(master, "serambi/b");
    CHECK(equal_constant_time(a1.bytes(), a2.bytes()));
    CHECK_FALSE(equal_constant_time(a1.bytes(), b.bytes()));
}

TEST_CASE("STREAM sealing round-trips every size around chunk boundaries, for both AEADs") {
    auto aead = GENERATE(Aead::aes_256_gcm, Aead::chacha20_poly1305);
    auto size = GENERATE(std::size_t{1}, kStreamChunkBytes - 1, kStreamChunkBytes, kStreamChunkBytes + 1,
                         3 * kStreamChunkBytes, 3 * kStreamChunkBytes + 17);
    auto key = SecretKey::random();
    const Bytes plain = pattern(size);
    const Bytes sealed = seal_all(aead, key, as_bytes("ctx"), plain, 10000);
    CHECK(sealed.size() == sealed_size(size));
    CHECK(open_all(aead, key, as_bytes("ctx"), sealed).value() == plain);
}

TEST_CASE("an empty payload seals to one authenticated empty chunk") {
    auto key = SecretKey::random();
    const Bytes sealed = seal_all(Aead::aes_256_gcm, key, as_bytes("ctx"), {}, 1);
    CHECK(sealed.size() == kStreamTagBytes);
    CHECK(open_all(Aead::aes_256_gcm, key, as_bytes("ctx"), sealed).value().empty());
}

TEST_CASE("STREAM detects tampering, truncation, reordering and splicing") {
    auto key = SecretKey::random();
    const Bytes plain = pattern(3 * kStreamChunkBytes + 5);
    const Bytes sealed = seal_all(Aead::aes_256_gcm, key, as_bytes("pkg-1"), plain, kStreamChunkBytes);

    SECTION("a flipped bit") {
        Bytes t = sealed;
        t[kSealedChunkBytes + 10] ^= 1;
        CHECK(open_all(Aead::aes_256_gcm, key, as_bytes("pkg-1"), t).error().kind == ErrorKind::corruption);
    }
    SECTION("truncation at a chunk boundary") {
        const Bytes t(sealed.begin(), sealed.begin() + 2 * kSealedChunkBytes);
        CHECK_FALSE(open_all(Aead::aes_256_gcm, key, as_bytes("pkg-1"), t).ok());
    }
    SECTION("two chunks swapped") {
        Bytes t = sealed;
        std::swap_ranges(t.begin(), t.begin() + kSealedChunkBytes, t.begin() + kSealedChunkBytes);
        CHECK_FALSE(open_all(Aead::aes_256_gcm, key, as_bytes("pkg-1"), t).ok());
    }
    SECTION("a blob moved to another package") {
        CHECK_FALSE(open_all(Aead::aes_256_gcm, key, as_bytes("pkg-2"), sealed).ok());
    }
    SECTION("the wrong key") {
        auto other = SecretKey::random();
        CHECK_FALSE(open_all(Aead::aes_256_gcm, other, as_bytes("pkg-1"), sealed).ok());
    }
    SECTION("the wrong algorithm") {
        CHECK_FALSE(open_all(Aead::chacha20_poly1305, key, as_bytes("pkg-1"), sealed).ok());
    }
}

TEST_CASE("a wrapped data key unwraps only with its key-encryption key and context") {
    auto kek = SecretKey::random();
    auto dek = SecretKey::random();
    const Bytes wrapped = wrap_key(kek, dek, as_bytes("serambi/blob/v1/a"));
    auto back = unwrap_key(kek, wrapped, as_bytes("serambi/blob/v1/a"));
    REQUIRE(back.ok());
    CHECK(equal_constant_time(back->bytes(), dek.bytes()));
    CHECK_FALSE(unwrap_key(kek, wrapped, as_bytes("serambi/blob/v1/b")).ok());
    auto other = SecretKey::random();
    CHECK_FALSE(unwrap_key(other, wrapped, as_bytes("serambi/blob/v1/a")).ok());
    Bytes tampered = wrapped;
    tampered.back() ^= 0x80;
    CHECK_FALSE(unwrap_key(kek, tampered, as_bytes("serambi/blob/v1/a")).ok());
    CHECK_FALSE(unwrap_key(kek, Bytes(10), as_bytes("serambi/blob/v1/a")).ok());
}

TEST_CASE("a secret file is read whole into guarded memory, and only a regular file of bounded size") {
    TempDir dir;
    const auto key = dir.path / "client.key";
    const std::string text =
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
    std::ofstream(key, std::ios::binary) << text;
    auto read = read_secret_file(key, 1 << 16);
    REQUIRE(read.ok());
    CHECK(read->view() == text);
    CHECK(read->size() == text.size());

    CHECK(read_secret_file(key, text.size()).ok());  // the limit is inclusive
    auto big = read_secret_file(key, text.size() - 1);
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().kind == ErrorKind::too_large);
    auto missing = read_secret_file(dir.path / "absent.key", 1 << 16);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().kind == ErrorKind::not_found);
    // A directory, a FIFO or a device has no size to trust and could feed bytes without end.
    CHECK(read_secret_file(dir.path, 1 << 16).error().kind == ErrorKind::invalid_argument);
    REQUIRE(::mkfifo((dir.path / "fifo").c_str(), 0600) == 0);
    CHECK(read_secret_file(dir.path / "fifo", 1 << 16).error().kind == ErrorKind::invalid_argument);
    CHECK(read_secret_file("/dev/zero", 1 << 16).error().kind == ErrorKind::invalid_argument);

    std::ofstream(dir.path / "empty.key", std::ios::binary).flush();
    auto empty = read_secret_file(dir.path / "empty.key", 16);
    REQUIRE(empty.ok());
    CHECK(empty->empty());
    CHECK(empty->view().empty());
}

TEST_CASE("a secret buffer is move-only, wipes what it drops, and takes over a string by wiping it") {
    static_assert(!std::is_copy_constructible_v<SecretBuffer>);
    static_assert(!std::is_copy_assignable_v<SecretBuffer>);
    auto secret = SecretBuffer::copy_of("AGE-SECRET-KEY-1\n");
    const std::uint8_t* at = secret.bytes().data();
    secret.shrink(secret.size() - 1);
    CHECK(secret.view() == "AGE-SECRET-KEY-1");
    CHECK(at[secret.size()] == 0);  // the dropped newline is gone from memory, not only from view()
    secret.shrink(100);             // never grows
    CHECK(secret.size() == 16);

    auto copy = secret.copy();
    auto moved = std::move(secret);
    CHECK(moved.view() == "AGE-SECRET-KEY-1");
    CHECK(secret.empty());  // NOLINT(bugprone-use-after-move): a moved-from buffer holds nothing
    CHECK(copy.view() == moved.view());
    CHECK(copy.bytes().data() != moved.bytes().data());

    std::string text = "PRIVATE+KEY+serambi.local/x+01234567+AAAA";
    const SecretBuffer taken(std::move(text));
    CHECK(taken.view() == "PRIVATE+KEY+serambi.local/x+01234567+AAAA");
    CHECK(text.empty());  // NOLINT(bugprone-use-after-move): wiped and cleared, by contract
}

TEST_CASE("a key the gateway holds must be readable by its owner only, checked on the descriptor it reads") {
    TempDir dir;
    const auto key = dir.path / "gateway.key";
    std::ofstream(key, std::ios::binary) << "secret\n";
    namespace fs = std::filesystem;
    for (const auto mode : {fs::perms::owner_read | fs::perms::owner_write, fs::perms::owner_read}) {
        fs::permissions(key, mode);
        CHECK(read_private_key_file(key, 1 << 10).ok());
    }
    for (const auto loose :
         {fs::perms::group_read, fs::perms::others_read, fs::perms::group_write, fs::perms::others_exec}) {
        fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write | loose);
        auto refused = read_private_key_file(key, 1 << 10);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().kind == ErrorKind::permission_denied);
        CHECK_THAT(refused.error().message, Catch::Contains("run: chmod 600 " + key.string()));
        CHECK(read_secret_file(key, 1 << 10).ok());  // an identity the user reads is not held to it
    }
    // A symlink is followed to the file it names, and that file is judged.
    fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
    fs::create_symlink(key, dir.path / "link.key");
    CHECK(read_private_key_file(dir.path / "link.key", 1 << 10).error().kind == ErrorKind::permission_denied);
}
