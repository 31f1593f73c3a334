// age v1 (age-encryption.org/v1) with X25519 recipients: a header of recipient stanzas
// and an HMAC, then a 16-byte nonce and the payload in the STREAM of crypto.h (ChaCha20-Poly1305,
// 64 KiB chunks, no associated data). Interoperable with the age and rage tools. Streaming both
// ways: memory does not grow with the payload.
#pragma once

#include "crypto/crypto.h"

namespace serambi::crypto {

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
    // The same file on every call for the same recipient and seed: the file key, the X25519
    // share and the payload nonce are derived from `seed` (a secret unique to what is encrypted
    // and to whom), so that a download of it can be resumed from any byte. Encrypt only the same
    // plaintext under one seed.
    static Result<Encryptor> create_deterministic(const Recipient& recipient, const SecretKey& seed);
    Encryptor(Encryptor&&) noexcept;
    Encryptor& operator=(Encryptor&&) noexcept;
    ~Encryptor();

    const Bytes& header() const noexcept;  // the text header, its HMAC and the payload nonce
    Status update(ByteView plaintext, Bytes& out);
    Status finish(Bytes& out);
    // The payload from chunk `index` on (64 KiB of plaintext each): for a range of a
    // deterministic file, fed the plaintext from byte index × 64 KiB. Only before any input.
    Status start_at_chunk(std::uint64_t index);

  private:
    struct State;
    explicit Encryptor(std::unique_ptr<State> state);
    static Result<Encryptor> make(std::span<const Recipient> recipients, const SecretKey* seed);
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
