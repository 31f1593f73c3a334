// The certificate parsers of certs/certs.cpp, on what crosses the boundary: certificate requests
// (principal add --csr, renew), certificates in PEM and in DER (the TLS peer's), CA bundles
// (--import-ca), detached CMS manifest signatures (pull, verify) against the fuzz CA, and CRLs:
// our code only writes them, so the CRL made from revoked serials and reasons as the API accepts
// them is read back with OpenSSL and must list exactly those serials.
// The first byte picks the parser; the rest is DER, wrapped in PEM where the function reads PEM,
// so that mutations land in the ASN.1 and not in its base64.
#include <openssl/x509.h>

#include "certs/certs.h"
#include "fuzz_ca.h"

using namespace serambi;

namespace {

std::string pem(std::string_view label, crypto::ByteView der) {
    const auto b64 = crypto::to_base64(der);
    std::string out = "-----BEGIN " + std::string(label) + "-----\n";
    for (std::size_t at = 0; at < b64.size(); at += 64) out += b64.substr(at, 64) + "\n";
    return out + "-----END " + std::string(label) + "-----\n";
}

// Lines "SERIAL REASON" as the revoke route accepts them: uppercase hex up to 64, a reason name.
void crl(std::string_view text) {
    std::vector<certs::RevokedCertificate> revoked;
    while (!text.empty() && revoked.size() < 32) {
        const auto nl = text.find('\n');
        const auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        const auto space = line.find(' ');
        const auto serial = line.substr(0, space);
        if (serial.empty() || serial.size() > 64 ||
            serial.find_first_not_of("0123456789ABCDEF") != std::string_view::npos)
            continue;
        auto reason = certs::parse_revocation_reason(space == std::string_view::npos ? "" : line.substr(space + 1));
        revoked.push_back({std::string(serial), 1800000000, reason ? *reason : 0});
    }
    static const certs::Authority ca{std::string(fuzz::kCaCert), std::string(fuzz::kCaKey)};
    auto der = certs::make_crl(ca, revoked, 1800000000, 7, 7);
    if (!der) __builtin_trap();  // every serial the API accepts goes on the CRL
    const unsigned char* p = der->data();
    X509_CRL* parsed = d2i_X509_CRL(nullptr, &p, static_cast<long>(der->size()));
    if (parsed == nullptr) __builtin_trap();
    // Duplicates stay duplicates: the CRL holds one entry per revocation (and no list for none).
    const auto* entries = X509_CRL_get_REVOKED(parsed);
    if (static_cast<std::size_t>(entries ? sk_X509_REVOKED_num(entries) : 0) != revoked.size()) __builtin_trap();
    X509_CRL_free(parsed);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (!crypto::initialise()) __builtin_trap();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const crypto::ByteView der(data + 1, size - 1);
    const std::string_view text(reinterpret_cast<const char*>(der.data()), der.size());
    switch (data[0] % 6) {
        case 0:
            (void)certs::read_csr(pem("CERTIFICATE REQUEST", der));
            break;
        case 1: {
            auto from_pem = certs::inspect(pem("CERTIFICATE", der));
            auto from_der = certs::inspect_der(der);
            // The gateway names a TLS peer from DER and a stored certificate from PEM: one reading.
            if (from_pem && from_der &&
                (from_pem->serial_hex != from_der->serial_hex || from_pem->principal_id != from_der->principal_id ||
                 from_pem->fingerprint_sha256_hex != from_der->fingerprint_sha256_hex))
                __builtin_trap();
            break;
        }
        case 2:  // a bundle as an operator's file holds it: PEM text, possibly with junk around
            if (auto certs = certs::split_bundle(text)) (void)certs::issuing_fingerprints(text);
            break;
        case 3:
            (void)certs::check_authority({pem("CERTIFICATE", der), std::string(fuzz::kCaKey)});
            break;
        case 4:
            (void)certs::verify_signature(crypto::as_bytes(fuzz::kSignedContent), der, fuzz::kCaCert);
            break;
        case 5:
            crl(text);
            break;
    }
    return 0;
}
