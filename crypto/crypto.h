// Serambi's cryptographic primitives (keys, hashes, AEAD streams, encodings) behind our own
// interface, so that algorithms can be swapped as Peraturan BSSN 11/2024 requires without touching
// the callers; the transparency log is in crypto/tlog.h and age in crypto/age.h. OpenSSL and
// libsodium stay private to this library.
//
// Thread safety: free functions are safe to call concurrently; objects are not shared between
// threads without outside locking.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace serambi::crypto {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// Must be called once before any other function here (initialises libsodium).
Status initialise();
// The cryptographic libraries in use, as they name themselves: "OpenSSL 3.0.…, libsodium 1.0.…".
std::string library_versions();

// 256-bit symmetric key held in guarded, locked memory, wiped on destruction. Move-only so that a
// key is never copied by accident; it has no operator<< and no way to print it.
class SecretKey {
  public:
    static constexpr std::size_t kBytes = 32;

    static SecretKey random();
    static Result<SecretKey> from_bytes(ByteView bytes);

    SecretKey(SecretKey&& other) noexcept;
    SecretKey& operator=(SecretKey&& other) noexcept;
    SecretKey(const SecretKey&) = delete;
    SecretKey& operator=(const SecretKey&) = delete;
    ~SecretKey();

    ByteView bytes() const noexcept { return {data_, kBytes}; }

  private:
    SecretKey();
    std::uint8_t* data_ = nullptr;
};

// Secret bytes of any length (a private key's PEM, an identity or log key file) held like a
// SecretKey: guarded, locked memory that core dumps leave out, wiped on destruction. Move-only;
// copy() is the one deliberate way to duplicate it. It reads as a string_view so that PEM
// parsers take it in place, and has no operator<<.
class SecretBuffer {
  public:
    SecretBuffer() noexcept = default;
    // `size` zero bytes. Throws std::bad_alloc if the memory cannot be had.
    explicit SecretBuffer(std::size_t size);
    static SecretBuffer copy_of(std::string_view text);
    // Takes over a secret that arrived in a string: copied in, then the string is wiped. For
    // interfaces that still produce strings; new code reads into a SecretBuffer directly.
    SecretBuffer(std::string&& text);  // NOLINT(google-explicit-constructor)

    SecretBuffer(SecretBuffer&& other) noexcept;
    SecretBuffer& operator=(SecretBuffer&& other) noexcept;
    SecretBuffer(const SecretBuffer&) = delete;
    SecretBuffer& operator=(const SecretBuffer&) = delete;
    ~SecretBuffer();

    SecretBuffer copy() const;
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::span<std::uint8_t> bytes() noexcept { return {data_, size_}; }
    ByteView bytes() const noexcept { return {data_, size_}; }
    std::string_view view() const noexcept {
        return size_ == 0 ? std::string_view() : std::string_view(reinterpret_cast<const char*>(data_), size_);
    }
    operator std::string_view() const noexcept { return view(); }  // NOLINT(google-explicit-constructor)
    // Drops trailing bytes (a newline, say), wiping them; never grows.
    void shrink(std::size_t size) noexcept;

  private:
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

// Reads a secret file (a private key, an age identity, the log key) straight into a
// SecretBuffer: sized from fstat, read in place, with no other buffer holding any of it. Only
// regular files, at most `limit` bytes; a file that grows while it is read is refused.
Result<SecretBuffer> read_secret_file(const std::filesystem::path& path, std::size_t limit);

// The same for a key the gateway holds (its CA, TLS, signing, access-log and master keys), which
// must also be private, as seen on the descriptor that is read: owned by the user the process
// runs as (any owner when that is root), and readable by no one else (mode 0600 or stricter). permission_denied
// otherwise, with the command that fixes it.
Result<SecretBuffer> read_private_key_file(const std::filesystem::path& path, std::size_t limit);

// HKDF-SHA-256 (RFC 5869); an empty salt is HKDF's default.
void hkdf_sha256(ByteView ikm, ByteView salt, std::string_view info, std::span<std::uint8_t> out);
// Derives an independent key for one purpose from a master key (HKDF-SHA-256, label as info).
SecretKey derive_key(const SecretKey& master, std::string_view label);

// HMAC-SHA-256 (RFC 2104) of `message` under `key`.
std::array<std::uint8_t, 32> hmac_sha256(ByteView key, std::string_view message);

void random_bytes(std::span<std::uint8_t> out);
std::string random_hex(std::size_t bytes);

std::string to_hex(ByteView bytes);
Result<Bytes> from_hex(std::string_view hex);
std::string to_base64(ByteView bytes);
Result<Bytes> from_base64(std::string_view text);

// Constant-time comparison of equal-length secrets or MACs.
bool equal_constant_time(ByteView a, ByteView b) noexcept;

// Overwrites memory in a way the compiler cannot remove.
void wipe(std::span<std::uint8_t> bytes) noexcept;
void wipe(std::string& text) noexcept;

// SHA-256, streaming. update() any number of times, then finish() once.
class Sha256 {
  public:
    using Digest = std::array<std::uint8_t, 32>;
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    void update(ByteView data);
    Digest finish();
    static Digest of(ByteView data);

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// Authenticated encryption used at rest. The identifier is stored with every sealed blob so that
// old blobs stay readable after the default changes.
enum class Aead : std::uint8_t { aes_256_gcm = 1, chacha20_poly1305 = 2 };
Result<Aead> aead_from_name(std::string_view name);
const char* aead_name(Aead aead) noexcept;

// The STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015) as age uses it: the payload is
// cut into fixed-size chunks, chunk i is sealed under nonce = i (88-bit big-endian) ‖ last-flag, and
// the same associated data binds every chunk to its context. Truncation, reordering and splicing
// between streams therefore fail authentication. Only the final chunk may be short, and only an
// empty payload has an empty final chunk.
inline constexpr std::size_t kStreamChunkBytes = 64 * 1024;
inline constexpr std::size_t kStreamTagBytes = 16;
inline constexpr std::size_t kSealedChunkBytes = kStreamChunkBytes + kStreamTagBytes;

// Size of the sealed stream for a payload of `plaintext_size` bytes.
std::uint64_t sealed_size(std::uint64_t plaintext_size) noexcept;

class StreamSealer {
  public:
    StreamSealer(Aead aead, const SecretKey& key, ByteView associated_data);
    ~StreamSealer();
    StreamSealer(const StreamSealer&) = delete;
    StreamSealer& operator=(const StreamSealer&) = delete;

    // Appends every chunk that is now known not to be the last one to `out`.
    Status update(ByteView plaintext, Bytes& out);
    // Seals what remains as the final chunk and appends it to `out`. Call exactly once.
    Status finish(Bytes& out);
    // Makes the first chunk sealed the one at `index`, so that a range of a stream can be sealed
    // again without the chunks before it (the key and input must be the stream's own). Only
    // before any input.
    Status start_at(std::uint64_t index);

    // The same into caller-owned memory (e.g. an aligned buffer for direct I/O): `out` must hold
    // max_update_output(plaintext.size()) bytes, or kSealedChunkBytes for finish(). Both return
    // the number of bytes written.
    std::size_t max_update_output(std::size_t plaintext_size) const noexcept;
    Result<std::size_t> update(ByteView plaintext, std::span<std::uint8_t> out);
    Result<std::size_t> finish(std::span<std::uint8_t> out);

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// Opens sealed chunks in any order, so that a ranged read starts at the chunk it needs.
class StreamOpener {
  public:
    StreamOpener(Aead aead, const SecretKey& key, ByteView associated_data);
    ~StreamOpener();
    StreamOpener(const StreamOpener&) = delete;
    StreamOpener& operator=(const StreamOpener&) = delete;

    // Opens chunk `index`; `last` says whether the caller expects it to be the final chunk.
    // Writes the plaintext to `out` (at least kStreamChunkBytes) and returns its length. Fails with
    // ErrorKind::corruption, saying nothing about why, if the chunk does not authenticate.
    Result<std::size_t> open_chunk(std::uint64_t index, bool last, ByteView sealed, std::span<std::uint8_t> out);

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// Wraps a data key under a key-encryption key (AES-256-GCM, random nonce), binding it to
// `associated_data` so that a wrapped key moved to another record does not unwrap.
Bytes wrap_key(const SecretKey& kek, const SecretKey& data_key, ByteView associated_data);
Result<SecretKey> unwrap_key(const SecretKey& kek, ByteView wrapped, ByteView associated_data);

}  // namespace serambi::crypto
