#include "certs/certs.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <optional>

#include "certs/signed_data.h"

namespace serambi::certs {
namespace {

template <auto Free>
struct Deleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Deleter<CMS_ContentInfo_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

Error openssl_error(std::string what) {
    ERR_clear_error();  // the queue may name files or internals; never pass it to a caller
    return make_error(ErrorKind::invalid_argument, std::move(what));
}

BioPtr memory_bio(std::string_view text) { return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

std::string bio_to_string(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

// For private keys: the memory BIO wipes its own buffer when freed (BUF_MEM_free clears).
crypto::SecretBuffer bio_to_secret(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return crypto::SecretBuffer::copy_of(std::string_view(data, static_cast<std::size_t>(len)));
}

// Never prompts: OpenSSL's default callback would ask the terminal for a passphrase, which a
// gateway must not do; an encrypted key is simply unreadable here.
int no_passphrase(char*, int, int, void*) { return 0; }

KeyPtr read_private_key(std::string_view pem) {
    auto bio = memory_bio(pem);
    return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
}

KeyPtr read_public_key(std::string_view pem) {
    auto bio = memory_bio(pem);
    return KeyPtr(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

CertPtr read_cert(std::string_view pem) {
    auto bio = memory_bio(pem);
    return CertPtr(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
}

// Every certificate of a PEM bundle, in order; empty if any block is not a certificate.
std::vector<CertPtr> read_bundle(std::string_view pem) {
    std::vector<CertPtr> out;
    auto bio = memory_bio(pem);
    while (CertPtr cert{PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)}) out.push_back(std::move(cert));
    const unsigned long last = ERR_peek_last_error();
    ERR_clear_error();
    // The loop ends at the end of the text, reported as "no start line"; anything else is damage.
    if (ERR_GET_REASON(last) != PEM_R_NO_START_LINE) out.clear();
    return out;
}

StorePtr trust_store(const std::vector<CertPtr>& anchors) {
    StorePtr store(X509_STORE_new());
    for (const auto& cert : anchors)
        if (!store || X509_STORE_add_cert(store.get(), cert.get()) != 1) return nullptr;
    return store;
}

bool is_p256(EVP_PKEY* key) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
    char group[64] = {};
    size_t len = 0;
    return EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len) == 1 &&
           std::string_view(group, len) == "prime256v1";
}

std::string cert_pem(X509* cert) {
    BioPtr out(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(out.get(), cert);
    return bio_to_string(out.get());
}

bool add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
    return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool set_serial_and_validity(X509* cert, int days) {
    unsigned char raw[16];
    crypto::random_bytes(raw);
    raw[0] &= 0x7f;  // positive, and never shorter than needed
    raw[0] |= 0x40;
    BnPtr bn(BN_bin2bn(raw, sizeof raw, nullptr));
    return bn && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) != nullptr &&
           X509_gmtime_adj(X509_getm_notBefore(cert), -300) != nullptr &&
           X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, nullptr) != nullptr;
}

bool set_name(X509_NAME* name, std::string_view cn) {
    const std::string value(cn);
    return X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Serambi"), -1,
                                      -1, 0) == 1 &&
           X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.c_str()),
                                      -1, -1, 0) == 1;
}

// A certificate never outlives its issuer: verifiers would refuse it from that day anyway, and
// an operator reading the end date should see the real one.
bool within_issuer(X509* cert, X509* issuer) {
    if (ASN1_TIME_compare(X509_get0_notAfter(cert), X509_get0_notAfter(issuer)) <= 0) return true;
    return X509_set1_notAfter(cert, X509_get0_notAfter(issuer)) == 1;
}

std::string asn1_time_iso(const ASN1_TIME* t) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return {};
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Result<CertificateInfo> describe(X509* cert) {
    CertificateInfo info;
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
        info.common_name = cn;
    NamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    constexpr std::string_view kPrefix = "serambi:principal:";
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
        if (name->type == GEN_DNS) {
            const auto* dns = name->d.dNSName;
            info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                        static_cast<std::size_t>(ASN1_STRING_length(dns)));
            continue;
        }
        if (name->type == GEN_IPADD) {
            const auto* ip = name->d.iPAddress;
            char text[INET6_ADDRSTRLEN] = {};
            const int len = ASN1_STRING_length(ip);
            if ((len == 4 || len == 16) &&
                inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), text, sizeof text) != nullptr)
                info.ip_addresses.emplace_back(text);
            continue;
        }
        if (name->type != GEN_URI) continue;
        const auto* uri = name->d.uniformResourceIdentifier;
        std::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                              static_cast<std::size_t>(ASN1_STRING_length(uri)));
        if (text.starts_with(kPrefix)) info.principal_id = std::string(text.substr(kPrefix.size()));
    }
    BnPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
    if (!serial) return openssl_error("certificate has no serial number");
    char* hex = BN_bn2hex(serial.get());
    info.serial_hex = hex;
    OPENSSL_free(hex);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    X509_digest(cert, EVP_sha256(), md, &md_len);
    info.fingerprint_sha256_hex = crypto::to_hex({md, md_len});
    info.not_after = asn1_time_iso(X509_get0_notAfter(cert));
    return info;
}

}  // namespace

Result<crypto::SecretBuffer> generate_private_key() {
    KeyPtr key(EVP_EC_gen("P-256"));
    if (!key) return openssl_error("could not generate an ECDSA P-256 key");
    BioPtr out(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return openssl_error("could not encode the private key");
    return bio_to_secret(out.get());
}

Result<std::string> public_key_of(std::string_view private_key_pem) {
    auto key = read_private_key(private_key_pem);
    if (!key) return openssl_error("not a PEM private key");
    BioPtr out(BIO_new(BIO_s_mem()));
    PEM_write_bio_PUBKEY(out.get(), key.get());
    return bio_to_string(out.get());
}

namespace {
// A CA certificate for a new P-256 key, signed by `issuer` (itself when null). An intermediate
// may issue only end-entity certificates (pathlen 0).
Result<Authority> make_authority(std::string_view name, int days, const Authority* issuer) {
    auto key_pem = generate_private_key();
    if (!key_pem) return key_pem.error();
    auto key = read_private_key(*key_pem);
    CertPtr issuer_cert = issuer ? read_cert(issuer->cert_pem) : nullptr;
    KeyPtr issuer_key = issuer ? read_private_key(issuer->key_pem) : nullptr;
    if (issuer && (!issuer_cert || !issuer_key)) return openssl_error("the root CA cannot be read");
    CertPtr cert(X509_new());
    X509* signer_cert = issuer ? issuer_cert.get() : cert.get();
    EVP_PKEY* signer_key = issuer ? issuer_key.get() : key.get();
    if (!cert || !key || X509_set_version(cert.get(), 2) != 1 || !set_serial_and_validity(cert.get(), days) ||
        !set_name(X509_get_subject_name(cert.get()), name) ||
        X509_set_issuer_name(cert.get(), X509_get_subject_name(signer_cert)) != 1 ||
        X509_set_pubkey(cert.get(), key.get()) != 1 ||
        !add_ext(cert.get(), signer_cert, NID_basic_constraints,
                 issuer ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE") ||
        !add_ext(cert.get(), signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_ext(cert.get(), signer_cert, NID_subject_key_identifier, "hash") ||
        (issuer && !add_ext(cert.get(), signer_cert, NID_authority_key_identifier, "keyid:always")) ||
        (issuer && !within_issuer(cert.get(), signer_cert)) || X509_sign(cert.get(), signer_key, EVP_sha256()) == 0)
        return openssl_error("could not create the certificate authority");
    return Authority{cert_pem(cert.get()), std::move(key_pem).value()};
}

std::string describe_key_problem(EVP_PKEY* key) {
    const int type = EVP_PKEY_get_base_id(key);
    if (type == EVP_PKEY_RSA) return EVP_PKEY_get_bits(key) >= 2048 ? "" : "an RSA CA key must have at least 2048 bits";
    if (type == EVP_PKEY_EC) {
        char group[64] = {};
        size_t len = 0;
        EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len);
        const std::string_view g(group, len);
        return g == "prime256v1" || g == "secp384r1" ? "" : "an EC CA key must be on P-256 or P-384";
    }
    return "the CA key must be RSA or ECDSA (P-256, P-384)";
}
}  // namespace

Result<std::vector<std::string>> split_bundle(std::string_view pem) {
    const auto bundle = read_bundle(pem);
    if (bundle.empty()) return make_error(ErrorKind::invalid_argument, "no PEM certificate, or a damaged one");
    std::vector<std::string> out;
    for (const auto& cert : bundle) out.push_back(cert_pem(cert.get()));
    return out;
}

namespace {
std::string fingerprint(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &md_len) != 1) return {};
    return crypto::to_hex({md, md_len});
}

// The bundle's issuing CA: its first certificate, whose key the gateway holds. The ones above it
// (a province's middle CAs, the root) issue for others too and must not count as ours.
std::vector<X509*> issuing_cas(const std::vector<CertPtr>& bundle) {
    if (bundle.empty()) return {};
    return {bundle.front().get()};
}
}  // namespace

std::unordered_set<std::string> issuing_fingerprints(std::string_view bundle_pem) {
    std::unordered_set<std::string> out;
    const auto bundle = read_bundle(bundle_pem);
    for (X509* cert : issuing_cas(bundle)) out.insert(fingerprint(cert));
    return out;
}

bool leaf_issued_by(x509_store_ctx_st* verified, const std::unordered_set<std::string>& issuers) {
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(verified);
    // A leaf that is itself a trust anchor has no issuer above it: not ours to accept.
    if (chain == nullptr || sk_X509_num(chain) < 2) return false;
    const auto issuer = fingerprint(sk_X509_value(chain, 1));
    return !issuer.empty() && issuers.count(issuer) != 0;
}

Result<Authority> create_authority(std::string_view name, int days) { return make_authority(name, days, nullptr); }

Result<Authority> create_intermediate(const Authority& root, std::string_view name, int days) {
    auto made = make_authority(name, days, &root);
    if (!made) return made;
    // The bundle a verifier needs: this CA first, then the root it chains to.
    const auto root_certs = read_bundle(root.cert_pem);
    for (const auto& cert : root_certs) made->cert_pem += cert_pem(cert.get());
    return made;
}

Result<AuthorityInfo> check_authority(const Authority& ca) {
    auto bad = [](std::string m) { return make_error(ErrorKind::invalid_argument, std::move(m)); };
    const auto bundle = read_bundle(ca.cert_pem);
    if (bundle.empty()) return bad("the CA file holds no PEM certificate, or a damaged one");
    // Exactly a path: each certificate a v3 CA, issued and signed by the next, ending at a
    // self-signed root. Anything else in ca.crt would become a trust anchor of its own.
    for (std::size_t i = 0; i < bundle.size(); ++i) {
        X509* cert = bundle[i].get();
        const auto flags = X509_get_extension_flags(cert);
        const std::string which =
            i == 0 ? "the first certificate" : "certificate " + std::to_string(i + 1) + " of the file";
        if (X509_get_version(cert) != 2 || (flags & EXFLAG_BCONS) == 0 || (flags & EXFLAG_CA) == 0)
            return bad(which + " is not a CA certificate (X.509 v3 with basicConstraints CA:TRUE)");
        if ((flags & EXFLAG_KUSAGE) == 0 || (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0)
            return bad(which + "'s key usage must allow keyCertSign");
        X509* next = i + 1 < bundle.size() ? bundle[i + 1].get() : cert;
        if (X509_check_issued(next, cert) != X509_V_OK || X509_verify(cert, X509_get0_pubkey(next)) != 1) {
            ERR_clear_error();
            return bad(i + 1 < bundle.size()
                           ? which +
                                 " is not issued by the one after it; put the CA certificate first, then each "
                                 "certificate above it up to the root, and nothing else"
                           : "the last certificate is not a self-signed root; put the CA certificate first, then each "
                             "certificate above it up to the root");
        }
    }
    X509* cert = bundle.front().get();
    if ((X509_get_key_usage(cert) & KU_CRL_SIGN) == 0)
        return bad("the CA certificate's key usage must allow cRLSign: the gateway signs its CRL with it");
    if (ca.key_pem.view().find("ENCRYPTED") != std::string_view::npos)
        return bad("the CA key is protected by a passphrase; the gateway needs it unprotected (it keeps it 0600)");
    auto key = read_private_key(ca.key_pem);
    if (!key) return openssl_error("the CA key is not a PEM private key");
    if (auto problem = describe_key_problem(key.get()); !problem.empty()) return bad(std::move(problem));
    if (X509_check_private_key(cert, key.get()) != 1)
        return openssl_error("the CA key does not belong to the CA certificate");
    auto store = trust_store(bundle);
    StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!store || !ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr) != 1)
        return openssl_error("cannot check the CA's chain");
    // Security level 2 (112-bit keys, no SHA-1 signatures), as the TLS handshakes will demand.
    X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(ctx.get()), 2);
    if (X509_verify_cert(ctx.get()) != 1) {
        const int err = X509_STORE_CTX_get_error(ctx.get());
        ERR_clear_error();
        return bad(std::string("the CA's chain does not verify today: ") + X509_verify_cert_error_string(err));
    }
    // Everything issued is cut to end with the CA; one about to end would leave nothing usable.
    time_t soon = std::time(nullptr) + 30 * 86400;
    if (X509_cmp_time(X509_get0_notAfter(cert), &soon) < 0)
        return bad("the CA certificate ends within 30 days; every certificate issued would end with it");
    AuthorityInfo info;
    auto described = describe(cert);
    if (!described) return described.error();
    info.certificate = std::move(described).value();
    char subject[512] = {};
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    info.subject = subject;
    info.chain_length = bundle.size();
    return info;
}

Result<std::string> issue(const Authority& ca, std::string_view public_key_pem, const IssueRequest& request) {
    auto ca_cert = read_cert(ca.cert_pem);
    auto ca_key = read_private_key(ca.key_pem);
    if (!ca_cert || !ca_key) return openssl_error("the certificate authority cannot be read");
    auto subject_key = read_public_key(public_key_pem);
    if (!subject_key || !is_p256(subject_key.get()))
        return make_error(ErrorKind::invalid_argument, "the public key must be ECDSA P-256");
    if (request.common_name.empty() || request.common_name.size() > 64)
        return make_error(ErrorKind::invalid_argument, "a common name of 1 to 64 bytes is needed");

    std::string san;
    auto append = [&](std::string_view kind, const std::string& v) {
        if (!san.empty()) san += ',';
        san += kind;
        san += ':';
        san += v;
    };
    for (const auto& d : request.dns_names) append("DNS", d);
    for (const auto& ip : request.ip_addresses) append("IP", ip);
    if (!request.uri.empty()) append("URI", request.uri);

    const char* key_usage = "critical,digitalSignature";
    const char* ext_usage = "clientAuth";
    if (request.usage == Usage::server) ext_usage = "serverAuth";
    if (request.usage == Usage::signing) {
        key_usage = "critical,digitalSignature,nonRepudiation";
        ext_usage = "emailProtection";
    }

    CertPtr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1 || !set_serial_and_validity(cert.get(), request.days) ||
        !set_name(X509_get_subject_name(cert.get()), request.common_name) ||
        X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1 ||
        X509_set_pubkey(cert.get(), subject_key.get()) != 1 ||
        !add_ext(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(cert.get(), ca_cert.get(), NID_key_usage, key_usage) ||
        !add_ext(cert.get(), ca_cert.get(), NID_ext_key_usage, ext_usage) ||
        !add_ext(cert.get(), ca_cert.get(), NID_subject_key_identifier, "hash") ||
        !add_ext(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always") ||
        (!san.empty() && !add_ext(cert.get(), ca_cert.get(), NID_subject_alt_name, san)) ||
        !within_issuer(cert.get(), ca_cert.get()) || X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0)
        return openssl_error("could not issue the certificate");
    return cert_pem(cert.get());
}

Result<std::string> make_csr(std::string_view private_key_pem, std::string_view common_name) {
    auto key = read_private_key(private_key_pem);
    ReqPtr req(X509_REQ_new());
    if (!key || !req || X509_REQ_set_version(req.get(), 0) != 1 ||
        !set_name(X509_REQ_get_subject_name(req.get()), common_name) ||
        X509_REQ_set_pubkey(req.get(), key.get()) != 1 || X509_REQ_sign(req.get(), key.get(), EVP_sha256()) == 0)
        return openssl_error("could not create the certificate request");
    BioPtr out(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_REQ(out.get(), req.get());
    return bio_to_string(out.get());
}

Result<CsrContents> read_csr(std::string_view csr_pem) {
    auto bio = memory_bio(csr_pem);
    ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    if (!req) return openssl_error("not a PEM certificate request");
    EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
    if (key == nullptr || !is_p256(key))
        return make_error(ErrorKind::invalid_argument, "the request's key must be ECDSA P-256");
    if (X509_REQ_verify(req.get(), key) != 1)
        return openssl_error("the certificate request's signature does not verify");
    CsrContents out;
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req.get()), NID_commonName, cn, sizeof cn) > 0)
        out.common_name = cn;
    BioPtr pub(BIO_new(BIO_s_mem()));
    PEM_write_bio_PUBKEY(pub.get(), key);
    out.public_key_pem = bio_to_string(pub.get());
    return out;
}

namespace {
constexpr std::array<std::string_view, 11> kReasonNames = {
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", "",
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};
}  // namespace

Result<int> parse_revocation_reason(std::string_view name) {
    for (std::size_t i = 0; i < kReasonNames.size(); ++i)
        if (!name.empty() && kReasonNames[i] == name) return static_cast<int>(i);
    return make_error(
        ErrorKind::invalid_argument,
        "unknown revocation reason (RFC 5280: unspecified, keyCompromise, cACompromise, affiliationChanged, "
        "superseded, cessationOfOperation, certificateHold, removeFromCRL, privilegeWithdrawn, aACompromise)");
}

std::string_view revocation_reason_name(int code) noexcept {
    return code >= 0 && static_cast<std::size_t>(code) < kReasonNames.size()
               ? kReasonNames[static_cast<std::size_t>(code)]
               : std::string_view("unspecified");
}

Result<crypto::Bytes> make_crl(const Authority& ca, const std::vector<RevokedCertificate>& revoked, std::int64_t now,
                               std::int64_t crl_number, int next_update_days) {
    auto ca_cert = read_cert(ca.cert_pem);
    auto ca_key = read_private_key(ca.key_pem);
    if (!ca_cert || !ca_key) return openssl_error("cannot load the CA");
    std::unique_ptr<X509_CRL, Deleter<X509_CRL_free>> crl(X509_CRL_new());
    using TimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME_free>>;
    TimePtr last(ASN1_TIME_set(nullptr, static_cast<time_t>(now)));
    TimePtr next(ASN1_TIME_set(nullptr, static_cast<time_t>(now + std::int64_t{next_update_days} * 86400)));
    if (!crl || !last || !next || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert.get())) != 1 ||
        X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 || X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1)
        return openssl_error("cannot build the CRL");
    for (const auto& r : revoked) {
        std::unique_ptr<X509_REVOKED, Deleter<X509_REVOKED_free>> entry(X509_REVOKED_new());
        BIGNUM* bn_raw = nullptr;
        if (!entry || BN_hex2bn(&bn_raw, r.serial_hex.c_str()) == 0) {
            BN_free(bn_raw);
            return make_error(ErrorKind::invalid_argument, "a revoked serial is not hex");
        }
        BnPtr bn(bn_raw);
        std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER_free>> serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
        TimePtr when(ASN1_TIME_set(nullptr, static_cast<time_t>(r.revoked_at)));
        std::unique_ptr<ASN1_ENUMERATED, Deleter<ASN1_ENUMERATED_free>> reason(ASN1_ENUMERATED_new());
        if (!serial || !when || !reason || X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
            X509_REVOKED_set_revocationDate(entry.get(), when.get()) != 1 ||
            ASN1_ENUMERATED_set(reason.get(), r.reason) != 1 ||
            X509_REVOKED_add1_ext_i2d(entry.get(), NID_crl_reason, reason.get(), 0, 0) != 1 ||
            X509_CRL_add0_revoked(crl.get(), entry.get()) != 1)
            return openssl_error("cannot add a revoked certificate to the CRL");
        entry.release();  // the CRL owns it now
    }
    std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER_free>> number(ASN1_INTEGER_new());
    if (!number || ASN1_INTEGER_set_int64(number.get(), crl_number) != 1 ||
        X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1)
        return openssl_error("cannot number the CRL");
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca_cert.get(), nullptr, nullptr, crl.get(), 0);
    ExtPtr aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
    if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1) return openssl_error("cannot name the CRL's key");
    if (X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), ca_key.get(), EVP_sha256()) <= 0)
        return openssl_error("cannot sign the CRL");
    const int len = i2d_X509_CRL(crl.get(), nullptr);
    if (len <= 0) return openssl_error("cannot encode the CRL");
    crypto::Bytes der(static_cast<std::size_t>(len));
    unsigned char* p = der.data();
    i2d_X509_CRL(crl.get(), &p);
    return der;
}

Result<crypto::Bytes> make_pkcs12(std::string_view key_pem, std::string_view cert_pem, std::string_view ca_pem,
                                  std::string_view friendly_name, const crypto::SecretBuffer& password, bool legacy) {
    auto key = read_private_key(key_pem);
    if (!key) return openssl_error("the profile's key is not a PEM private key");
    auto cert = read_cert(cert_pem);
    if (!cert) return openssl_error("the profile's certificate is not a PEM certificate");
    if (X509_check_private_key(cert.get(), key.get()) != 1)
        return openssl_error("the profile's key does not belong to its certificate");
    auto bundle = read_bundle(ca_pem);
    if (bundle.empty()) return openssl_error("the profile's CA file holds no PEM certificate");
    // The stack only borrows the certificates, which `bundle` owns.
    struct FreeStack {
        void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_free(s); }
    };
    std::unique_ptr<STACK_OF(X509), FreeStack> chain(sk_X509_new_null());
    if (!chain) return make_error(ErrorKind::internal, "out of memory");
    for (const auto& c : bundle)
        if (sk_X509_push(chain.get(), c.get()) <= 0) return make_error(ErrorKind::internal, "out of memory");
    if (std::find(password.bytes().begin(), password.bytes().end(), std::uint8_t{0}) != password.bytes().end())
        return make_error(ErrorKind::invalid_argument, "the password may not contain a NUL byte");
    // The password is NUL-terminated for OpenSSL in a secret buffer of its own.
    crypto::SecretBuffer pass(password.size() + 1);
    std::copy(password.bytes().begin(), password.bytes().end(), pass.bytes().begin());
    const std::string name(friendly_name);
    const int nid = legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : NID_aes_256_cbc;
    using P12Ptr = std::unique_ptr<PKCS12, Deleter<PKCS12_free>>;
    const auto* text = reinterpret_cast<const char*>(pass.bytes().data());
    // mac_iter -1: no MAC yet; PKCS12_create's own would be HMAC-SHA1.
    P12Ptr p12(PKCS12_create_ex(text, name.c_str(), key.get(), cert.get(), chain.get(), nid, nid,
                                legacy ? 2048 : 600000, -1, 0, nullptr, nullptr));
    if (!p12) return openssl_error("could not build the PKCS#12 file");
    if (PKCS12_set_mac(p12.get(), text, static_cast<int>(password.size()), nullptr, 0, legacy ? 2048 : 600000,
                       legacy ? EVP_sha1() : EVP_sha256()) != 1)
        return openssl_error("could not MAC the PKCS#12 file");
    unsigned char* der = nullptr;
    const int len = i2d_PKCS12(p12.get(), &der);
    if (len <= 0) return openssl_error("could not encode the PKCS#12 file");
    crypto::Bytes out(der, der + len);
    OPENSSL_free(der);
    return out;
}

Result<CertificateInfo> inspect(std::string_view cert_pem_text) {
    auto cert = read_cert(cert_pem_text);
    if (!cert) return openssl_error("not a PEM certificate");
    return describe(cert.get());
}

Result<CertificateInfo> inspect_der(crypto::ByteView der) {
    const unsigned char* p = der.data();
    CertPtr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert) return openssl_error("not a DER certificate");
    return describe(cert.get());
}

Status check_pair(std::string_view cert_pem_text, std::string_view key_pem, std::string_view ca_pem) {
    auto cert = read_cert(cert_pem_text);
    auto key = read_private_key(key_pem);
    auto store = trust_store(read_bundle(ca_pem));
    if (!cert || !key || !store) return openssl_error("certificate, key or CA cannot be read");
    if (X509_check_private_key(cert.get(), key.get()) != 1)
        return openssl_error("the private key does not belong to the certificate");
    StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1 ||
        X509_verify_cert(ctx.get()) != 1)
        return openssl_error("the certificate does not chain to the CA");
    return {};
}

struct ManifestSigner::State {
    CertPtr cert;
    KeyPtr key;
    // Certificates between the signer and the root, carried in every signature so that a
    // verifier holding only the root can build the chain.
    std::unique_ptr<STACK_OF(X509), decltype([](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); })> chain{
        sk_X509_new_null()};
    std::optional<detail::SignedDataTemplate> fast;  // absent: every signature through CMS_sign
};

namespace {

// Without the S/MIME capabilities attribute: a list of ciphers for replying by mail, which no
// verifier of a manifest uses, and whose building (a lookup of each cipher) was a third of the
// cost of signing.
constexpr unsigned kManifestSignFlags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;

std::optional<crypto::Bytes> cms_to_der(CMS_ContentInfo* cms) {
    BioPtr out(BIO_new(BIO_s_mem()));
    if (!out || i2d_CMS_bio(out.get(), cms) != 1) return std::nullopt;
    const std::string der = bio_to_string(out.get());
    return crypto::Bytes(der.begin(), der.end());
}

std::optional<detail::SignedDataTemplate::Digest> sha256_of(crypto::ByteView content) {
    detail::SignedDataTemplate::Digest digest{};
    unsigned int length = 0;
    if (EVP_Digest(content.data(), content.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
        length != digest.size())
        return std::nullopt;
    return digest;
}

// A template for this signer, kept only if what it writes is what CMS_sign writes: the same bytes
// but for the signature itself, at places OpenSSL's own parser agrees on, and a result that
// OpenSSL verifies and encodes back unchanged. Any doubt leaves CMS_sign in charge.
std::optional<detail::SignedDataTemplate> checked_template(X509* cert, EVP_PKEY* key, STACK_OF(X509) * chain) {
    constexpr std::string_view probe = R"({"serambi":"manifest signature template check"})";
    BioPtr in(memory_bio(probe));
    CmsPtr reference(CMS_sign(cert, key, chain, in.get(), kManifestSignFlags));
    auto reference_der = reference ? cms_to_der(reference.get()) : std::nullopt;
    auto learned = reference_der ? detail::SignedDataTemplate::learn(*reference_der, key) : std::nullopt;
    const auto digest = sha256_of(crypto::as_bytes(probe));
    if (!learned || !digest || learned->reference_digest() != *digest) return std::nullopt;

    CMS_SignerInfo* info = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(reference.get()), 0);
    const int time_index = info ? CMS_signed_get_attr_by_NID(info, NID_pkcs9_signingTime, -1) : -1;
    ASN1_TYPE* time = time_index < 0 ? nullptr : X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(info, time_index), 0);
    const auto expected_time = learned->reference_time();
    if (!time || time->type != V_ASN1_UTCTIME ||
        std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(time->value.utctime)),
                         static_cast<std::size_t>(ASN1_STRING_length(time->value.utctime))) !=
            std::string_view(expected_time.data(), expected_time.size()))
        return std::nullopt;

    auto written = learned->sign(expected_time, *digest, key);
    auto relearned = written ? detail::SignedDataTemplate::learn(*written, key) : std::nullopt;
    if (!relearned || !(*relearned == *learned)) return std::nullopt;
    const unsigned char* p = written->data();
    CmsPtr parsed(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(written->size())));
    BioPtr data(BIO_push(BIO_new(BIO_f_buffer()), memory_bio(probe).release()));
    if (!parsed || p != written->data() + written->size() || !data ||
        CMS_verify(parsed.get(), nullptr, nullptr, data.get(), nullptr, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1)
        return std::nullopt;
    auto reencoded = cms_to_der(parsed.get());
    if (!reencoded || *reencoded != *written) return std::nullopt;
    return learned;
}

}  // namespace

ManifestSigner::ManifestSigner() : state_(std::make_unique<State>()) {}
ManifestSigner::ManifestSigner(ManifestSigner&&) noexcept = default;
ManifestSigner& ManifestSigner::operator=(ManifestSigner&&) noexcept = default;
ManifestSigner::~ManifestSigner() = default;

Result<ManifestSigner> ManifestSigner::load(std::string_view cert_pem_text, std::string_view key_pem) {
    ManifestSigner signer;
    auto bundle = read_bundle(cert_pem_text);
    if (!bundle.empty()) signer.state_->cert = std::move(bundle.front());
    for (std::size_t i = 1; i < bundle.size(); ++i) {
        if (!signer.state_->chain || sk_X509_push(signer.state_->chain.get(), bundle[i].get()) <= 0)
            return openssl_error("cannot keep the signing certificate's chain");
        bundle[i].release();  // the stack owns it now
    }
    signer.state_->key = read_private_key(key_pem);
    if (!signer.state_->cert || !signer.state_->key ||
        X509_check_private_key(signer.state_->cert.get(), signer.state_->key.get()) != 1)
        return openssl_error("the signing certificate and key do not match or cannot be read");
    signer.state_->fast =
        checked_template(signer.state_->cert.get(), signer.state_->key.get(), signer.state_->chain.get());
    ERR_clear_error();
    return signer;
}

bool ManifestSigner::signs_from_template() const noexcept { return state_->fast.has_value(); }

Result<crypto::Bytes> ManifestSigner::sign(crypto::ByteView content) const {
    if (state_->fast) {
        // From 2050 the signing time changes form; CMS_sign then writes it.
        const auto time = detail::SignedDataTemplate::utc_time(std::time(nullptr));
        const auto digest = time ? sha256_of(content) : std::nullopt;
        if (auto der = digest ? state_->fast->sign(*time, *digest, state_->key.get()) : std::nullopt)
            return std::move(*der);
        ERR_clear_error();
    }
    BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    CmsPtr cms(CMS_sign(state_->cert.get(), state_->key.get(), state_->chain.get(), in.get(), kManifestSignFlags));
    if (!cms) return make_error(ErrorKind::internal, "signing the manifest failed");
    auto der = cms_to_der(cms.get());
    if (!der) return make_error(ErrorKind::internal, "encoding the signature failed");
    return std::move(*der);
}

Status verify_signature(crypto::ByteView content, crypto::ByteView der_signature, std::string_view ca_pem) {
    auto anchors = read_bundle(ca_pem);
    auto store = trust_store(anchors);
    if (anchors.empty() || !store) return openssl_error("the CA certificate cannot be read");
    const unsigned char* p = der_signature.data();
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der_signature.size())));
    if (!cms) return make_error(ErrorKind::corruption, "the signature is not a DER CMS object");
    // Through a buffer BIO, not the memory BIO itself: given a memory BIO, CMS_verify copies it into
    // one of its own, which it leaks when the signature names a digest it cannot set up (OpenSSL
    // issue 30471, fixed upstream after the 3.0 of Debian 12).
    BioPtr data(BIO_push(BIO_new(BIO_f_buffer()), BIO_new_mem_buf(content.data(), static_cast<int>(content.size()))));
    if (CMS_verify(cms.get(), nullptr, store.get(), data.get(), nullptr, CMS_BINARY) != 1) {
        ERR_clear_error();
        return make_error(ErrorKind::corruption, "the manifest signature does not verify");
    }
    // Chaining to the CA is not enough when the CA's root also anchors other CAs, or issues other
    // S/MIME certificates: the signer must be the gateway's signing certificate, from our CA.
    // CMS_get0_signers takes no references on the certificates: the stack alone is ours to free.
    std::unique_ptr<STACK_OF(X509), decltype([](STACK_OF(X509) * s) { sk_X509_free(s); })> signers(
        CMS_get0_signers(cms.get()));
    if (!signers || sk_X509_num(signers.get()) != 1)
        return make_error(ErrorKind::corruption, "the manifest signature must have exactly one signer");
    X509* signer = sk_X509_value(signers.get(), 0);
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(signer), NID_commonName, cn, sizeof cn) <= 0 ||
        std::string_view(cn) != kSigningCommonName)
        return make_error(ErrorKind::corruption, "the manifest is not signed by the gateway's signing certificate");
    if (anchors.size() > 1) {
        const auto issuers = issuing_cas(anchors);
        const bool ours = std::any_of(issuers.begin(), issuers.end(), [&](X509* ca) {
            return X509_check_issued(ca, signer) == X509_V_OK && X509_verify(signer, X509_get0_pubkey(ca)) == 1;
        });
        ERR_clear_error();
        if (!ours)
            return make_error(ErrorKind::corruption, "the manifest's signing certificate is not from the gateway's CA");
    }
    return {};
}

}  // namespace serambi::certs
