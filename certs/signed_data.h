// Internal: a manifest signature written from a template instead of through CMS_sign. Every
// manifest signature the gateway writes has the same DER but for three parts (the signing time,
// the digest of the manifest, the ECDSA signature), and building it with CMS_sign every time
// (attribute objects, certificate copies, a fresh encoder) cost several times the ECDSA signature
// itself on every push. The template is learned from one CMS_sign output and used only when what
// it writes has been checked against that reference; otherwise the caller keeps CMS_sign.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <ctime>
#include <optional>

#include "crypto/crypto.h"

namespace serambi::certs::detail {

class SignedDataTemplate {
  public:
    using SigningTime = std::array<char, 13>;  // UTCTime: YYMMDDHHMMSSZ
    using Digest = std::array<std::uint8_t, 32>;

    // The layout of `reference`, a detached SignedData that CMS_sign wrote with `key`: one signer
    // using ECDSA P-256 with SHA-256, a UTCTime signing time and no unsigned attributes. Nothing
    // when the reference or the key is of any other shape.
    static std::optional<SignedDataTemplate> learn(crypto::ByteView reference, EVP_PKEY* key);

    // The UTCTime CMS_sign writes for `when`; nothing from 2050 on, where CMS writes a
    // GeneralizedTime of another length.
    static std::optional<SigningTime> utc_time(std::time_t when);

    // The signature with `time` and `digest` filled in and the signed attributes signed by `key`;
    // nothing if signing fails.
    std::optional<crypto::Bytes> sign(const SigningTime& time, const Digest& digest, EVP_PKEY* key) const;

    // The reference's own signing time and digest, read from where the template fills them in, so
    // that a check can compare them with what OpenSSL's own parser reads.
    SigningTime reference_time() const;
    Digest reference_digest() const;

    // Same layout and same fixed bytes: true for a reference and a signature written from its
    // template with the reference's own time and digest.
    bool operator==(const SignedDataTemplate&) const = default;

  private:
    SignedDataTemplate() = default;

    crypto::Bytes content_type_;  // the ContentInfo's contentType, id-signedData, as a whole TLV
    crypto::Bytes signed_head_;   // SignedData's content before its signerInfos
    crypto::Bytes signer_head_;   // SignerInfo's content before its signature
    std::size_t time_at_ = 0;     // offsets into signer_head_
    std::size_t digest_at_ = 0;
    std::size_t attributes_at_ = 0;  // the [0] IMPLICIT signedAttrs TLV
    std::size_t attributes_end_ = 0;
};

}  // namespace serambi::certs::detail
