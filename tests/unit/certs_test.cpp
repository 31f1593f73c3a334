#include "certs/certs.h"

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <map>
#include <memory>
#include <type_traits>

#include "certs/signed_data.h"

using namespace serambi;
using namespace serambi::certs;

namespace {

struct Issued {
    std::string cert;
    std::string key;
};

Issued issue_for(const Authority& ca, const std::string& cn, Usage usage, const std::string& uri = {}) {
    auto key = generate_private_key();
    REQUIRE(key.ok());
    auto pub = public_key_of(*key);
    REQUIRE(pub.ok());
    IssueRequest request;
    request.common_name = cn;
    request.usage = usage;
    request.uri = uri;
    auto cert = issue(ca, *pub, request);
    REQUIRE(cert.ok());
    return {*cert, std::string(key->view())};
}

template <auto Free>
struct Freer {
    template <class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};
using Bio = std::unique_ptr<BIO, Freer<BIO_free_all>>;
using Cms = std::unique_ptr<CMS_ContentInfo, Freer<CMS_ContentInfo_free>>;
using Key = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Freer<X509_free>>;

Bio text_bio(std::string_view text) { return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

std::string pem_of(EVP_PKEY* key, X509* cert) {
    Bio out(BIO_new(BIO_s_mem()));
    REQUIRE((key ? PEM_write_bio_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
                 : PEM_write_bio_X509(out.get(), cert)) == 1);
    char* data = nullptr;
    const long length = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

// What OpenSSL's own CMS_sign writes for this signer, with the flags the gateway uses.
crypto::Bytes cms_sign(const Issued& signer, std::string_view content) {
    Cert cert(PEM_read_bio_X509(text_bio(signer.cert).get(), nullptr, nullptr, nullptr));
    Key key(PEM_read_bio_PrivateKey(text_bio(signer.key).get(), nullptr, nullptr, nullptr));
    REQUIRE(cert);
    REQUIRE(key);
    Cms cms(
        CMS_sign(cert.get(), key.get(), nullptr, text_bio(content).get(), CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP));
    REQUIRE(cms);
    unsigned char* der = nullptr;
    const int length = i2d_CMS_ContentInfo(cms.get(), &der);
    REQUIRE(length > 0);
    crypto::Bytes out(der, der + length);
    OPENSSL_free(der);
    return out;
}

// The signature parsed by OpenSSL and encoded again: equal only for canonical DER.
crypto::Bytes reencoded(const crypto::Bytes& der) {
    const unsigned char* p = der.data();
    Cms cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    if (!cms || p != der.data() + der.size()) return {};
    unsigned char* out = nullptr;
    const int length = i2d_CMS_ContentInfo(cms.get(), &out);
    if (length <= 0) return {};
    crypto::Bytes bytes(out, out + length);
    OPENSSL_free(out);
    return bytes;
}

}  // namespace

TEST_CASE("an issued principal certificate chains to its CA and names the principal") {
    auto ca = create_authority("Serambi CA Test", 10);
    REQUIRE(ca.ok());
    const auto issued = issue_for(*ca, "dinkes-malut", Usage::client, "serambi:principal:dinkes-malut");
    CHECK(check_pair(issued.cert, issued.key, ca->cert_pem).ok());
    auto info = inspect(issued.cert);
    REQUIRE(info.ok());
    CHECK(info->common_name == "dinkes-malut");
    CHECK(info->principal_id == "dinkes-malut");
    CHECK(info->serial_hex.size() == 32);
    CHECK(info->fingerprint_sha256_hex.size() == 64);

    auto other_ca = create_authority("Another CA", 10);
    REQUIRE(other_ca.ok());
    CHECK_FALSE(check_pair(issued.cert, issued.key, other_ca->cert_pem).ok());
    const auto stranger = issue_for(*other_ca, "x", Usage::client);
    CHECK_FALSE(check_pair(issued.cert, stranger.key, ca->cert_pem).ok());
}

TEST_CASE("a certificate request carries its key and common name, and forgeries are refused") {
    auto key = generate_private_key();
    REQUIRE(key.ok());
    auto csr = make_csr(*key, "bi-malut");
    REQUIRE(csr.ok());
    auto contents = read_csr(*csr);
    REQUIRE(contents.ok());
    CHECK(contents->common_name == "bi-malut");
    CHECK(contents->public_key_pem == public_key_of(*key).value());
    CHECK_FALSE(read_csr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n").ok());
    CHECK_FALSE(read_csr("not pem").ok());
}

TEST_CASE("a manifest signature verifies with the CA and fails for other content or another CA") {
    auto ca = create_authority("Serambi CA Test", 10);
    REQUIRE(ca.ok());
    const auto signing = issue_for(*ca, "serambi-manifest-signing", Usage::signing);
    auto signer = ManifestSigner::load(signing.cert, signing.key);
    REQUIRE(signer.ok());
    const std::string manifest = R"({"id":"abc","size":3})";
    auto signature = signer->sign(crypto::as_bytes(manifest));
    REQUIRE(signature.ok());
    CHECK(verify_signature(crypto::as_bytes(manifest), *signature, ca->cert_pem).ok());
    CHECK_FALSE(verify_signature(crypto::as_bytes(R"({"id":"abc","size":4})"), *signature, ca->cert_pem).ok());
    auto other_ca = create_authority("Another CA", 10);
    CHECK_FALSE(verify_signature(crypto::as_bytes(manifest), *signature, other_ca->cert_pem).ok());
    crypto::Bytes garbage(*signature);
    garbage.resize(garbage.size() / 2);
    CHECK_FALSE(verify_signature(crypto::as_bytes(manifest), garbage, ca->cert_pem).ok());
}

TEST_CASE("a principal's TLS client certificate cannot pass for the gateway's signing certificate") {
    auto ca = create_authority("Serambi CA Test", 10);
    REQUIRE(ca.ok());
    const auto client = issue_for(*ca, "dinkes-malut", Usage::client, "serambi:principal:dinkes-malut");
    auto signer = ManifestSigner::load(client.cert, client.key);
    REQUIRE(signer.ok());
    const std::string manifest = R"({"id":"forged"})";
    auto signature = signer->sign(crypto::as_bytes(manifest));
    REQUIRE(signature.ok());
    CHECK_FALSE(verify_signature(crypto::as_bytes(manifest), *signature, ca->cert_pem).ok());
}

TEST_CASE("a signer refuses a key that does not match its certificate") {
    auto ca = create_authority("Serambi CA Test", 10);
    REQUIRE(ca.ok());
    const auto a = issue_for(*ca, "a", Usage::signing);
    const auto b = issue_for(*ca, "b", Usage::signing);
    CHECK_FALSE(ManifestSigner::load(a.cert, b.key).ok());
}

TEST_CASE("an intermediate CA issues certificates that chain to its root, and signatures carry the intermediate") {
    auto root = create_authority("Serambi Root CA Test", 100);
    REQUIRE(root.ok());
    auto intermediate = create_intermediate(*root, "Serambi CA Test", 50);
    REQUIRE(intermediate.ok());
    auto parts = split_bundle(intermediate->cert_pem);
    REQUIRE(parts.ok());
    REQUIRE(parts->size() == 2);
    CHECK((*parts)[1] == *split_bundle(root->cert_pem).value().begin());
    CHECK(inspect((*parts)[0])->common_name == "Serambi CA Test");

    const auto leaf = issue_for(*intermediate, "dinkes-malut", Usage::client);
    CHECK(check_pair(leaf.cert, leaf.key, intermediate->cert_pem).ok());
    CHECK_FALSE(check_pair(leaf.cert, leaf.key, root->cert_pem).ok());  // the root alone lacks the link
    CHECK_FALSE(check_pair(leaf.cert, leaf.key, (*parts)[0]).ok());     // the intermediate alone is no anchor

    // The signer carries the intermediate, so a verifier holding only the root can build the path.
    const auto signing = issue_for(*intermediate, "serambi-manifest-signing", Usage::signing);
    auto signer = ManifestSigner::load(signing.cert + (*parts)[0], signing.key);
    REQUIRE(signer.ok());
    const std::string manifest = R"({"sha256":"00"})";
    auto signature = signer->sign(crypto::as_bytes(manifest));
    REQUIRE(signature.ok());
    CHECK(verify_signature(crypto::as_bytes(manifest), *signature, root->cert_pem).ok());
    auto bare = ManifestSigner::load(signing.cert, signing.key);
    REQUIRE(bare.ok());
    auto bare_signature = bare->sign(crypto::as_bytes(manifest));
    REQUIRE(bare_signature.ok());
    CHECK_FALSE(verify_signature(crypto::as_bytes(manifest), *bare_signature, root->cert_pem).ok());
    CHECK(verify_signature(crypto::as_bytes(manifest), *bare_signature, intermediate->cert_pem).ok());
}

TEST_CASE("no certificate outlives the CA that issued it") {
    auto root = create_authority("Serambi Root CA Test", 100);
    REQUIRE(root.ok());
    auto intermediate = create_intermediate(*root, "Serambi CA Test", 500);  // asks beyond the root
    REQUIRE(intermediate.ok());
    const auto root_end = inspect(root->cert_pem)->not_after;
    CHECK(inspect(intermediate->cert_pem)->not_after == root_end);
    auto short_ca = create_authority("Serambi CA Short", 30);
    REQUIRE(short_ca.ok());
    auto key = generate_private_key();
    REQUIRE(key.ok());
    auto pub = public_key_of(*key);
    REQUIRE(pub.ok());
    IssueRequest request;
    request.common_name = "dinkes-malut";
    request.days = 365;
    auto cert = issue(*short_ca, *pub, request);
    REQUIRE(cert.ok());
    CHECK(inspect(*cert)->not_after == inspect(short_ca->cert_pem)->not_after);
    request.days = 10;
    cert = issue(*short_ca, *pub, request);
    REQUIRE(cert.ok());
    CHECK(inspect(*cert)->not_after < inspect(short_ca->cert_pem)->not_after);
}

TEST_CASE("a CA brought from elsewhere is checked before it is adopted") {
    auto root = create_authority("Root", 100);
    REQUIRE(root.ok());
    auto intermediate = create_intermediate(*root, "Issuing", 50);
    REQUIRE(intermediate.ok());
    auto info = check_authority(*intermediate);
    REQUIRE(info.ok());
    CHECK(info->chain_length == 2);
    CHECK(info->certificate.common_name == "Issuing");
    CHECK(check_authority(*root).ok());

    const Authority first_only{split_bundle(intermediate->cert_pem).value().front(), intermediate->key_pem.copy()};
    auto missing_root = check_authority(first_only);
    REQUIRE_FALSE(missing_root.ok());
    CHECK(missing_root.error().message.find("self-signed root") != std::string::npos);

    const Authority wrong_key{intermediate->cert_pem, root->key_pem.copy()};
    REQUIRE_FALSE(check_authority(wrong_key).ok());
    CHECK(check_authority(wrong_key).error().message.find("does not belong") != std::string::npos);

    const auto leaf = issue_for(*intermediate, "not-a-ca", Usage::client);
    auto not_ca = check_authority({leaf.cert + intermediate->cert_pem, crypto::SecretBuffer::copy_of(leaf.key)});
    REQUIRE_FALSE(not_ca.ok());
    CHECK(not_ca.error().message.find("not a CA") != std::string::npos);

    CHECK_FALSE(check_authority({"", root->key_pem.copy()}).ok());
    CHECK_FALSE(
        check_authority(
            {root->cert_pem, crypto::SecretBuffer::copy_of(
                                 "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")})
            .ok());
}

TEST_CASE("split_bundle keeps certificates only and refuses damaged text") {
    auto ca = create_authority("Serambi CA Test", 10);
    REQUIRE(ca.ok());
    auto parts = split_bundle(ca->cert_pem + std::string(ca->key_pem.view()) + ca->cert_pem);
    REQUIRE(parts.ok());
    CHECK(parts->size() == 2);
    for (const auto& p : *parts) CHECK(p.find("PRIVATE KEY") == std::string::npos);
    CHECK_FALSE(split_bundle("").ok());
    CHECK_FALSE(split_bundle("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n").ok());
}

TEST_CASE("a manifest verifies only with the gateway's signing certificate from the gateway's own CA") {
    auto root = create_authority("Province Root", 100);
    REQUIRE(root.ok());
    auto ours = create_intermediate(*root, "Serambi CA", 50);
    auto sibling = create_intermediate(*root, "Another CA under the same root", 50);
    REQUIRE(ours.ok());
    REQUIRE(sibling.ok());
    const std::string manifest = R"({"sha256":"11"})";
    auto sign_with = [&](const Authority& ca, const std::string& cn) {
        const auto cert = issue_for(ca, cn, Usage::signing);
        auto signer = ManifestSigner::load(cert.cert + split_bundle(ca.cert_pem).value().front(), cert.key);
        REQUIRE(signer.ok());
        return signer->sign(crypto::as_bytes(manifest)).value();
    };
    CHECK(verify_signature(crypto::as_bytes(manifest), sign_with(*ours, "serambi-manifest-signing"), ours->cert_pem)
              .ok());
    // A staff member's S/MIME certificate from our own CA is not the gateway's.
    auto staff = verify_signature(crypto::as_bytes(manifest), sign_with(*ours, "pegawai-diskominfo"), ours->cert_pem);
    REQUIRE_FALSE(staff.ok());
    CHECK(staff.error().message.find("not signed by the gateway's signing certificate") != std::string::npos);
    // The right name from another CA under the same root is refused with our bundle...
    const auto forged = sign_with(*sibling, "serambi-manifest-signing");
    auto refused = verify_signature(crypto::as_bytes(manifest), forged, ours->cert_pem);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("not from the gateway's CA") != std::string::npos);
    // ...and accepted by whoever chooses to trust the root alone: that trusts every CA under it.
    CHECK(verify_signature(crypto::as_bytes(manifest), forged, root->cert_pem).ok());
}

TEST_CASE("a CA bundle must be exactly a path to its root") {
    auto root = create_authority("Root", 100);
    auto intermediate = create_intermediate(*root, "Issuing", 50);
    auto stranger = create_authority("Unrelated Root", 100);
    REQUIRE(root.ok());
    REQUIRE(intermediate.ok());
    REQUIRE(stranger.ok());
    const auto parts = split_bundle(intermediate->cert_pem).value();
    auto extra = check_authority({intermediate->cert_pem + stranger->cert_pem, intermediate->key_pem.copy()});
    REQUIRE_FALSE(extra.ok());
    auto reversed = check_authority({parts[1] + parts[0], intermediate->key_pem.copy()});
    REQUIRE_FALSE(reversed.ok());
    const auto leaf = issue_for(*intermediate, "self", Usage::client);
    auto with_leaf = check_authority({intermediate->cert_pem + leaf.cert, intermediate->key_pem.copy()});
    REQUIRE_FALSE(with_leaf.ok());
    CHECK(with_leaf.error().message.find("certificate 2 of the file is not issued by the one after it") !=
          std::string::npos);
    auto leaf_first = check_authority({leaf.cert + intermediate->cert_pem, crypto::SecretBuffer::copy_of(leaf.key)});
    REQUIRE_FALSE(leaf_first.ok());
    CHECK(leaf_first.error().message.find("not a CA certificate") != std::string::npos);
    auto soon = create_authority("Ends soon", 20);
    REQUIRE(soon.ok());
    auto ending = check_authority(*soon);
    REQUIRE_FALSE(ending.ok());
    CHECK(ending.error().message.find("within 30 days") != std::string::npos);
}

TEST_CASE("the issuing CA of a bundle is its first certificate only") {
    auto root = create_authority("Root", 100);
    auto intermediate = create_intermediate(*root, "Issuing", 50);
    REQUIRE(root.ok());
    REQUIRE(intermediate.ok());
    const auto parts = split_bundle(intermediate->cert_pem).value();
    const auto issuing = issuing_fingerprints(intermediate->cert_pem);
    REQUIRE(issuing.size() == 1);
    CHECK(issuing.count(inspect(parts[0])->fingerprint_sha256_hex) == 1);
    const auto alone = issuing_fingerprints(root->cert_pem);
    REQUIRE(alone.size() == 1);
    CHECK(alone.count(inspect(root->cert_pem)->fingerprint_sha256_hex) == 1);
    // A middle CA on the path (a province's) is not ours: only the first certificate is.
    auto middle = create_authority("Middle", 100);
    REQUIRE(middle.ok());
    const auto three = issuing_fingerprints(parts[0] + middle->cert_pem + root->cert_pem);
    REQUIRE(three.size() == 1);
    CHECK(three.count(inspect(parts[0])->fingerprint_sha256_hex) == 1);
    CHECK(issuing_fingerprints("").empty());
}

TEST_CASE("the CA key is held in guarded memory and cannot be copied by accident") {
    static_assert(std::is_same_v<decltype(Authority::key_pem), crypto::SecretBuffer>);
    static_assert(!std::is_copy_constructible_v<Authority>);
    auto ca = create_authority("Serambi CA Test", 100);
    REQUIRE(ca.ok());
    CHECK(ca->key_pem.view().starts_with("-----BEGIN PRIVATE KEY-----"));
    // Moved into the handler's services, the key goes with it and nothing is left behind.
    Authority held = std::move(ca).value();
    CHECK(check_authority(held).ok());
    const auto issued = issue_for(held, "dinkes-malut", Usage::client);
    CHECK(check_pair(issued.cert, issued.key, held.cert_pem).ok());
}

TEST_CASE("manifest signatures are written from a template to the very DER CMS_sign writes") {
    auto ca = create_authority("Serambi CA Test", 10);
    REQUIRE(ca.ok());
    const auto signing = issue_for(*ca, "serambi-manifest-signing", Usage::signing);
    auto signer = ManifestSigner::load(signing.cert, signing.key);
    REQUIRE(signer.ok());
    REQUIRE(signer->signs_from_template());

    // ECDSA signatures are 70 to 72 bytes in DER, and 69 or fewer about once in 128: each length
    // changes every enclosing length, so signatures are written until four lengths have been met,
    // and one of each is checked.
    std::map<std::size_t, std::pair<std::string, crypto::Bytes>> by_size;
    for (int i = 0; i < 5000 && by_size.size() < 4; ++i) {
        const std::string manifest = R"({"id":")" + std::to_string(i) + R"(","size":)" + std::to_string(i * 7) + "}";
        auto signature = signer->sign(crypto::as_bytes(manifest));
        REQUIRE(signature.ok());
        by_size.try_emplace(signature->size(), manifest, *signature);
    }
    CHECK(by_size.size() >= 4);
    for (const auto& [size, signed_manifest] : by_size) {
        const auto& [manifest, signature] = signed_manifest;
        CAPTURE(size);
        CHECK(verify_signature(crypto::as_bytes(manifest), signature, ca->cert_pem).ok());
        CHECK_FALSE(verify_signature(crypto::as_bytes(manifest + " "), signature, ca->cert_pem).ok());
        CHECK(reencoded(signature) == signature);
    }

    // Byte for byte what CMS_sign writes, but for the ECDSA signature: the same layout and fixed
    // bytes, read back by the template's own reader (a signing time that ticked over in between
    // is read again).
    const std::string manifest = R"({"id":"compare"})";
    std::optional<detail::SignedDataTemplate> theirs, ours;
    Key key(PEM_read_bio_PrivateKey(text_bio(signing.key).get(), nullptr, nullptr, nullptr));
    for (int attempt = 0; attempt < 5; ++attempt) {
        auto mine = signer->sign(crypto::as_bytes(manifest));
        REQUIRE(mine.ok());
        const auto reference = cms_sign(signing, manifest);
        theirs = detail::SignedDataTemplate::learn(reference, key.get());
        ours = detail::SignedDataTemplate::learn(*mine, key.get());
        REQUIRE(theirs.has_value());
        REQUIRE(ours.has_value());
        if (theirs->reference_time() == ours->reference_time()) break;
    }
    CHECK(*theirs == *ours);
}

TEST_CASE("a template is learned only from the shape it understands") {
    auto ca = create_authority("Serambi CA Test", 10);
    REQUIRE(ca.ok());
    const auto signing = issue_for(*ca, "serambi-manifest-signing", Usage::signing);
    Key key(PEM_read_bio_PrivateKey(text_bio(signing.key).get(), nullptr, nullptr, nullptr));
    REQUIRE(key);
    const auto reference = cms_sign(signing, "content");
    REQUIRE(detail::SignedDataTemplate::learn(reference, key.get()).has_value());
    CHECK_FALSE(detail::SignedDataTemplate::learn(reference, nullptr));
    // Every cut, and every byte changed: refused or read as some layout, never read out of bounds.
    for (std::size_t cut = 0; cut < reference.size(); ++cut)
        CHECK_FALSE(detail::SignedDataTemplate::learn(crypto::ByteView(reference.data(), cut), key.get()));
    auto longer = reference;
    longer.push_back(0);
    CHECK_FALSE(detail::SignedDataTemplate::learn(longer, key.get()));
    for (std::size_t at = 0; at < reference.size(); ++at) {
        auto damaged = reference;
        damaged[at] ^= 0x01;
        (void)detail::SignedDataTemplate::learn(damaged, key.get());
    }
    // A P-384 key: CMS_sign writes another algorithm, and the template stays out of it.
    Key p384(EVP_EC_gen("secp384r1"));
    REQUIRE(p384);
    CHECK_FALSE(detail::SignedDataTemplate::learn(reference, p384.get()));
}

TEST_CASE("a signer without a P-256 key signs through CMS_sign") {
    Key key(EVP_EC_gen("secp384r1"));
    REQUIRE(key);
    Cert cert(X509_new());
    REQUIRE(cert);
    X509_NAME* name = X509_get_subject_name(cert.get());
    REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>("serambi-manifest-signing"), -1, -1,
                                       0) == 1);
    REQUIRE(X509_set_issuer_name(cert.get(), name) == 1);
    REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7) == 1);
    REQUIRE(X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0));
    REQUIRE(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600));
    REQUIRE(X509_set_pubkey(cert.get(), key.get()) == 1);
    REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha384()) > 0);

    auto signer = ManifestSigner::load(pem_of(nullptr, cert.get()), pem_of(key.get(), nullptr));
    REQUIRE(signer.ok());
    CHECK_FALSE(signer->signs_from_template());
    const std::string manifest = R"({"id":"p384"})";
    auto signature = signer->sign(crypto::as_bytes(manifest));
    REQUIRE(signature.ok());
    const unsigned char* p = signature->data();
    Cms cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(signature->size())));
    REQUIRE(cms);
    CHECK(CMS_verify(cms.get(), nullptr, nullptr, text_bio(manifest).get(), nullptr,
                     CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1);
    CHECK(CMS_verify(cms.get(), nullptr, nullptr, text_bio(manifest + "x").get(), nullptr,
                     CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1);
}

TEST_CASE("the template's signing time is the UTCTime CMS writes, and gives way from 2050") {
    using T = detail::SignedDataTemplate;
    auto text = [](const std::optional<T::SigningTime>& t) { return t ? std::string(t->data(), t->size()) : "-"; };
    CHECK(text(T::utc_time(0)) == "700101000000Z");
    CHECK(text(T::utc_time(2524607999)) == "491231235959Z");  // 2049-12-31 23:59:59
    CHECK(text(T::utc_time(1796342400)) == "261204000000Z");  // 2026-12-04
    CHECK_FALSE(T::utc_time(2524608000));                     // 2050-01-01: a GeneralizedTime
}
