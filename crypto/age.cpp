// age v1 (https://age-encryption.org/v1) with X25519 recipients. The payload is the STREAM of
// stream.cpp with ChaCha20-Poly1305 and no associated data, which is exactly age's; this file adds
// the header: Bech32 keys, X25519 stanzas, the header HMAC, and the strict text format whose
// corner cases the C2SP test vectors (tests/unit/age_test.cpp) pin down.
#include "crypto/age.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sodium.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace serambi::crypto::age {
namespace {

constexpr std::string_view kVersionLine = "age-encryption.org/v1";
constexpr std::string_view kX25519Label = "age-encryption.org/v1/X25519";
constexpr std::size_t kFileKeyBytes = 16;
constexpr std::size_t kPayloadNonceBytes = 16;
constexpr std::size_t kColumns = 64;
constexpr std::size_t kMaxHeaderBytes = 1 << 20;  // far above any real header; bounds memory

Error header_error(const std::string& what) { return make_error(ErrorKind::invalid_argument, "age header: " + what); }
Error payload_error(const std::string& what) { return make_error(ErrorKind::corruption, "age payload: " + what); }

SecretKey hkdf_key(ByteView ikm, ByteView salt, std::string_view info) {
    std::array<std::uint8_t, SecretKey::kBytes> out{};
    hkdf_sha256(ikm, salt, info, out);
    auto key = SecretKey::from_bytes(out);
    wipe(out);
    return std::move(key).value();
}

// Standard base64 without padding, canonical: libsodium refuses '=' in this variant and
// non-zero bits left over at the end, which is what age requires.
std::string b64(ByteView bytes) {
    const auto variant = sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
    sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), variant);
    out.pop_back();  // the terminating NUL
    return out;
}

std::optional<Bytes> unb64(std::string_view text) {
    Bytes out(text.size() / 4 * 3 + 3);
    std::size_t written = 0;
    const char* end = nullptr;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &written, &end,
                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
        end != text.data() + text.size())
        return std::nullopt;
    out.resize(written);
    return out;
}

// ---- Bech32 (BIP 173), as age encodes its keys, without BIP 173's 90-character limit.
constexpr std::string_view kBech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

std::uint32_t bech32_polymod(const std::vector<std::uint8_t>& values) {
    constexpr std::uint32_t kGenerator[] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    std::uint32_t chk = 1;
    for (const auto v : values) {
        const std::uint32_t top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ v;
        for (int i = 0; i < 5; ++i)
            if ((top >> i) & 1) chk ^= kGenerator[i];
    }
    return chk;
}

std::vector<std::uint8_t> hrp_expand(std::string_view hrp) {
    std::vector<std::uint8_t> out;
    for (const char c : hrp) out.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c) >> 5));
    out.push_back(0);
    for (const char c : hrp) out.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c) & 31));
    return out;
}

// Regroups bits; `pad` is for encoding, and decoding refuses leftover bits that are not zero.
std::optional<std::vector<std::uint8_t>> convert_bits(ByteView in, int from, int to, bool pad) {
    std::uint32_t acc = 0;
    int bits = 0;
    std::vector<std::uint8_t> out;
    out.reserve(in.size() * static_cast<std::size_t>(from) / static_cast<std::size_t>(to) + 1);
    const std::uint32_t max = (1u << to) - 1;
    for (const auto value : in) {
        if ((value >> from) != 0) return std::nullopt;
        acc = (acc << from) | value;
        bits += from;
        while (bits >= to) {
            bits -= to;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & max));
        }
    }
    if (pad) {
        if (bits > 0) out.push_back(static_cast<std::uint8_t>((acc << (to - bits)) & max));
    } else if (bits >= from || ((acc << (to - bits)) & max) != 0) {
        return std::nullopt;
    }
    return out;
}

// Identities go through here: every intermediate copy is wiped, and the output is reserved once
// so that no reallocation leaves a copy behind.
std::string bech32_encode(std::string_view hrp, ByteView data) {
    auto values = *convert_bits(data, 8, 5, true);
    auto check_input = hrp_expand(hrp);
    check_input.reserve(check_input.size() + values.size() + 6);
    check_input.insert(check_input.end(), values.begin(), values.end());
    check_input.insert(check_input.end(), 6, 0);
    const std::uint32_t mod = bech32_polymod(check_input) ^ 1;
    std::string out;
    out.reserve(hrp.size() + 1 + values.size() + 6);
    out += hrp;
    out += '1';
    for (const auto v : values) out += kBech32Charset[v];
    for (int i = 0; i < 6; ++i) out += kBech32Charset[(mod >> (5 * (5 - i))) & 31];
    wipe(values);
    wipe(check_input);
    return out;
}

// Decodes `text` whose human-readable part must be `hrp` (lowercase); the text may be all
// lowercase or all uppercase, never mixed.
std::optional<Bytes> bech32_decode(std::string_view text, std::string_view hrp) {
    bool lower = false, upper = false;
    std::string s;
    s.reserve(text.size());
    for (const char c : text) {
        if (c < 33 || c > 126) return std::nullopt;
        lower = lower || (c >= 'a' && c <= 'z');
        upper = upper || (c >= 'A' && c <= 'Z');
        s += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    // Wiped on every way out: for an identity, each of these holds the secret in some form.
    std::vector<std::uint8_t> values, check_input;
    struct Wipe {
        std::string& s;
        std::vector<std::uint8_t>& a;
        std::vector<std::uint8_t>& b;
        ~Wipe() {
            crypto::wipe(s);
            crypto::wipe(a);
            crypto::wipe(b);
        }
    } wipe_on_exit{s, values, check_input};
    if (lower && upper) return std::nullopt;
    const auto sep = s.rfind('1');
    if (sep == std::string::npos || sep == 0 || sep + 7 > s.size() || s.compare(0, sep, hrp) != 0 || sep != hrp.size())
        return std::nullopt;
    values.reserve(s.size() - sep);
    for (std::size_t i = sep + 1; i < s.size(); ++i) {
        const auto at = kBech32Charset.find(s[i]);
        if (at == std::string_view::npos) return std::nullopt;
        values.push_back(static_cast<std::uint8_t>(at));
    }
    check_input = hrp_expand(hrp);
    check_input.reserve(check_input.size() + values.size());
    check_input.insert(check_input.end(), values.begin(), values.end());
    if (bech32_polymod(check_input) != 1) return std::nullopt;
    values.resize(values.size() - 6);
    auto bytes = convert_bits(values, 5, 8, false);
    if (!bytes) return std::nullopt;
    Bytes out(bytes->begin(), bytes->end());
    wipe(*bytes);
    return out;
}

constexpr std::string_view kRecipientHrp = "age";
constexpr std::string_view kIdentityHrp = "age-secret-key-";

// The key that wraps the file key for one X25519 stanza.
SecretKey x25519_wrap_key(ByteView shared, const Recipient& share, const Recipient& recipient) {
    std::array<std::uint8_t, 64> salt{};
    std::copy(share.begin(), share.end(), salt.begin());
    std::copy(recipient.begin(), recipient.end(), salt.begin() + 32);
    return hkdf_key(shared, salt, kX25519Label);
}

bool is_zero(ByteView bytes) { return sodium_is_zero(bytes.data(), bytes.size()) == 1; }

struct Stanza {
    std::vector<std::string> args;  // the type first
    Bytes body;
};

// A stanza argument or type: one or more visible ASCII characters.
bool is_argument(std::string_view a) {
    return !a.empty() && std::all_of(a.begin(), a.end(), [](char c) { return c >= 33 && c <= 126; });
}

std::array<std::uint8_t, 32> header_mac(ByteView file_key, ByteView header_through_dashes) {
    std::array<std::uint8_t, 32> mac_key{};
    hkdf_sha256(file_key, {}, "header", mac_key);
    std::array<std::uint8_t, 32> mac{};
    crypto_auth_hmacsha256(mac.data(), header_through_dashes.data(), header_through_dashes.size(), mac_key.data());
    wipe(mac_key);
    return mac;
}

}  // namespace

Result<Recipient> parse_recipient(std::string_view text) {
    auto bytes = bech32_decode(text, kRecipientHrp);
    if (!bytes || bytes->size() != 32 || text.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos)
        return make_error(ErrorKind::invalid_argument, "not an age X25519 recipient (age1…)");
    Recipient r;
    std::copy(bytes->begin(), bytes->end(), r.begin());
    // A low-order point would make every shared secret zero: nothing could ever be encrypted to
    // it, so it is refused here rather than when a delivery is already under way.
    std::array<std::uint8_t, 32> probe{}, shared{};
    probe[0] = 9;
    const bool usable = crypto_scalarmult(shared.data(), probe.data(), r.data()) == 0 && !is_zero(shared);
    wipe(shared);
    if (!usable)
        return make_error(ErrorKind::invalid_argument, "not a usable age X25519 recipient (a low-order point)");
    return r;
}

std::string encode_recipient(const Recipient& recipient) { return bech32_encode(kRecipientHrp, recipient); }

Identity::Identity(SecretKey secret, Recipient recipient) : secret_(std::move(secret)), recipient_(recipient) {}

Identity Identity::generate() {
    auto secret = SecretKey::random();
    Recipient r;
    crypto_scalarmult_base(r.data(), secret.bytes().data());
    return Identity(std::move(secret), r);
}

Result<Identity> Identity::parse(std::string_view text) {
    auto bytes = bech32_decode(text, kIdentityHrp);
    const bool ok = bytes && bytes->size() == SecretKey::kBytes;
    auto secret = ok ? SecretKey::from_bytes(*bytes) : Result<SecretKey>(make_error(ErrorKind::invalid_argument, ""));
    if (bytes) wipe(*bytes);
    if (!secret) return make_error(ErrorKind::invalid_argument, "not an age X25519 identity (AGE-SECRET-KEY-1…)");
    Recipient r;
    crypto_scalarmult_base(r.data(), secret->bytes().data());
    return Identity(std::move(secret).value(), r);
}

std::string Identity::encode() const {
    std::string text = bech32_encode(kIdentityHrp, secret_.bytes());
    for (auto& c : text) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    return text;
}

Result<std::vector<Identity>> parse_identity_file(std::string_view text) {
    std::vector<Identity> out;
    std::size_t at = 0;
    int line_no = 0;
    while (at < text.size()) {
        const auto nl = text.find('\n', at);
        std::string line(text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at));
        at = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        auto id = Identity::parse(line);
        wipe(line);
        if (!id)
            return make_error(ErrorKind::invalid_argument,
                              std::to_string(line_no) + ": not an age X25519 identity (AGE-SECRET-KEY-1…)");
        out.push_back(std::move(id).value());
    }
    return out;
}

// ---- Encryption

struct Encryptor::State {
    Bytes header;
    std::unique_ptr<StreamSealer> sealer;
    bool finished = false;
};

Encryptor::Encryptor(std::unique_ptr<State> state) : state_(std::move(state)) {}
Encryptor::Encryptor(Encryptor&&) noexcept = default;
Encryptor& Encryptor::operator=(Encryptor&&) noexcept = default;
Encryptor::~Encryptor() = default;

Result<Encryptor> Encryptor::create(std::span<const Recipient> recipients) { return make(recipients, nullptr); }

Result<Encryptor> Encryptor::create_deterministic(const Recipient& recipient, const SecretKey& seed) {
    return make(std::span(&recipient, 1), &seed);
}

Status Encryptor::start_at_chunk(std::uint64_t index) { return state_->sealer->start_at(index); }

namespace {
// Random bytes, or with a seed, bytes derived from it for `purpose`.
void fill(std::span<std::uint8_t> out, const SecretKey* seed, std::string_view purpose) {
    if (seed == nullptr) return random_bytes(out);
    const auto derived = derive_key(*seed, purpose);
    std::copy_n(derived.bytes().begin(), out.size(), out.begin());
}
}  // namespace

Result<Encryptor> Encryptor::make(std::span<const Recipient> recipients, const SecretKey* seed) {
    if (recipients.empty()) return make_error(ErrorKind::invalid_argument, "age: at least one recipient is needed");
    std::array<std::uint8_t, kFileKeyBytes> file_key{};
    fill(file_key, seed, "serambi/age/file-key");
    std::string header(kVersionLine);
    header += '\n';
    for (const auto& recipient : recipients) {
        std::array<std::uint8_t, 32> ephemeral{};
        fill(ephemeral, seed, "serambi/age/ephemeral");
        Recipient share;
        crypto_scalarmult_base(share.data(), ephemeral.data());
        std::array<std::uint8_t, 32> shared{};
        const bool usable =
            crypto_scalarmult(shared.data(), ephemeral.data(), recipient.data()) == 0 && !is_zero(shared);
        wipe(ephemeral);
        if (!usable) {
            wipe(shared);
            wipe(file_key);
            return make_error(ErrorKind::invalid_argument, "age: a recipient is not a usable X25519 public key");
        }
        const auto wrap_key = x25519_wrap_key(shared, share, recipient);
        wipe(shared);
        std::array<std::uint8_t, kFileKeyBytes + crypto_aead_chacha20poly1305_ietf_ABYTES> body{};
        const std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> zero_nonce{};
        crypto_aead_chacha20poly1305_ietf_encrypt(body.data(), nullptr, file_key.data(), file_key.size(), nullptr, 0,
                                                  nullptr, zero_nonce.data(), wrap_key.bytes().data());
        header += "-> X25519 " + b64(share) + "\n";
        // The body in lines of 64 columns; a short (possibly empty) line ends it.
        const std::string text = b64(body);
        for (std::size_t at = 0;; at += kColumns) {
            const auto line = text.substr(std::min(at, text.size()), kColumns);
            header += line + "\n";
            if (line.size() < kColumns) break;
        }
    }
    header += "---";
    const auto mac = header_mac(file_key, as_bytes(header));
    header += " " + b64(mac) + "\n";

    auto state = std::make_unique<State>();
    state->header.assign(header.begin(), header.end());
    std::array<std::uint8_t, kPayloadNonceBytes> nonce{};
    fill(nonce, seed, "serambi/age/nonce");
    state->header.insert(state->header.end(), nonce.begin(), nonce.end());
    const auto payload_key = hkdf_key(file_key, nonce, "payload");
    wipe(file_key);
    state->sealer = std::make_unique<StreamSealer>(Aead::chacha20_poly1305, payload_key, ByteView{});
    return Encryptor(std::move(state));
}

const Bytes& Encryptor::header() const noexcept { return state_->header; }

Status Encryptor::update(ByteView plaintext, Bytes& out) {
    if (state_->finished) return make_error(ErrorKind::internal, "age: the file is already finished");
    return state_->sealer->update(plaintext, out);
}

Status Encryptor::finish(Bytes& out) {
    if (state_->finished) return make_error(ErrorKind::internal, "age: the file is already finished");
    state_->finished = true;
    return state_->sealer->finish(out);
}

// ---- Decryption

struct Decryptor::State {
    std::vector<const Identity*> identities;
    Bytes in;            // input not yet consumed
    std::size_t at = 0;  // consumed prefix of `in`
    // The header, line by line, until its MAC line.
    bool seen_version = false;
    std::vector<Stanza> stanzas;
    bool in_body = false;  // reading a stanza's body lines
    std::string body_text;
    std::size_t header_end = 0;  // where the MAC line's "---" ends, once seen
    std::size_t scanned = 0;     // how far the search for the current line's end has looked
    std::optional<std::array<std::uint8_t, 32>> mac;
    std::optional<SecretKey> payload_key;
    std::unique_ptr<StreamOpener> opener;
    std::uint64_t chunk = 0;
    std::optional<Error> failed;

    Status fail(Error e) {
        failed = e;
        return e;
    }

    // One header line, without its "\n".
    Status header_line(std::string_view line, std::size_t line_start) {
        if (!seen_version) {
            if (line != kVersionLine)
                return header_error(line.starts_with("age-encryption.org/") ? "unsupported version"
                                                                            : "not an age file (no version line)");
            seen_version = true;
            return {};
        }
        if (in_body) {
            if (line.size() > kColumns) return header_error("a stanza body line is longer than 64 columns");
            body_text += line;
            if (line.size() < kColumns) {
                auto body = unb64(body_text);
                if (!body) return header_error("a stanza body is not canonical unpadded base64");
                stanzas.back().body = std::move(*body);
                body_text.clear();
                in_body = false;
            }
            return {};
        }
        if (line.starts_with("-> ")) {
            Stanza stanza;
            std::string_view rest = line.substr(3);
            while (true) {
                const auto space = rest.find(' ');
                const auto arg = rest.substr(0, space);
                if (!is_argument(arg)) return header_error("a stanza has an empty or invalid argument");
                stanza.args.emplace_back(arg);
                if (space == std::string_view::npos) break;
                rest.remove_prefix(space + 1);
            }
            if (stanzas.size() >= 4096) return header_error("more than 4096 stanzas");
            stanzas.push_back(std::move(stanza));
            in_body = true;
            return {};
        }
        if (line.starts_with("---")) {
            if (stanzas.empty()) return header_error("no recipient stanzas");
            if (line.size() < 4 || line[3] != ' ') return header_error("the MAC line is malformed");
            auto mac_bytes = unb64(line.substr(4));
            if (!mac_bytes || mac_bytes->size() != 32)
                return header_error("the MAC is not 32 bytes of canonical base64");
            std::array<std::uint8_t, 32> m{};
            std::copy(mac_bytes->begin(), mac_bytes->end(), m.begin());
            mac = m;
            header_end = line_start + 3;
            return {};
        }
        return header_error("a line is neither a stanza nor the MAC line");
    }

    // The header is complete: unwrap the file key and check the MAC.
    Status unwrap(ByteView header_through_dashes, ByteView nonce) {
        std::optional<std::array<std::uint8_t, kFileKeyBytes>> file_key;
        for (const auto& stanza : stanzas) {
            if (stanza.args[0] != "X25519") continue;  // other types (and "x25519") are not ours
            if (stanza.args.size() != 2) return header_error("an X25519 stanza must have exactly one argument");
            auto share_bytes = unb64(stanza.args[1]);
            if (!share_bytes || share_bytes->size() != 32)
                return header_error("an X25519 share is not 32 bytes of canonical base64");
            if (stanza.body.size() != kFileKeyBytes + crypto_aead_chacha20poly1305_ietf_ABYTES)
                return header_error("an X25519 stanza's body is not a 16-byte file key and its tag");
            Recipient share;
            std::copy(share_bytes->begin(), share_bytes->end(), share.begin());
            for (const auto* identity : identities) {
                std::array<std::uint8_t, 32> shared{};
                if (crypto_scalarmult(shared.data(), identity->secret().bytes().data(), share.data()) != 0 ||
                    is_zero(shared)) {
                    wipe(shared);
                    return header_error("an X25519 share is a low-order point");
                }
                const auto wrap_key = x25519_wrap_key(shared, share, identity->recipient());
                wipe(shared);
                std::array<std::uint8_t, kFileKeyBytes> key{};
                const std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> zero_nonce{};
                if (crypto_aead_chacha20poly1305_ietf_decrypt(key.data(), nullptr, nullptr, stanza.body.data(),
                                                              stanza.body.size(), nullptr, 0, zero_nonce.data(),
                                                              wrap_key.bytes().data()) == 0) {
                    file_key = key;
                    wipe(key);
                    break;
                }
            }
            if (file_key) break;
        }
        if (!file_key) return make_error(ErrorKind::not_found, "age: no identity matches any recipient of the file");
        const auto expected = header_mac(*file_key, header_through_dashes);
        if (!equal_constant_time(expected, *mac)) {
            wipe(*file_key);
            return make_error(ErrorKind::corruption, "age header MAC does not match: the header was altered");
        }
        payload_key = hkdf_key(*file_key, nonce, "payload");
        wipe(*file_key);
        opener = std::make_unique<StreamOpener>(Aead::chacha20_poly1305, *payload_key, ByteView{});
        return {};
    }

    // Parses header lines from `in`; true once the header and nonce are done.
    Result<bool> read_header() {
        while (!mac) {
            if (at > kMaxHeaderBytes) return header_error("the header is larger than 1 MiB");
            // Resume where the last search for this line's end stopped: bytes fed one at a time
            // cost linear, not quadratic, time.
            const auto nl = std::find(in.begin() + static_cast<std::ptrdiff_t>(std::max(at, scanned)), in.end(), '\n');
            if (nl == in.end()) {
                scanned = in.size();
                if (in.size() > kMaxHeaderBytes) return header_error("the header is larger than 1 MiB");
                return false;
            }
            const std::size_t end = static_cast<std::size_t>(nl - in.begin());
            const std::string_view line(reinterpret_cast<const char*>(in.data()) + at, end - at);
            if (auto s = header_line(line, at); !s) return s.error();
            at = end + 1;
        }
        if (in.size() - at < kPayloadNonceBytes) return false;
        const ByteView nonce(in.data() + at, kPayloadNonceBytes);
        if (auto s = unwrap(ByteView(in.data(), header_end), nonce); !s) return s.error();
        at += kPayloadNonceBytes;
        return true;
    }

    // Opens the next chunk; a full one that does not open as a middle chunk may be the final one
    // (a payload that ends on a chunk boundary), as age's own reader does.
    Status open(ByteView sealed, bool may_be_middle, Bytes& plaintext) {
        const auto before = plaintext.size();
        plaintext.resize(before + kStreamChunkBytes);
        const auto out = std::span(plaintext).subspan(before);
        Result<std::size_t> n = make_error(ErrorKind::corruption, "");
        if (may_be_middle) n = opener->open_chunk(chunk, false, sealed, out);
        if (!n) {
            n = opener->open_chunk(chunk, true, sealed, out);
            if (n) saw_last = true;
        }
        if (!n) {
            plaintext.resize(before);
            return payload_error("chunk " + std::to_string(chunk) +
                                 " does not authenticate (altered, truncated or extended)");
        }
        plaintext.resize(before + *n);
        ++chunk;
        return {};
    }
    bool saw_last = false;

    void compact() {
        if (at > 0 && (at >= in.size() || at > (1u << 20))) {
            in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(at));
            at = 0;
        }
    }
};

Decryptor::Decryptor(std::span<const Identity* const> identities) : state_(std::make_unique<State>()) {
    state_->identities.assign(identities.begin(), identities.end());
}
Decryptor::Decryptor(Decryptor&&) noexcept = default;
Decryptor& Decryptor::operator=(Decryptor&&) noexcept = default;
Decryptor::~Decryptor() = default;

Status Decryptor::update(ByteView ciphertext, Bytes& plaintext) {
    auto& s = *state_;
    if (s.failed) return *s.failed;
    s.in.insert(s.in.end(), ciphertext.begin(), ciphertext.end());
    if (!s.opener) {
        auto done = s.read_header();
        if (!done) return s.fail(done.error());
        if (!*done) return {};
    }
    // Chunks are released as soon as they authenticate; only the last one may be short.
    while (s.in.size() - s.at >= kSealedChunkBytes || (s.saw_last && s.in.size() > s.at)) {
        if (s.saw_last) return s.fail(payload_error("data follows the final chunk"));
        if (auto st = s.open(ByteView(s.in.data() + s.at, kSealedChunkBytes), true, plaintext); !st)
            return s.fail(st.error());
        s.at += kSealedChunkBytes;
    }
    s.compact();
    return {};
}

Status Decryptor::finish(Bytes& plaintext) {
    auto& s = *state_;
    if (s.failed) return *s.failed;
    if (!s.opener) {
        auto done = s.read_header();
        if (!done) return s.fail(done.error());
        if (!*done)
            return s.fail(
                header_error(s.mac ? "the file ends before the payload nonce" : "the file ends inside the header"));
    }
    // update() opened every full chunk; what is left is a short final chunk, or nothing after one.
    const std::size_t left = s.in.size() - s.at;
    if (s.saw_last && left > 0) return s.fail(payload_error("data follows the final chunk"));
    if (!s.saw_last) {
        if (left == 0)
            return s.fail(payload_error(s.chunk == 0 ? "there is no payload" : "the final chunk is missing"));
        if (auto st = s.open(ByteView(s.in.data() + s.at, left), false, plaintext); !st) return s.fail(st.error());
    }
    s.at = s.in.size();
    s.failed = make_error(ErrorKind::internal, "age: the file is already finished");
    return {};
}

}  // namespace serambi::crypto::age
