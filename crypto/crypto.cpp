#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <vector>

namespace serambi::crypto {

Status initialise() {
    if (sodium_init() < 0) return make_error(ErrorKind::internal, "libsodium failed to initialise");
    return {};
}

std::string library_versions() {
    return std::string(OpenSSL_version(OPENSSL_VERSION)) + ", libsodium " + sodium_version_string();
}

namespace {

// Where short-lived keys live: one region from sodium_malloc (locked, left out of core dumps,
// guard pages around it), cut into slots. A sodium_malloc of its own for every key costs an
// mmap, three mprotects, an mlock and their undoing (and, in a threaded process, a TLB shootdown
// on every core) for each package pushed or pulled, more than sealing a small package. What the
// region gives up is a guard page between one key and the next. When every slot is taken, keys
// get their own sodium_malloc as before.
class KeySlots {
  public:
    static KeySlots& instance() {
        static KeySlots* const slots = new KeySlots();  // never destroyed: keys may outlive statics
        return *slots;
    }
    std::uint8_t* take() {
        std::lock_guard lock(mutex_);
        if (free_.empty()) return nullptr;
        std::uint8_t* p = free_.back();
        free_.pop_back();
        return p;
    }
    // Wipes and keeps `p` if it is one of ours.
    bool give_back(std::uint8_t* p) {
        if (base_ == nullptr || p < base_ || p >= base_ + kSlots * SecretKey::kBytes) return false;
        sodium_memzero(p, SecretKey::kBytes);
        std::lock_guard lock(mutex_);
        free_.push_back(p);
        return true;
    }

  private:
    static constexpr std::size_t kSlots = 1024;  // 32 KiB: within the smallest RLIMIT_MEMLOCK
    KeySlots() : base_(static_cast<std::uint8_t*>(sodium_malloc(kSlots * SecretKey::kBytes))) {
        if (base_ == nullptr) return;
        free_.reserve(kSlots);
        for (std::size_t i = kSlots; i-- > 0;) free_.push_back(base_ + i * SecretKey::kBytes);
    }
    std::uint8_t* const base_;
    std::mutex mutex_;
    std::vector<std::uint8_t*> free_;
};

void release_key(std::uint8_t* data) noexcept {
    if (data == nullptr) return;
    if (!KeySlots::instance().give_back(data)) sodium_free(data);  // sodium_free wipes before releasing
}

}  // namespace

SecretKey::SecretKey() {
    data_ = KeySlots::instance().take();
    if (data_ == nullptr) data_ = static_cast<std::uint8_t*>(sodium_malloc(kBytes));
    if (data_ == nullptr) throw std::bad_alloc();
}

SecretKey::SecretKey(SecretKey&& other) noexcept : data_(other.data_) { other.data_ = nullptr; }

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
    if (this != &other) {
        release_key(data_);
        data_ = other.data_;
        other.data_ = nullptr;
    }
    return *this;
}

SecretKey::~SecretKey() { release_key(data_); }

SecretKey SecretKey::random() {
    SecretKey key;
    randombytes_buf(key.data_, kBytes);
    return key;
}

Result<SecretKey> SecretKey::from_bytes(ByteView bytes) {
    if (bytes.size() != kBytes) return make_error(ErrorKind::invalid_argument, "a key must be 32 bytes");
    SecretKey key;
    std::memcpy(key.data_, bytes.data(), kBytes);
    return key;
}

std::array<std::uint8_t, 32> hmac_sha256(ByteView key, std::string_view message) {
    std::array<std::uint8_t, 32> mac{};
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &length) == nullptr ||
        length != mac.size())
        throw std::runtime_error("HMAC-SHA-256 unavailable");
    return mac;
}

void hkdf_sha256(ByteView ikm, ByteView salt, std::string_view info, std::span<std::uint8_t> out) {
    // Fetched once (see cipher_for in stream.cpp); never freed.
    static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
    if (ctx == nullptr) throw std::runtime_error("HKDF unavailable");
    char digest[] = "SHA256";
    // OpenSSL takes non-const pointers but does not write through them. An empty salt is left
    // out: OpenSSL refuses a zero-length one, and HKDF's default (a block of zeros) is what
    // RFC 5869 means by an empty salt.
    OSSL_PARAM params[5];
    std::size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(ikm.data()), ikm.size());
    if (!salt.empty())
        params[n++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size());
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size());
    params[n] = OSSL_PARAM_construct_end();
    const int rc = EVP_KDF_derive(ctx, out.data(), out.size(), params);
    EVP_KDF_CTX_free(ctx);
    if (rc != 1) throw std::runtime_error("HKDF failed");
}

SecretKey derive_key(const SecretKey& master, std::string_view label) {
    std::array<std::uint8_t, SecretKey::kBytes> out{};
    hkdf_sha256(master.bytes(), {}, label, out);
    auto key = SecretKey::from_bytes(out);
    wipe(out);
    return std::move(key).value();
}

void random_bytes(std::span<std::uint8_t> out) {
    if (!out.empty()) randombytes_buf(out.data(), out.size());  // an empty span may have no data pointer
}

std::string random_hex(std::size_t bytes) {
    Bytes buf(bytes);
    random_bytes(buf);
    return to_hex(buf);
}

std::string to_hex(ByteView bytes) {
    std::string out(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
    out.pop_back();
    return out;
}

Result<Bytes> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return make_error(ErrorKind::invalid_argument, "odd-length hex");
    if (hex.empty()) return Bytes{};  // libsodium must not be handed a null buffer
    Bytes out(hex.size() / 2);
    std::size_t written = 0;
    const char* end = nullptr;
    if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written, &end) != 0 ||
        end != hex.data() + hex.size() || written != out.size())
        return make_error(ErrorKind::invalid_argument, "not hexadecimal");
    return out;
}

std::string to_base64(ByteView bytes) {
    const auto variant = sodium_base64_VARIANT_ORIGINAL;
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
    sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), variant);
    out.pop_back();
    return out;
}

Result<Bytes> from_base64(std::string_view text) {
    Bytes out(text.size() / 4 * 3 + 3);
    std::size_t written = 0;
    const char* end = nullptr;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &written, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text.data() + text.size())
        return make_error(ErrorKind::invalid_argument, "not base64");
    out.resize(written);
    return out;
}

bool equal_constant_time(ByteView a, ByteView b) noexcept {
    return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(std::span<std::uint8_t> bytes) noexcept { sodium_memzero(bytes.data(), bytes.size()); }
void wipe(std::string& text) noexcept {
    sodium_memzero(text.data(), text.size());
    text.clear();
}

struct Sha256::State {
    EVP_MD_CTX* ctx = nullptr;
    ~State() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
    state_->ctx = EVP_MD_CTX_new();
    static const EVP_MD* const sha256 = [] {
        const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        return md != nullptr ? md : EVP_sha256();
    }();
    if (state_->ctx == nullptr || EVP_DigestInit_ex(state_->ctx, sha256, nullptr) != 1)
        throw std::runtime_error("SHA-256 unavailable");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(ByteView data) {
    if (!data.empty()) EVP_DigestUpdate(state_->ctx, data.data(), data.size());
}

Sha256::Digest Sha256::finish() {
    Digest digest{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(state_->ctx, digest.data(), &len);
    return digest;
}

Sha256::Digest Sha256::of(ByteView data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

}  // namespace serambi::crypto
