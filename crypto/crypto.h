// Serambi's cryptographic primitives behind our own interface, so that algorithms can be swapped
// as Peraturan BSSN 11/2024 requires without touching the callers. OpenSSL and libsodium stay
// private to this library.
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

inline ByteView as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Must be called once before any other function here (initialises libsodium).
Status initialise();

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

// Derives an independent key for one purpose from a master key (HKDF-SHA-256, label as info).
SecretKey derive_key(const SecretKey& master, std::string_view label);

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
    Result<std::size_t> open_chunk(std::uint64_t index, bool last, ByteView sealed,
                                   std::span<std::uint8_t> out);

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Wraps a data key under a key-encryption key (AES-256-GCM, random nonce), binding it to
// `associated_data` so that a wrapped key moved to another record does not unwrap.
Bytes wrap_key(const SecretKey& kek, const SecretKey& data_key, ByteView associated_data);
Result<SecretKey> unwrap_key(const SecretKey& kek, ByteView wrapped, ByteView associated_data);

// ---- Transparency log: RFC 6962 / RFC 9162 Merkle trees, C2SP tlog-checkpoint and signed-note.
// Interoperable with the Go ecosystem (golang.org/x/mod/sumdb/note, transparency-dev), so that any
// standard witness or verifier can check what we publish.
namespace tlog {

using Hash = std::array<std::uint8_t, 32>;

Hash leaf_hash(ByteView entry);                       // SHA-256(0x00 || entry)
Hash node_hash(const Hash& left, const Hash& right);  // SHA-256(0x01 || left || right)
Hash empty_root();                                    // SHA-256 of nothing

// The root of a tree grown one leaf at a time: O(log n) memory, for verifying an export.
class TreeBuilder {
public:
    void add(const Hash& leaf);
    std::uint64_t size() const noexcept;
    Hash root() const;  // empty_root() for size 0

private:
    std::vector<Hash> stack_;  // roots of perfect subtrees, largest (leftmost) first
    std::uint64_t size_ = 0;
};

// RFC 9162 section 2.1.3.2 / 2.1.4.2 verification algorithms. False on any malformed input
// (index >= size, wrong proof length, old > new, ...), never throws. A tree of size 0 is consistent
// with any tree, given the empty root and an empty proof.
bool verify_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf,
                      std::span<const Hash> proof, const Hash& root);
bool verify_consistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                        const Hash& new_root, std::span<const Hash> proof);

// C2SP tlog-checkpoint body: "<origin>\n<size decimal>\n<base64 std root>\n". No extension lines
// are written; the parser accepts and ignores non-empty extension lines after the third. Origin:
// non-empty printable ASCII without leading or trailing space; size: decimal without leading zeros
// (except "0") that fits uint64; root: canonical base64 of exactly 32 bytes.
struct Checkpoint {
    std::string origin;
    std::uint64_t size = 0;
    Hash root{};
};
std::string checkpoint_body(const Checkpoint& checkpoint);  // the origin is the caller's to check
Result<Checkpoint> parse_checkpoint_body(std::string_view body);

// C2SP signed-note with an Ed25519 key, key formats as golang.org/x/mod/sumdb/note:
//   signer key   "PRIVATE+KEY+<name>+<hash8hex>+<base64(0x01 || 32-byte seed)>"
//   verifier key "<name>+<hash8hex>+<base64(0x01 || 32-byte public key)>"
//   key hash = first 4 bytes (big-endian, printed %08x) of SHA-256(name || "\n" || 0x01 || key)
//   note = body (ending in "\n") + "\n" + per signature: "— " + name + " " +
//          base64(4-byte key hash || 64-byte Ed25519 signature over the body) + "\n"
// Key names: non-empty printable ASCII without spaces or '+'.
class NoteSigner {
public:
    static Result<NoteSigner> generate(std::string name);          // random seed
    static Result<NoteSigner> from_private(std::string_view text);  // parses the signer key text

    NoteSigner(NoteSigner&&) noexcept = default;
    NoteSigner& operator=(NoteSigner&&) noexcept = default;
    NoteSigner(const NoteSigner&) = delete;
    NoteSigner& operator=(const NoteSigner&) = delete;
    ~NoteSigner() = default;

    const std::string& name() const noexcept;
    std::string private_text() const;  // the signer key text (secret: the caller stores it 0600)
    std::string verifier_key() const;  // the verifier key text
    // The whole signed note. Throws std::invalid_argument if `body` does not end in "\n", since
    // that is a bug in the caller rather than bad input from outside.
    std::string sign(std::string_view body) const;

private:
    struct SecretFree {
        void operator()(std::uint8_t* p) const noexcept;  // sodium_free: wipes, then releases
    };
    NoteSigner() = default;

    std::string name_;
    std::uint32_t key_hash_ = 0;
    std::array<std::uint8_t, 32> public_key_{};
    // libsodium's 64-byte secret key (seed || public key) in guarded, locked memory.
    std::unique_ptr<std::uint8_t, SecretFree> secret_key_;
};

// Checks that `note` carries a valid signature by the key `verifier_key` and returns the body.
// Signature lines by other keys are parsed but not verified; a line by our key that does not
// verify rejects the note (as Go's note.Open does). Malformed notes or keys fail with
// invalid_argument, notes over 1 MiB with too_large, missing or bad signatures with corruption.
Result<std::string> verify_note(std::string_view note, std::string_view verifier_key);

}  // namespace tlog

// ---- age v1 (age-encryption.org/v1) with X25519 recipients: a header of recipient stanzas
// and an HMAC, then a 16-byte nonce and the payload in the STREAM above (ChaCha20-Poly1305,
// 64 KiB chunks, no associated data). Interoperable with the age and rage tools. Streaming both
// ways: memory does not grow with the payload.
namespace age {

using Recipient = std::array<std::uint8_t, 32>;  // an X25519 public key

// "age1…" (Bech32, lowercase) to and from the public key.
Result<Recipient> parse_recipient(std::string_view text);
std::string encode_recipient(const Recipient& recipient);

// An X25519 identity: the secret scalar, held in guarded memory and wiped on destruction.
class Identity {
public:
    static Identity generate();
    // "AGE-SECRET-KEY-1…" (Bech32, all upper or all lower case).
    static Result<Identity> parse(std::string_view text);
    // The identity's text, a secret: store it 0600 and wipe the string after use.
    std::string encode() const;
    const Recipient& recipient() const noexcept { return recipient_; }
    const SecretKey& secret() const noexcept { return secret_; }

private:
    Identity(SecretKey secret, Recipient recipient);
    SecretKey secret_;
    Recipient recipient_{};
};

// Identity files as age-keygen writes them: one identity per line, '#' comments, blank lines,
// CRLF or LF. An error's message starts with the number of the first line that is no identity.
Result<std::vector<Identity>> parse_identity_file(std::string_view text);

// Encrypts one file to one or more recipients. header() is written first, then what update()
// and finish() append. Each call to finish() ends the file; the object is then spent.
class Encryptor {
public:
    static Result<Encryptor> create(std::span<const Recipient> recipients);
    Encryptor(Encryptor&&) noexcept;
    Encryptor& operator=(Encryptor&&) noexcept;
    ~Encryptor();

    const Bytes& header() const noexcept;  // the text header, its HMAC and the payload nonce
    Status update(ByteView plaintext, Bytes& out);
    Status finish(Bytes& out);

private:
    struct State;
    explicit Encryptor(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

// Decrypts a file fed in pieces of any size. Errors say which stage failed, by message prefix
// and kind: "age header: …" (invalid_argument: malformed, unsupported, or an unusable X25519
// share), "age: no identity matches" (not_found), "age header MAC …" (corruption), "age
// payload: …" (corruption). Plaintext is released only chunk by chunk once each authenticates;
// a stream that fails later has released the authenticated part before it.
class Decryptor {
public:
    explicit Decryptor(std::span<const Identity* const> identities);
    Decryptor(Decryptor&&) noexcept;
    Decryptor& operator=(Decryptor&&) noexcept;
    ~Decryptor();

    Status update(ByteView ciphertext, Bytes& plaintext);
    // The end of the input: the last chunk is opened and must be marked last.
    Status finish(Bytes& plaintext);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace age

}  // namespace serambi::crypto
