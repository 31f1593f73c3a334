#include "gateway/tls.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <unordered_set>

#include "gateway/handler.h"

namespace serambi::gateway {
namespace {

// The subject and serial of the client certificate the verify callback saw, kept on the SSL
// object: OpenSSL does not keep a certificate it refused, and the access log wants to name it.
void free_seen_certificate(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
    delete static_cast<std::string*>(ptr);
}
int seen_certificate_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_seen_certificate);
    return index;
}

// Where the SSL_CTX keeps the gateway's RevokedSerials for the verify callback.
int revoked_serials_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

// Where the SSL_CTX keeps the fingerprints of the CAs whose certificates it accepts (from the
// ca.crt it was made with); freed with the context.
using IssuerSet = std::unordered_set<std::string>;
int issuers_index() {
    static const int index = SSL_CTX_get_ex_new_index(
        0, nullptr, nullptr, nullptr,
        [](void*, void* set, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<IssuerSet*>(set); });
    return index;
}

// After OpenSSL has checked the chain, validity and purpose: the certificate must come from our
// issuing CA itself (not from another CA under a shared root), and a revoked client certificate
// fails the handshake itself, so a revoked key cannot even open a connection.
int refuse_revoked(int preverify_ok, X509_STORE_CTX* store) {
    if (X509_STORE_CTX_get_error_depth(store) != 0) return preverify_ok;
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    X509* cert = X509_STORE_CTX_get_current_cert(store);
    if (ssl == nullptr || cert == nullptr) return 0;  // fail closed: nothing to check
    BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
    char* hex = serial ? BN_bn2hex(serial) : nullptr;
    const std::string serial_hex = hex != nullptr ? hex : "";
    OPENSSL_free(hex);
    BN_free(serial);
    if (SSL_get_ex_data(ssl, seen_certificate_index()) == nullptr) {
        char subject[400];
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
        SSL_set_ex_data(ssl, seen_certificate_index(), new std::string(std::string(subject) + " serial=" + serial_hex));
    }
    if (preverify_ok != 1) return preverify_ok;
    const auto* issuers = static_cast<const IssuerSet*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), issuers_index()));
    if (issuers == nullptr || !certs::leaf_issued_by(store, *issuers)) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_UNTRUSTED);
        return 0;
    }
    auto* revoked = static_cast<RevokedSerials*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), revoked_serials_index()));
    if (revoked == nullptr || serial_hex.empty() || revoked->contains(serial_hex)) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REVOKED);
        return 0;
    }
    return 1;
}

Status configure_tls(ssl::context& tls, const Config& config, std::string* loaded_cert) {
    auto cert = storage::read_small_file(config.tls_cert, 1 << 20);
    auto key = crypto::read_private_key_file(config.tls_key, 1 << 20);
    auto ca = storage::read_small_file(config.ca_cert, 1 << 20);
    if (!cert) return cert.error();
    if (!key) return key.error();
    if (!ca) return ca.error();
    SSL_CTX* native = tls.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    // TLS 1.2 only with forward-secret AEAD suites; TLS 1.3 suites are all AEAD.
    SSL_CTX_set_cipher_list(native,
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
                            "ECDHE-ECDSA-AES128-GCM-SHA256");
    static const unsigned char context_id[] = "serambi";
    SSL_CTX_set_session_id_context(native, context_id, sizeof context_id - 1);
    // No resumption: a resumed session presents no certificate, so a certificate revoked since
    // would get past the handshake's check. Every connection is a full handshake.
    SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(native, 0);
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    boost::system::error_code ec;
    tls.use_certificate_chain(net::buffer(*cert), ec);
    if (!ec) tls.use_private_key(net::buffer(key->view().data(), key->size()), ssl::context::pem, ec);
    if (!ec) tls.add_certificate_authority(net::buffer(*ca), ec);
    if (ec) return make_error(ErrorKind::invalid_argument, "the gateway TLS certificate, key or CA cannot be loaded");
    // A client certificate from our CA, fit for client authentication, is required at the handshake.
    tls.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, refuse_revoked);
    SSL_CTX_set_verify_depth(native, 3);
    SSL_CTX_set_purpose(native, X509_PURPOSE_SSL_CLIENT);
    SSL_CTX_set_client_CA_list(native, SSL_load_client_CA_file(config.ca_cert.c_str()));
    auto issuers = std::make_unique<IssuerSet>(certs::issuing_fingerprints(*ca));
    if (issuers->empty() || SSL_CTX_set_ex_data(native, issuers_index(), issuers.get()) != 1)
        return make_error(ErrorKind::invalid_argument, "the CA certificate cannot be read");
    issuers.release();  // the context owns it now
    if (loaded_cert != nullptr) *loaded_cert = std::move(*cert);
    return {};
}

}  // namespace

Status trust_servers(ssl::context& tls, const std::string& ca_file, const std::string& setting) {
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
    boost::system::error_code trust;
    tls.set_default_verify_paths(trust);
    if (!ca_file.empty()) {
        tls.load_verify_file(ca_file, trust);
        if (trust) return make_error(ErrorKind::unavailable, "cannot read " + setting + " " + ca_file);
    }
    tls.set_verify_mode(ssl::verify_peer);
    return {};
}

std::string refused_subject(SSL* ssl) {
    if (X509* peer = SSL_get0_peer_certificate(ssl)) {
        char buffer[512];
        X509_NAME_oneline(X509_get_subject_name(peer), buffer, sizeof buffer);
        return buffer;
    }
    const auto* seen = static_cast<const std::string*>(SSL_get_ex_data(ssl, seen_certificate_index()));
    return seen != nullptr ? *seen : "";
}

std::string refusal_reason(SSL* ssl, const boost::system::error_code& ec) {
    const long result = SSL_get_verify_result(ssl);
    return result == X509_V_OK ? ec.message() : ec.message() + ": " + X509_verify_cert_error_string(result);
}

void identify_peer(Stream& stream, RequestHead& head) {
    X509* peer = SSL_get0_peer_certificate(stream.native_handle());
    if (peer == nullptr) return;
    unsigned char* der = nullptr;
    const int len = i2d_X509(peer, &der);
    if (len <= 0) return;
    auto info = certs::inspect_der({der, static_cast<std::size_t>(len)});
    OPENSSL_free(der);
    if (!info) return;
    head.cert_principal_id = info->principal_id.empty() ? info->common_name : info->principal_id;
    head.cert_serial = info->serial_hex;
    head.cert_fingerprint = info->fingerprint_sha256_hex;
}

Result<std::shared_ptr<ssl::context>> make_tls(const Config& config, RevokedSerials& revoked,
                                               std::string& loaded_cert) {
    auto tls = std::make_shared<ssl::context>(ssl::context::tls_server);
    if (auto s = configure_tls(*tls, config, &loaded_cert); !s) return s.error();
    SSL_CTX_set_ex_data(tls->native_handle(), revoked_serials_index(), &revoked);
    return tls;
}

Result<std::shared_ptr<const certs::ManifestSigner>> load_signer(const Config& config, std::string& loaded_cert) {
    auto cert = storage::read_small_file(config.signing_cert, 1 << 20);
    auto key = crypto::read_private_key_file(config.signing_key, 1 << 20);
    if (!cert) return cert.error();
    if (!key) return key.error();
    auto signer = certs::ManifestSigner::load(*cert, key->view());
    if (!signer) return make_error(signer.error().kind, "signing certificate: " + signer.error().message);
    loaded_cert = std::move(*cert);
    return std::shared_ptr<const certs::ManifestSigner>(
        std::make_shared<certs::ManifestSigner>(std::move(signer).value()));
}

}  // namespace serambi::gateway
