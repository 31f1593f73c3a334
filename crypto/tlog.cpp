// Transparency-log primitives: RFC 6962 / RFC 9162 Merkle tree hashing and proof verification,
// C2SP tlog-checkpoint bodies and C2SP signed-notes with Ed25519 keys.
#include "crypto/tlog.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>

namespace serambi::crypto::tlog {

namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kNodePrefix = 0x01;
constexpr std::size_t kMaxNoteBytes = 1024 * 1024;
constexpr std::size_t kMaxSignatureLines = 100;
constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, then a space
constexpr std::string_view kPrivatePrefix = "PRIVATE+KEY+";

static_assert(crypto_sign_PUBLICKEYBYTES == 32 && crypto_sign_SEEDBYTES == 32 && crypto_sign_SECRETKEYBYTES == 64 &&
              crypto_sign_BYTES == 64);

Hash to_hash(const Sha256::Digest& digest) {
    Hash h;
    std::copy(digest.begin(), digest.end(), h.begin());
    return h;
}

// ---- Merkle tree

// Right-shifts both until the low bit of `fn` is set or `fn` is zero (RFC 9162 2.1.3.2 step 3.b).
void shift_while_even(std::uint64_t& fn, std::uint64_t& sn) {
    while (fn != 0 && (fn & 1U) == 0) {
        fn >>= 1;
        sn >>= 1;
    }
}

// ---- Text parsing

// Splits at the first `sep`; without one, everything is `before`.
std::pair<std::string_view, std::string_view> chop(std::string_view s, char sep) {
    const auto at = s.find(sep);
    if (at == std::string_view::npos) return {s, {}};
    return {s.substr(0, at), s.substr(at + 1)};
}

bool valid_key_name(std::string_view name) {
    return !name.empty() &&
           std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7F && c != '+'; });
}

// Exactly eight hexadecimal digits (either case, as Go's strconv.ParseUint accepts).
bool parse_key_hash(std::string_view text, std::uint32_t& out) {
    if (text.size() != 8) return false;
    std::uint32_t value = 0;
    for (const char c : text) {
        std::uint32_t digit = 0;
        if (c >= '0' && c <= '9')
            digit = static_cast<std::uint32_t>(c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = static_cast<std::uint32_t>(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            digit = static_cast<std::uint32_t>(c - 'A' + 10);
        else
            return false;
        value = (value << 4) | digit;
    }
    out = value;
    return true;
}

std::string key_hash_text(std::uint32_t hash) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(hash));
    return std::string(buf, 8);
}

// The key hash binds the name to the key and its use: SHA-256(name || "\n" || type || public
// key)[0:4], type 0x01 for note signatures and 0x04 for cosignatures.
std::uint32_t compute_key_hash(std::string_view name, const std::array<std::uint8_t, 32>& public_key,
                               KeyType type = KeyType::note) {
    Sha256 h;
    h.update(as_bytes(name));
    h.update(as_bytes("\n"));
    const auto alg = static_cast<std::uint8_t>(type);
    h.update(ByteView(&alg, 1));
    h.update(public_key);
    const auto digest = h.finish();
    return (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) | (std::uint32_t{digest[2]} << 8) |
           std::uint32_t{digest[3]};
}

// Base64 that decodes and re-encodes to the same text, so that one value has one spelling.
Result<Bytes> from_canonical_base64(std::string_view text) {
    auto bytes = from_base64(text);
    if (!bytes) return bytes.error();
    if (to_base64(*bytes) != text) {
        wipe(*bytes);
        return make_error(ErrorKind::invalid_argument, "base64 is not in canonical form");
    }
    return bytes;
}

struct VerifierKey {
    std::string_view name;
    std::uint32_t hash = 0;
    std::array<std::uint8_t, 32> public_key{};
};

Result<VerifierKey> parse_verifier_key(std::string_view text, KeyType type = KeyType::note) {
    const auto bad = make_error(ErrorKind::invalid_argument, "malformed verifier key");
    VerifierKey key;
    auto [name, rest] = chop(text, '+');
    auto [hash_text, key_text] = chop(rest, '+');
    if (!valid_key_name(name) || !parse_key_hash(hash_text, key.hash)) return bad;
    auto raw = from_canonical_base64(key_text);
    if (!raw || raw->size() != 1 + key.public_key.size() || (*raw)[0] != static_cast<std::uint8_t>(type)) return bad;
    std::copy(raw->begin() + 1, raw->end(), key.public_key.begin());
    if (compute_key_hash(name, key.public_key, type) != key.hash)
        return make_error(ErrorKind::invalid_argument, "verifier key hash does not match its key");
    key.name = name;
    return key;
}

// Signed notes are UTF-8 without ASCII control characters other than newline (C2SP signed-note).
bool valid_note_text(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
        const unsigned c = *p;
        if (c < 0x80) {
            if (c < 0x20 && c != '\n') return false;
            ++p;
            continue;
        }
        std::size_t extra = 0;
        std::uint32_t cp = 0, min = 0;
        if ((c & 0xE0U) == 0xC0U) {
            extra = 1;
            cp = c & 0x1FU;
            min = 0x80;
        } else if ((c & 0xF0U) == 0xE0U) {
            extra = 2;
            cp = c & 0x0FU;
            min = 0x800;
        } else if ((c & 0xF8U) == 0xF0U) {
            extra = 3;
            cp = c & 0x07U;
            min = 0x10000;
        } else
            return false;
        if (static_cast<std::size_t>(end - p) <= extra) return false;
        for (std::size_t i = 1; i <= extra; ++i) {
            if ((p[i] & 0xC0U) != 0x80U) return false;
            cp = (cp << 6) | (p[i] & 0x3FU);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        p += extra + 1;
    }
    return true;
}

}  // namespace

// ---- Merkle tree hashing (RFC 6962 section 2.1)

Hash leaf_hash(ByteView entry) {
    Sha256 h;
    h.update(ByteView(&kLeafPrefix, 1));
    h.update(entry);
    return to_hash(h.finish());
}

Hash node_hash(const Hash& left, const Hash& right) {
    Sha256 h;
    h.update(ByteView(&kNodePrefix, 1));
    h.update(left);
    h.update(right);
    return to_hash(h.finish());
}

Hash empty_root() { return to_hash(Sha256::of({})); }

// stack_ holds one perfect subtree per set bit of size_, largest first; adding a leaf merges
// equal-sized subtrees as a binary counter carries.
void TreeBuilder::add(const Hash& leaf) {
    stack_.push_back(leaf);
    ++size_;
    for (std::uint64_t n = size_; (n & 1U) == 0; n >>= 1) {
        const Hash right = stack_.back();
        stack_.pop_back();
        stack_.back() = node_hash(stack_.back(), right);
    }
}

std::uint64_t TreeBuilder::size() const noexcept { return size_; }

// MTH splits at the largest power of two below n, so the root folds the subtrees from the right.
Hash TreeBuilder::root() const {
    if (stack_.empty()) return empty_root();
    Hash r = stack_.back();
    for (auto it = stack_.rbegin() + 1; it != stack_.rend(); ++it) r = node_hash(*it, r);
    return r;
}

// ---- Proof verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2)

bool verify_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf, std::span<const Hash> proof,
                      const Hash& root) {
    if (index >= size) return false;
    std::uint64_t fn = index;
    std::uint64_t sn = size - 1;
    Hash r = leaf;
    for (const Hash& p : proof) {
        if (sn == 0) return false;  // proof longer than the path
        if ((fn & 1U) != 0 || fn == sn) {
            r = node_hash(p, r);
            shift_while_even(fn, sn);
        } else {
            r = node_hash(r, p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && r == root;
}

bool verify_consistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root, const Hash& new_root,
                        std::span<const Hash> proof) {
    if (old_size > new_size) return false;
    if (old_size == 0) return proof.empty() && old_root == empty_root();
    if (old_size == new_size) return proof.empty() && old_root == new_root;

    // If the old tree is a perfect subtree of the new one, its root is the path's first element.
    const bool old_is_perfect = (old_size & (old_size - 1)) == 0;
    if (proof.empty()) return false;
    std::size_t next = 0;
    const Hash& first = old_is_perfect ? old_root : proof[next++];

    std::uint64_t fn = old_size - 1;
    std::uint64_t sn = new_size - 1;
    while ((fn & 1U) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    Hash fr = first;
    Hash sr = first;
    for (; next < proof.size(); ++next) {
        const Hash& c = proof[next];
        if (sn == 0) return false;  // proof longer than the path
        if ((fn & 1U) != 0 || fn == sn) {
            fr = node_hash(c, fr);
            sr = node_hash(c, sr);
            shift_while_even(fn, sn);
        } else {
            sr = node_hash(sr, c);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && fr == old_root && sr == new_root;
}

// ---- Checkpoints (C2SP tlog-checkpoint)

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
    if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

std::string checkpoint_body(const Checkpoint& checkpoint) {
    std::string out = checkpoint.origin;
    out += '\n';
    out += std::to_string(checkpoint.size);
    out += '\n';
    out += to_base64(checkpoint.root);
    out += '\n';
    return out;
}

Result<Checkpoint> parse_checkpoint_body(std::string_view body) {
    auto bad = [](const char* what) {
        return make_error(ErrorKind::invalid_argument, std::string("malformed checkpoint: ") + what);
    };
    if (body.empty() || body.back() != '\n') return bad("does not end in a newline");

    std::string_view lines[3];
    std::string_view rest = body;
    for (auto& line : lines) {
        const auto nl = rest.find('\n');
        if (nl == std::string_view::npos) return bad("fewer than three lines");
        line = rest.substr(0, nl);
        rest.remove_prefix(nl + 1);
    }
    // Extension lines are ignored, but each must be a line of its own.
    for (std::string_view ext = rest; !ext.empty();) {
        const auto nl = ext.find('\n');
        if (nl == 0) return bad("empty extension line");
        ext.remove_prefix(nl + 1);
    }

    Checkpoint cp;
    const std::string_view origin = lines[0];
    if (origin.empty()) return bad("empty origin");
    if (!std::all_of(origin.begin(), origin.end(), [](char c) { return c >= ' ' && c < 0x7F; }))
        return bad("origin is not printable ASCII");
    if (origin.front() == ' ' || origin.back() == ' ') return bad("origin has surrounding spaces");
    cp.origin = std::string(origin);

    const auto size = parse_decimal(lines[1]);
    if (!size) return bad("size is not canonical decimal of at most 64 bits");
    cp.size = *size;

    auto root = from_canonical_base64(lines[2]);
    if (!root) return bad("root is not canonical base64");
    if (root->size() != cp.root.size()) return bad("root is not 32 bytes");
    std::copy(root->begin(), root->end(), cp.root.begin());
    return cp;
}

// ---- Signed notes (C2SP signed-note, golang.org/x/mod/sumdb/note key formats)

void NoteSigner::SecretFree::operator()(std::uint8_t* p) const noexcept { sodium_free(p); }

Result<NoteSigner> NoteSigner::generate(std::string name, KeyType type) {
    if (!valid_key_name(name)) return make_error(ErrorKind::invalid_argument, "invalid key name");
    NoteSigner s;
    s.type_ = type;
    s.secret_key_.reset(static_cast<std::uint8_t*>(sodium_malloc(crypto_sign_SECRETKEYBYTES)));
    if (!s.secret_key_) throw std::bad_alloc();
    crypto_sign_keypair(s.public_key_.data(), s.secret_key_.get());
    s.name_ = std::move(name);
    s.key_hash_ = compute_key_hash(s.name_, s.public_key_, type);
    return s;
}

Result<NoteSigner> NoteSigner::from_private(std::string_view text) {
    const auto bad = make_error(ErrorKind::invalid_argument, "malformed signer key");
    if (text.substr(0, kPrivatePrefix.size()) != kPrivatePrefix) return bad;
    text.remove_prefix(kPrivatePrefix.size());
    auto [name, rest] = chop(text, '+');
    auto [hash_text, key_text] = chop(rest, '+');
    std::uint32_t hash = 0;
    if (!valid_key_name(name) || !parse_key_hash(hash_text, hash)) return bad;

    // Decode straight into guarded memory so the seed never sits in an ordinary heap buffer.
    constexpr std::size_t kRawBytes = 1 + crypto_sign_SEEDBYTES;
    std::unique_ptr<std::uint8_t, SecretFree> raw(static_cast<std::uint8_t*>(sodium_malloc(kRawBytes + 3)));
    if (!raw) throw std::bad_alloc();
    std::size_t written = 0;
    const char* end = nullptr;
    if (sodium_base642bin(raw.get(), kRawBytes + 3, key_text.data(), key_text.size(), nullptr, &written, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != key_text.data() + key_text.size() || written != kRawBytes ||
        (raw.get()[0] != static_cast<std::uint8_t>(KeyType::note) &&
         raw.get()[0] != static_cast<std::uint8_t>(KeyType::cosignature)))
        return bad;

    NoteSigner s;
    s.type_ = static_cast<KeyType>(raw.get()[0]);
    s.secret_key_.reset(static_cast<std::uint8_t*>(sodium_malloc(crypto_sign_SECRETKEYBYTES)));
    if (!s.secret_key_) throw std::bad_alloc();
    crypto_sign_seed_keypair(s.public_key_.data(), s.secret_key_.get(), raw.get() + 1);
    s.name_ = std::string(name);
    s.key_hash_ = compute_key_hash(s.name_, s.public_key_, s.type_);
    if (s.key_hash_ != hash) return make_error(ErrorKind::invalid_argument, "signer key hash does not match its key");
    // One seed, one spelling: the key text must be the canonical base64 of what it decodes to.
    std::string canonical = s.private_text();
    const bool same = std::string_view(canonical).substr(kPrivatePrefix.size() + name.size() + 10) == key_text;
    wipe(canonical);
    if (!same) return bad;
    return s;
}

const std::string& NoteSigner::name() const noexcept { return name_; }

KeyType NoteSigner::type() const noexcept { return type_; }

std::string NoteSigner::private_text() const {
    // libsodium's secret key starts with the seed.
    std::array<std::uint8_t, 1 + crypto_sign_SEEDBYTES> raw{};
    raw[0] = static_cast<std::uint8_t>(type_);
    std::memcpy(raw.data() + 1, secret_key_.get(), crypto_sign_SEEDBYTES);
    std::string out = std::string(kPrivatePrefix) + name_ + '+' + key_hash_text(key_hash_) + '+';
    std::string encoded = to_base64(raw);
    wipe(raw);
    out += encoded;
    wipe(encoded);
    return out;
}

std::string NoteSigner::verifier_key() const {
    std::array<std::uint8_t, 1 + crypto_sign_PUBLICKEYBYTES> raw{};
    raw[0] = static_cast<std::uint8_t>(type_);
    std::copy(public_key_.begin(), public_key_.end(), raw.begin() + 1);
    return name_ + '+' + key_hash_text(key_hash_) + '+' + to_base64(raw);
}

std::string NoteSigner::sign(std::string_view body) const {
    if (body.empty() || body.back() != '\n') throw std::invalid_argument("a signed note's body must end in a newline");
    if (type_ != KeyType::note) throw std::invalid_argument("a cosigner key signs cosignatures, not notes");
    std::array<std::uint8_t, 4 + crypto_sign_BYTES> sig{};
    sig[0] = static_cast<std::uint8_t>(key_hash_ >> 24);
    sig[1] = static_cast<std::uint8_t>(key_hash_ >> 16);
    sig[2] = static_cast<std::uint8_t>(key_hash_ >> 8);
    sig[3] = static_cast<std::uint8_t>(key_hash_);
    const auto message = as_bytes(body);
    crypto_sign_detached(sig.data() + 4, nullptr, message.data(), message.size(), secret_key_.get());

    std::string out(body);
    out += '\n';
    out += kSignaturePrefix;
    out += name_;
    out += ' ';
    out += to_base64(sig);
    out += '\n';
    return out;
}

namespace {

std::uint32_t read_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

struct SignatureLine {
    std::string_view name;
    std::uint32_t hash = 0;
    Bytes raw;  // key hash, then what the key type puts there
};

// A note split into its body (with its final "\n") and its signature lines, each parsed.
struct SplitNote {
    std::string_view body;
    std::vector<SignatureLine> signatures;
};

Result<SplitNote> split_note(std::string_view note) {
    const auto malformed = make_error(ErrorKind::invalid_argument, "malformed signed note");
    if (note.size() > kMaxNoteBytes) return make_error(ErrorKind::too_large, "signed note over 1 MiB");
    if (!valid_note_text(note)) return malformed;
    // The signature block is everything after the last blank line; the body keeps its final "\n".
    const auto split = note.rfind("\n\n");
    if (split == std::string_view::npos) return malformed;
    SplitNote out;
    out.body = note.substr(0, split + 1);
    std::string_view sigs = note.substr(split + 2);
    if (sigs.empty() || sigs.back() != '\n') return malformed;
    while (!sigs.empty()) {
        if (out.signatures.size() >= kMaxSignatureLines) return malformed;
        const auto nl = sigs.find('\n');
        std::string_view line = sigs.substr(0, nl);
        sigs.remove_prefix(nl + 1);
        if (line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) return malformed;
        line.remove_prefix(kSignaturePrefix.size());
        const auto [name, b64] = chop(line, ' ');
        // Other signers' names may be any UTF-8 without spaces or '+' (the note is UTF-8 already).
        if (name.empty() || name.find('+') != std::string_view::npos || b64.empty()) return malformed;
        auto raw = from_canonical_base64(b64);
        if (!raw || raw->size() < 5) return malformed;
        out.signatures.push_back({name, read_be32(raw->data()), std::move(*raw)});
    }
    return out;
}

}  // namespace

Result<std::string> verify_note(std::string_view note, std::string_view verifier_key) {
    auto key = parse_verifier_key(verifier_key);
    if (!key) return key.error();
    auto split = split_note(note);
    if (!split) return split.error();
    bool verified = false;
    for (const auto& sig : split->signatures) {
        if (sig.name != key->name || sig.hash != key->hash) continue;  // someone else's signature
        if (sig.raw.size() != 4 + crypto_sign_BYTES)
            return make_error(ErrorKind::invalid_argument, "malformed signed note");
        const auto message = as_bytes(split->body);
        if (crypto_sign_verify_detached(sig.raw.data() + 4, message.data(), message.size(), key->public_key.data()) !=
            0)
            return make_error(ErrorKind::corruption, "signed note has an invalid signature");
        verified = true;
    }
    if (!verified) return make_error(ErrorKind::corruption, "signed note is not signed by this key");
    return std::string(split->body);
}

// ---- Cosignatures (C2SP tlog-cosignature, Ed25519 cosignature/v1)

std::string cosigned_message(std::string_view checkpoint_body, std::uint64_t time) {
    return "cosignature/v1\ntime " + std::to_string(time) + "\n" + std::string(checkpoint_body);
}

std::string NoteSigner::cosign(std::string_view checkpoint_body, std::uint64_t time) const {
    if (type_ != KeyType::cosignature) throw std::invalid_argument("only a cosigner key cosigns");
    if (checkpoint_body.empty() || checkpoint_body.back() != '\n')
        throw std::invalid_argument("a checkpoint body ends in a newline");
    if (time == 0 || time > static_cast<std::uint64_t>(INT64_MAX))
        throw std::invalid_argument("a cosignature's time is after 1970 and below 2^63");
    std::array<std::uint8_t, 4 + 8 + crypto_sign_BYTES> sig{};
    for (int i = 0; i < 4; ++i) sig[i] = static_cast<std::uint8_t>(key_hash_ >> (24 - 8 * i));
    for (int i = 0; i < 8; ++i) sig[4 + i] = static_cast<std::uint8_t>(time >> (56 - 8 * i));
    const std::string message = cosigned_message(checkpoint_body, time);
    const auto bytes = as_bytes(message);
    crypto_sign_detached(sig.data() + 12, nullptr, bytes.data(), bytes.size(), secret_key_.get());
    return std::string(kSignaturePrefix) + name_ + ' ' + to_base64(sig) + '\n';
}

Result<std::uint64_t> verify_cosignature(std::string_view note, std::string_view witness_key) {
    auto key = parse_verifier_key(witness_key, KeyType::cosignature);
    if (!key) return make_error(ErrorKind::invalid_argument, "malformed witness key (a cosignature/v1 vkey)");
    auto split = split_note(note);
    if (!split) return split.error();
    std::optional<std::uint64_t> newest;
    for (const auto& sig : split->signatures) {
        if (sig.name != key->name || sig.hash != key->hash) continue;
        if (sig.raw.size() != 4 + 8 + crypto_sign_BYTES)
            return make_error(ErrorKind::invalid_argument, "malformed cosignature by " + std::string(key->name));
        std::uint64_t time = 0;
        for (int i = 0; i < 8; ++i) time = (time << 8) | sig.raw[4 + i];
        if (time == 0 || time > static_cast<std::uint64_t>(INT64_MAX))
            return make_error(ErrorKind::invalid_argument,
                              "a cosignature by " + std::string(key->name) + " has an impossible time");
        const std::string message = cosigned_message(split->body, time);
        const auto bytes = as_bytes(message);
        if (crypto_sign_verify_detached(sig.raw.data() + 12, bytes.data(), bytes.size(), key->public_key.data()) != 0)
            return make_error(ErrorKind::corruption, "the cosignature by " + std::string(key->name) + " is invalid");
        newest = std::max(newest.value_or(0), time);
    }
    if (!newest) return make_error(ErrorKind::not_found, "not cosigned by " + std::string(key->name));
    return *newest;
}

std::string verifier_key_name(std::string_view verifier_key, KeyType type) {
    auto key = parse_verifier_key(verifier_key, type);
    return key ? std::string(key->name) : std::string();
}

Result<std::size_t> count_cosignatures(std::string_view note, std::span<const std::string> witness_keys) {
    std::size_t valid = 0;
    // One public key, one vote: however its text is spelled (hash digits in either case) and
    // whatever name it is given, since an Ed25519 cosignature does not sign the name.
    std::vector<std::array<std::uint8_t, 32>> counted;
    for (const auto& k : witness_keys) {
        auto key = parse_verifier_key(k, KeyType::cosignature);
        if (!key) return make_error(ErrorKind::invalid_argument, "malformed witness key (a cosignature/v1 vkey)");
        if (std::find(counted.begin(), counted.end(), key->public_key) != counted.end()) continue;
        counted.push_back(key->public_key);
        auto time = verify_cosignature(note, k);
        if (time) {
            ++valid;
        } else if (time.error().kind != ErrorKind::not_found && time.error().kind != ErrorKind::corruption) {
            return time.error();  // a malformed key or note, not a missing signature
        }
    }
    return valid;
}

// ---- Proofs (C2SP tlog-proof)

constexpr std::string_view kProofHeader = "c2sp.org/tlog-proof@v1\n";

std::string format_proof(const Proof& proof) {
    std::string out(kProofHeader);
    if (!proof.extra.empty()) out += "extra " + to_base64(as_bytes(proof.extra)) + "\n";
    out += "index " + std::to_string(proof.index) + "\n";
    for (const auto& h : proof.hashes) out += to_base64(h) + "\n";
    out += "\n";
    out += proof.checkpoint;
    return out;
}

Result<Proof> parse_proof(std::string_view text) {
    auto bad = [](const std::string& what) {
        return make_error(ErrorKind::invalid_argument, "not a C2SP tlog-proof: " + what);
    };
    if (text.size() > kMaxNoteBytes + 64 * 1024) return make_error(ErrorKind::too_large, "proof over 1 MiB");
    if (!text.starts_with(kProofHeader))
        return bad("it does not start with " + std::string(kProofHeader.substr(0, 22)));
    text.remove_prefix(kProofHeader.size());
    auto next_line = [&](std::string_view& line) {
        const auto nl = text.find('\n');
        if (nl == std::string_view::npos) return false;
        line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        return true;
    };
    Proof proof;
    std::string_view line;
    if (!next_line(line)) return bad("it ends after the header");
    if (line.starts_with("extra ")) {
        auto extra = from_canonical_base64(line.substr(6));
        if (!extra || extra->empty()) return bad("the extra line is not canonical base64");
        proof.extra.assign(extra->begin(), extra->end());
        if (!next_line(line)) return bad("it ends after the extra line");
    }
    if (!line.starts_with("index ")) return bad("the index line is missing");
    const auto index = parse_decimal(line.substr(6));
    if (!index) return bad("the index is not canonical decimal of at most 64 bits");
    proof.index = *index;
    while (true) {
        if (!next_line(line)) return bad("the blank line before the checkpoint is missing");
        if (line.empty()) break;
        if (proof.hashes.size() >= 64) return bad("more than 64 proof hashes");
        auto h = from_canonical_base64(line);
        if (!h || h->size() != 32) return bad("a proof line is not a base64 SHA-256 hash");
        Hash hash;
        std::copy(h->begin(), h->end(), hash.begin());
        proof.hashes.push_back(hash);
    }
    if (text.empty()) return bad("the checkpoint is missing");
    proof.checkpoint = std::string(text);
    return proof;
}

}  // namespace serambi::crypto::tlog
