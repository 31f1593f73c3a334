// The gateway's public-key infrastructure: an ECDSA P-256 certificate authority for the province,
// the certificates it issues (gateway TLS, manifest signing, principals), and detached CMS
// signatures over package manifests that stock `openssl cms -verify` accepts.
//
// Keys and certificates cross this interface as PEM text so that OpenSSL types stay private.
// Private keys this library makes or holds are crypto::SecretBuffers (locked, wiped when they
// go); functions that only read a key take it as a string_view, so a SecretBuffer passes in place.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "crypto/crypto.h"

struct x509_store_ctx_st;  // OpenSSL's X509_STORE_CTX, for TLS verify callbacks only

namespace serambi::certs {

// The common name of the gateway's manifest-signing certificate; verifiers require it.
inline constexpr std::string_view kSigningCommonName = "serambi-manifest-signing";

// What a certificate is for; decides its key usage and extended key usage.
enum class Usage { server, client, signing };

// The CA's key is kept as PEM in guarded memory and parsed only for the moment it signs (a
// certificate, a CRL): an EVP_PKEY kept for the process's lifetime would hold the private scalar
// in OpenSSL's ordinary heap, which is neither locked nor left out of core dumps.
struct Authority {
    std::string cert_pem;
    crypto::SecretBuffer key_pem;
};

struct IssueRequest {
    std::string common_name;
    Usage usage = Usage::client;
    std::vector<std::string> dns_names;
    std::vector<std::string> ip_addresses;
    std::string uri;  // e.g. serambi:principal:dinkes-malut
    int days = 365;
};

struct CertificateInfo {
    std::string common_name;
    std::string principal_id;  // from the serambi:principal: SAN URI, empty if none
    std::string serial_hex;
    std::string fingerprint_sha256_hex;
    std::string not_after;                  // ISO 8601, UTC
    std::vector<std::string> dns_names;     // SAN DNS entries
    std::vector<std::string> ip_addresses;  // SAN IP entries, as text
};

// A new ECDSA P-256 private key, PKCS#8 PEM.
Result<crypto::SecretBuffer> generate_private_key();
Result<std::string> public_key_of(std::string_view private_key_pem);

// A CA's certificate text may be a bundle: the issuing CA's certificate first, then each one above
// it up to a self-signed root. Everything that trusts "the CA" trusts the whole bundle; issuing
// and CRLs use the first certificate and the key that belongs to it.

// A self-signed root CA valid for `days`.
Result<Authority> create_authority(std::string_view name, int days);

// An intermediate CA signed by `root`, valid for `days` (never beyond the root); its cert_pem is
// the bundle (intermediate, then root), so the root's key is needed only here.
Result<Authority> create_intermediate(const Authority& root, std::string_view name, int days);

// The certificates of a PEM bundle, each re-encoded as PEM (anything else in the text is dropped).
Result<std::vector<std::string>> split_bundle(std::string_view pem);

// SHA-256 fingerprints (hex) of the CAs in a bundle whose certificates are ours: the first one, the
// issuing CA whose key the gateway holds. A root or middle CA shared with other CAs (a province's,
// imported) must not make their certificates ours.
std::unordered_set<std::string> issuing_fingerprints(std::string_view bundle_pem);

// For a TLS verify callback at depth 0, once OpenSSL accepted the chain: whether the leaf was
// issued directly by one of `issuers`.
bool leaf_issued_by(x509_store_ctx_st* verified, const std::unordered_set<std::string>& issuers);

struct AuthorityInfo {
    CertificateInfo certificate;   // of the issuing CA
    std::string subject;           // its distinguished name, one line
    std::size_t chain_length = 0;  // certificates in the bundle
};
// Checks a CA brought from elsewhere before the gateway adopts it: a CA certificate allowed to
// sign certificates and CRLs, an unprotected RSA (>= 2048) or ECDSA (P-256, P-384) key that
// belongs to it, and a chain, within the bundle, to a self-signed root valid today.
Result<AuthorityInfo> check_authority(const Authority& ca);

// Issues a certificate for `public_key_pem` signed by `ca`; it ends no later than the CA does.
Result<std::string> issue(const Authority& ca, std::string_view public_key_pem, const IssueRequest& request);

// A certificate signing request (PKCS#10) for the key, with the common name set.
Result<std::string> make_csr(std::string_view private_key_pem, std::string_view common_name);

struct CsrContents {
    std::string common_name;
    std::string public_key_pem;
};
// Reads a CSR and checks its self-signature; only ECDSA P-256 keys are accepted.
Result<CsrContents> read_csr(std::string_view csr_pem);

Result<CertificateInfo> inspect(std::string_view cert_pem);
Result<CertificateInfo> inspect_der(crypto::ByteView der);

// Checks that the certificate chains to the `ca_pem` bundle and that `key_pem` is its private key.
Status check_pair(std::string_view cert_pem, std::string_view key_pem, std::string_view ca_pem);

// A password-protected PKCS#12 file of a key, its certificate and the CA bundle, for importing a
// profile into a browser or an operating system's certificate store. Keys and certificates are
// encrypted with PBES2 (AES-256-CBC, PBKDF2-SHA256) and the file is MACed with HMAC-SHA256, as
// Windows 10 1709 and later, macOS, Chrome and Firefox read it; `legacy` uses 3DES and SHA-1
// instead, for older systems that cannot.
Result<crypto::Bytes> make_pkcs12(std::string_view key_pem, std::string_view cert_pem, std::string_view ca_pem,
                                  std::string_view friendly_name, const crypto::SecretBuffer& password, bool legacy);

// ---- Revocation (RFC 5280 section 5).

// RFC 5280 reason names (keyCompromise, superseded, …) to their CRLReason codes, and back.
Result<int> parse_revocation_reason(std::string_view name);
std::string_view revocation_reason_name(int code) noexcept;

struct RevokedCertificate {
    std::string serial_hex;       // as CertificateInfo::serial_hex
    std::int64_t revoked_at = 0;  // Unix seconds
    int reason = 0;               // CRLReason code
};
// A CRL (v2, DER) signed by the CA, listing `revoked`, with a CRL number and a next update.
Result<crypto::Bytes> make_crl(const Authority& ca, const std::vector<RevokedCertificate>& revoked, std::int64_t now,
                               std::int64_t crl_number, int next_update_days);

// Signs manifests with the gateway's signing certificate. Thread-safe after load.
class ManifestSigner {
  public:
    // `cert_pem` is the signing certificate, optionally followed by the intermediates above it.
    static Result<ManifestSigner> load(std::string_view cert_pem, std::string_view key_pem);
    ManifestSigner(ManifestSigner&&) noexcept;
    ManifestSigner& operator=(ManifestSigner&&) noexcept;
    ~ManifestSigner();

    // A detached CMS SignedData (DER) over `content`, binary mode, signer certificate included.
    Result<crypto::Bytes> sign(crypto::ByteView content) const;

    // Whether signatures are written from a template learned and checked at load, rather than
    // built by CMS_sign each time (the same DER either way; the template is several times cheaper).
    bool signs_from_template() const noexcept;

  private:
    ManifestSigner();
    struct State;
    std::unique_ptr<State> state_;
};

// Verifies a detached CMS signature over `content` by the gateway's signing certificate: one named
// serambi-manifest-signing, fit for signing (S/MIME signing purpose: a TLS client or server
// certificate does not qualify), chaining to `ca_pem`. With a bundle of more than the root, the
// signer must be issued by its first certificate; with a root alone, through any intermediates
// the signature carries (whoever trusts a root alone trusts every CA under it).
Status verify_signature(crypto::ByteView content, crypto::ByteView der_signature, std::string_view ca_pem);

}  // namespace serambi::certs
