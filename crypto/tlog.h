// Transparency log: RFC 6962 / RFC 9162 Merkle trees, C2SP tlog-checkpoint and signed-note.
// Interoperable with the Go ecosystem (golang.org/x/mod/sumdb/note, transparency-dev), so that any
// standard witness or verifier can check what we publish.
#pragma once

#include <optional>

#include "crypto/crypto.h"

namespace serambi::crypto {

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
bool verify_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf, std::span<const Hash> proof,
                      const Hash& root);
bool verify_consistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root, const Hash& new_root,
                        std::span<const Hash> proof);

// C2SP tlog-checkpoint body: "<origin>\n<size decimal>\n<base64 std root>\n". No extension lines
// are written; the parser accepts and ignores non-empty extension lines after the third. Origin:
// non-empty printable ASCII without leading or trailing space; size: decimal without leading zeros
// (except "0") that fits uint64; root: canonical base64 of exactly 32 bytes.
struct Checkpoint {
    std::string origin;
    std::uint64_t size = 0;
    Hash root{};
};
// A decimal as the C2SP formats spell numbers: digits only, no leading zero (except "0"), at
// most 2^64 - 1.
std::optional<std::uint64_t> parse_decimal(std::string_view text);
std::string checkpoint_body(const Checkpoint& checkpoint);  // the origin is the caller's to check
Result<Checkpoint> parse_checkpoint_body(std::string_view body);

// C2SP signed-note with an Ed25519 key, key formats as golang.org/x/mod/sumdb/note:
//   signer key   "PRIVATE+KEY+<name>+<hash8hex>+<base64(0x01 || 32-byte seed)>"
//   verifier key "<name>+<hash8hex>+<base64(0x01 || 32-byte public key)>"
//   key hash = first 4 bytes (big-endian, printed %08x) of SHA-256(name || "\n" || 0x01 || key)
//   note = body (ending in "\n") + "\n" + per signature: "— " + name + " " +
//          base64(4-byte key hash || 64-byte Ed25519 signature over the body) + "\n"
// Key names: non-empty printable ASCII without spaces or '+'.
//
// A key of type `cosignature` (0x04 in the key hash and the key texts) is a witness's: it makes
// C2SP tlog-cosignature lines and nothing else, so that the two uses never share a key.
enum class KeyType : std::uint8_t { note = 0x01, cosignature = 0x04 };

class NoteSigner {
  public:
    static Result<NoteSigner> generate(std::string name, KeyType type = KeyType::note);  // random seed
    static Result<NoteSigner> from_private(std::string_view text);                       // parses the signer key text

    NoteSigner(NoteSigner&&) noexcept = default;
    NoteSigner& operator=(NoteSigner&&) noexcept = default;
    NoteSigner(const NoteSigner&) = delete;
    NoteSigner& operator=(const NoteSigner&) = delete;
    ~NoteSigner() = default;

    const std::string& name() const noexcept;
    KeyType type() const noexcept;
    std::string private_text() const;  // the signer key text (secret: the caller stores it 0600)
    std::string verifier_key() const;  // the verifier key text
    // The whole signed note. Throws std::invalid_argument if `body` does not end in "\n", since
    // that is a bug in the caller rather than bad input from outside.
    std::string sign(std::string_view body) const;
    // A cosigner key's C2SP cosignature/v1 line ("— name base64(key hash || time || signature)\n")
    // over "cosignature/v1\ntime <time>\n" + body. `time` is POSIX seconds, 0 < time < 2^63.
    std::string cosign(std::string_view checkpoint_body, std::uint64_t time) const;

  private:
    struct SecretFree {
        void operator()(std::uint8_t* p) const noexcept;  // sodium_free: wipes, then releases
    };
    NoteSigner() = default;

    std::string name_;
    KeyType type_ = KeyType::note;
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

// The exact bytes an Ed25519 cosignature/v1 signs.
std::string cosigned_message(std::string_view checkpoint_body, std::uint64_t time);
// The time of the newest valid cosignature in `note` by the witness key (a vkey of type 0x04).
// not_found: no line by that key; corruption: a line by that key that does not verify;
// invalid_argument: a malformed key or note.
Result<std::uint64_t> verify_cosignature(std::string_view note, std::string_view witness_key);
// How many of the distinct `witness_keys` validly cosigned `note`; an error only for malformed
// keys or notes.
Result<std::size_t> count_cosignatures(std::string_view note, std::span<const std::string> witness_keys);
// The name in a well-formed verifier key of that type (a log's or a witness's), or empty.
std::string verifier_key_name(std::string_view verifier_key, KeyType type);

// C2SP tlog-proof: "c2sp.org/tlog-proof@v1\n", an optional "extra <base64>\n" line (here: the
// access-log entry itself, so that the proof alone is enough to check), "index <n>\n", the
// inclusion proof's hashes one per line, a blank line, and the checkpoint verbatim.
struct Proof {
    std::string extra;  // not authenticated by itself: the inclusion proof binds it to the tree
    std::uint64_t index = 0;
    std::vector<Hash> hashes;
    std::string checkpoint;  // the signed note, cosignatures included
};
std::string format_proof(const Proof& proof);
Result<Proof> parse_proof(std::string_view text);

}  // namespace tlog

}  // namespace serambi::crypto
