#include <catch2/catch.hpp>

#include "certs/certs.h"

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
    return {*cert, *key};
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
