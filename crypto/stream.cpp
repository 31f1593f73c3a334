// STREAM sealing at rest and data-key wrapping, on OpenSSL's AEADs (AES-NI / AVX-512 code paths).
#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>

#include "crypto/crypto.h"

namespace serambi::crypto {
namespace {

constexpr std::size_t kNonceBytes = 12;

struct CipherCtx {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    CipherCtx() {
        if (ctx == nullptr) throw std::bad_alloc();
    }
    ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
    CipherCtx(const CipherCtx&) = delete;
    CipherCtx& operator=(const CipherCtx&) = delete;
};

// Fetched once: OpenSSL 3 looks a cipher up in its provider tables (locks, string compares) at
// every initialisation given EVP_aes_256_gcm(), which costs more than sealing a small package.
// Never freed: the process's lifetime.
const EVP_CIPHER* cipher_for(Aead aead) {
    static const EVP_CIPHER* const aes = [] {
        const EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
        return c != nullptr ? c : EVP_aes_256_gcm();
    }();
    static const EVP_CIPHER* const chacha = [] {
        const EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
        return c != nullptr ? c : EVP_chacha20_poly1305();
    }();
    return aead == Aead::chacha20_poly1305 ? chacha : aes;
}

std::array<std::uint8_t, kNonceBytes> stream_nonce(std::uint64_t index, bool last) {
    std::array<std::uint8_t, kNonceBytes> nonce{};
    for (int i = 0; i < 8; ++i) nonce[10 - i] = static_cast<std::uint8_t>(index >> (8 * i));
    nonce[11] = last ? 1 : 0;
    return nonce;
}

// Seals `plaintext` into out (ciphertext ‖ tag). The context already holds cipher and key.
bool seal(EVP_CIPHER_CTX* ctx, const std::uint8_t* nonce, ByteView aad, ByteView plaintext, std::uint8_t* out) {
    int len = 0;
    if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1) return false;
    if (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
        return false;
    if (!plaintext.empty() &&
        EVP_EncryptUpdate(ctx, out, &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1)
        return false;
    if (EVP_EncryptFinal_ex(ctx, out + plaintext.size(), &len) != 1) return false;
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kStreamTagBytes, out + plaintext.size()) == 1;
}

bool open(EVP_CIPHER_CTX* ctx, const std::uint8_t* nonce, ByteView aad, ByteView sealed, std::uint8_t* out) {
    if (sealed.size() < kStreamTagBytes) return false;
    const std::size_t body = sealed.size() - kStreamTagBytes;
    int len = 0;
    if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1) return false;
    if (!aad.empty() && EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
        return false;
    if (body > 0 && EVP_DecryptUpdate(ctx, out, &len, sealed.data(), static_cast<int>(body)) != 1) return false;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kStreamTagBytes,
                            const_cast<std::uint8_t*>(sealed.data() + body)) != 1)
        return false;
    return EVP_DecryptFinal_ex(ctx, out + body, &len) == 1;
}

void init_cipher(EVP_CIPHER_CTX* ctx, Aead aead, const SecretKey& key, bool encrypt) {
    const int ok = encrypt ? EVP_EncryptInit_ex(ctx, cipher_for(aead), nullptr, nullptr, nullptr)
                           : EVP_DecryptInit_ex(ctx, cipher_for(aead), nullptr, nullptr, nullptr);
    if (ok != 1 || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
        (encrypt ? EVP_EncryptInit_ex(ctx, nullptr, nullptr, key.bytes().data(), nullptr)
                 : EVP_DecryptInit_ex(ctx, nullptr, nullptr, key.bytes().data(), nullptr)) != 1)
        throw std::runtime_error("AEAD unavailable");
}

}  // namespace

Result<Aead> aead_from_name(std::string_view name) {
    if (name == "aes-256-gcm") return Aead::aes_256_gcm;
    if (name == "chacha20-poly1305") return Aead::chacha20_poly1305;
    return make_error(ErrorKind::invalid_argument, "unknown AEAD (expected aes-256-gcm or chacha20-poly1305)");
}

const char* aead_name(Aead aead) noexcept {
    return aead == Aead::chacha20_poly1305 ? "chacha20-poly1305" : "aes-256-gcm";
}

std::uint64_t sealed_size(std::uint64_t plaintext_size) noexcept {
    const std::uint64_t chunks = plaintext_size == 0 ? 1 : (plaintext_size + kStreamChunkBytes - 1) / kStreamChunkBytes;
    return plaintext_size + chunks * kStreamTagBytes;
}

struct StreamSealer::State {
    CipherCtx cipher;
    Bytes aad;
    Bytes pending;  // plaintext not yet sealed; at most one chunk
    std::uint64_t index = 0;
    bool finished = false;
};

StreamSealer::StreamSealer(Aead aead, const SecretKey& key, ByteView associated_data)
    : state_(std::make_unique<State>()) {
    init_cipher(state_->cipher.ctx, aead, key, true);
    state_->aad.assign(associated_data.begin(), associated_data.end());
    state_->pending.reserve(kStreamChunkBytes);
}
StreamSealer::~StreamSealer() {
    if (state_) wipe(state_->pending);
}

std::size_t StreamSealer::max_update_output(std::size_t plaintext_size) const noexcept {
    return (state_->pending.size() + plaintext_size) / kStreamChunkBytes * kSealedChunkBytes;
}

Result<std::size_t> StreamSealer::update(ByteView plaintext, std::span<std::uint8_t> out) {
    auto& s = *state_;
    if (s.finished) return make_error(ErrorKind::internal, "stream already finished");
    if (out.size() < max_update_output(plaintext.size()))
        return make_error(ErrorKind::internal, "sealing output buffer too small");
    std::size_t written = 0;
    auto emit = [&](ByteView chunk) {
        const auto nonce = stream_nonce(s.index++, false);
        const bool ok = seal(s.cipher.ctx, nonce.data(), s.aad, chunk, out.data() + written);
        written += kSealedChunkBytes;
        return ok;
    };
    while (!plaintext.empty()) {
        // A full chunk is sealed only once more input proves it is not the last one.
        if (s.pending.size() == kStreamChunkBytes) {
            if (!emit(s.pending)) return make_error(ErrorKind::internal, "sealing failed");
            s.pending.clear();
        }
        if (s.pending.empty() && plaintext.size() > kStreamChunkBytes) {
            // Whole chunks straight from the input, without a copy through `pending`.
            if (!emit(plaintext.first(kStreamChunkBytes))) return make_error(ErrorKind::internal, "sealing failed");
            plaintext = plaintext.subspan(kStreamChunkBytes);
            continue;
        }
        const std::size_t take = std::min(plaintext.size(), kStreamChunkBytes - s.pending.size());
        s.pending.insert(s.pending.end(), plaintext.begin(), plaintext.begin() + static_cast<std::ptrdiff_t>(take));
        plaintext = plaintext.subspan(take);
    }
    return written;
}

Result<std::size_t> StreamSealer::finish(std::span<std::uint8_t> out) {
    auto& s = *state_;
    if (s.finished) return make_error(ErrorKind::internal, "stream already finished");
    if (out.size() < s.pending.size() + kStreamTagBytes)
        return make_error(ErrorKind::internal, "sealing output buffer too small");
    s.finished = true;
    const auto nonce = stream_nonce(s.index++, true);
    if (!seal(s.cipher.ctx, nonce.data(), s.aad, s.pending, out.data()))
        return make_error(ErrorKind::internal, "sealing failed");
    const std::size_t written = s.pending.size() + kStreamTagBytes;
    wipe(s.pending);
    s.pending.clear();
    return written;
}

Status StreamSealer::start_at(std::uint64_t index) {
    auto& s = *state_;
    if (s.finished || s.index != 0 || !s.pending.empty())
        return make_error(ErrorKind::internal, "a stream can be started elsewhere only before any input");
    s.index = index;
    return {};
}

Status StreamSealer::update(ByteView plaintext, Bytes& out) {
    const std::size_t at = out.size();
    out.resize(at + max_update_output(plaintext.size()));
    auto n = update(plaintext, std::span(out).subspan(at));
    if (!n) return n.error();
    out.resize(at + *n);
    return {};
}

Status StreamSealer::finish(Bytes& out) {
    const std::size_t at = out.size();
    out.resize(at + kSealedChunkBytes);
    auto n = finish(std::span(out).subspan(at));
    if (!n) return n.error();
    out.resize(at + *n);
    return {};
}

struct StreamOpener::State {
    CipherCtx cipher;
    Bytes aad;
};

StreamOpener::StreamOpener(Aead aead, const SecretKey& key, ByteView associated_data)
    : state_(std::make_unique<State>()) {
    init_cipher(state_->cipher.ctx, aead, key, false);
    state_->aad.assign(associated_data.begin(), associated_data.end());
}
StreamOpener::~StreamOpener() = default;

Result<std::size_t> StreamOpener::open_chunk(std::uint64_t index, bool last, ByteView sealed,
                                             std::span<std::uint8_t> out) {
    const bool size_ok = sealed.size() >= kStreamTagBytes && sealed.size() <= kSealedChunkBytes &&
                         (last || sealed.size() == kSealedChunkBytes) &&
                         (sealed.size() > kStreamTagBytes || (last && index == 0));
    if (!size_ok || out.size() < sealed.size() - kStreamTagBytes)
        return make_error(ErrorKind::corruption, "sealed chunk failed authentication");
    const auto nonce = stream_nonce(index, last);
    if (!open(state_->cipher.ctx, nonce.data(), state_->aad, sealed, out.data())) {
        wipe(out.first(sealed.size() - kStreamTagBytes));
        return make_error(ErrorKind::corruption, "sealed chunk failed authentication");
    }
    return sealed.size() - kStreamTagBytes;
}

Bytes wrap_key(const SecretKey& kek, const SecretKey& data_key, ByteView associated_data) {
    CipherCtx cipher;
    init_cipher(cipher.ctx, Aead::aes_256_gcm, kek, true);
    Bytes out(kNonceBytes + SecretKey::kBytes + kStreamTagBytes);
    random_bytes(std::span(out).first(kNonceBytes));
    if (!seal(cipher.ctx, out.data(), associated_data, data_key.bytes(), out.data() + kNonceBytes))
        throw std::runtime_error("key wrapping failed");
    return out;
}

Result<SecretKey> unwrap_key(const SecretKey& kek, ByteView wrapped, ByteView associated_data) {
    if (wrapped.size() != kNonceBytes + SecretKey::kBytes + kStreamTagBytes)
        return make_error(ErrorKind::corruption, "wrapped key failed authentication");
    CipherCtx cipher;
    init_cipher(cipher.ctx, Aead::aes_256_gcm, kek, false);
    std::array<std::uint8_t, SecretKey::kBytes> plain{};
    const bool ok = open(cipher.ctx, wrapped.data(), associated_data, wrapped.subspan(kNonceBytes), plain.data());
    if (!ok) {
        wipe(plain);
        return make_error(ErrorKind::corruption, "wrapped key failed authentication");
    }
    auto key = SecretKey::from_bytes(plain);
    wipe(plain);
    return key;
}

}  // namespace serambi::crypto
