#include "certs/signed_data.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

namespace serambi::certs::detail {
namespace {

// DER encodings of the object identifiers and algorithm identifiers the template expects.
constexpr std::uint8_t kSignedDataOid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
// encapContentInfo of a detached signature: id-data and no eContent.
constexpr std::uint8_t kDetachedData[] = {0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
// The contentType attribute, whole: it names id-data and never changes.
constexpr std::uint8_t kContentTypeAttribute[] = {0x30, 0x18, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                  0x0d, 0x01, 0x09, 0x03, 0x31, 0x0b, 0x06, 0x09, 0x2a,
                                                  0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
constexpr std::uint8_t kSigningTimeOid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05};
constexpr std::uint8_t kMessageDigestOid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04};
constexpr std::uint8_t kSha256Oid[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
constexpr std::uint8_t kEcdsaWithSha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};

constexpr std::uint8_t kSequence = 0x30, kSet = 0x31, kInteger = 0x02, kOctetString = 0x04, kOid = 0x06,
                       kUtcTime = 0x17, kContextZero = 0xa0;

// One DER element inside a buffer. The reader is strict (definite, minimal lengths of at most
// four bytes) because what it reads is CMS_sign's own output, which is always so; anything else
// means the layout is not the one the template understands.
struct Element {
    std::uint8_t tag = 0;
    std::size_t begin = 0;    // of the tag
    std::size_t content = 0;  // of the content
    std::size_t end = 0;      // one past the content
};

std::optional<Element> read_element(crypto::ByteView der, std::size_t at, std::size_t limit) {
    if (limit > der.size() || at >= limit || limit - at < 2) return std::nullopt;
    Element e{der[at], at, at + 2, 0};
    std::size_t length = der[at + 1];
    if (length & 0x80) {
        const std::size_t count = length & 0x7f;
        if (count == 0 || count > 4 || limit - e.content < count || der[e.content] == 0) return std::nullopt;
        length = 0;
        for (std::size_t i = 0; i < count; ++i) length = (length << 8) | der[e.content + i];
        if (length < 0x80) return std::nullopt;
        e.content += count;
    }
    if (limit - e.content < length) return std::nullopt;
    e.end = e.content + length;
    return e;
}

// The children of a constructed element, which must fill it exactly.
std::optional<std::vector<Element>> children(crypto::ByteView der, const Element& parent) {
    std::vector<Element> out;
    for (std::size_t at = parent.content; at < parent.end;) {
        auto child = read_element(der, at, parent.end);
        if (!child) return std::nullopt;
        out.push_back(*child);
        at = child->end;
    }
    return out;
}

bool holds(crypto::ByteView der, const Element& e, std::span<const std::uint8_t> expected) {
    return e.end - e.begin == expected.size() && std::equal(expected.begin(), expected.end(), der.begin() + e.begin);
}

std::size_t header_size(std::size_t length) {
    std::size_t size = 2;
    for (std::size_t rest = length; length >= 0x80 && rest != 0; rest >>= 8) ++size;
    return size;
}

std::uint8_t* put_header(std::uint8_t* out, std::uint8_t tag, std::size_t length) {
    *out++ = tag;
    if (length < 0x80) {
        *out++ = static_cast<std::uint8_t>(length);
        return out;
    }
    const std::size_t count = header_size(length) - 2;
    *out++ = static_cast<std::uint8_t>(0x80 | count);
    for (std::size_t i = count; i-- > 0;) *out++ = static_cast<std::uint8_t>(length >> (8 * i));
    return out;
}

bool is_p256(EVP_PKEY* key) {
    char group[32] = {};
    std::size_t group_length = 0;
    return key && EVP_PKEY_is_a(key, "EC") &&
           EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &group_length) == 1 &&
           (std::string_view(group, group_length) == "prime256v1" || std::string_view(group, group_length) == "P-256");
}

using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype([](EVP_MD_CTX* c) { EVP_MD_CTX_free(c); })>;

}  // namespace

std::optional<SignedDataTemplate> SignedDataTemplate::learn(crypto::ByteView der, EVP_PKEY* key) {
    if (!is_p256(key)) return std::nullopt;
    // ContentInfo ::= SEQUENCE { contentType id-signedData, [0] EXPLICIT SignedData }
    auto info = read_element(der, 0, der.size());
    if (!info || info->tag != kSequence || info->end != der.size()) return std::nullopt;
    auto info_parts = children(der, *info);
    if (!info_parts || info_parts->size() != 2 || !holds(der, (*info_parts)[0], kSignedDataOid) ||
        (*info_parts)[1].tag != kContextZero)
        return std::nullopt;
    auto signed_data = read_element(der, (*info_parts)[1].content, (*info_parts)[1].end);
    if (!signed_data || signed_data->tag != kSequence || signed_data->end != (*info_parts)[1].end) return std::nullopt;
    // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo, [0] certificates, signerInfos }
    auto data_parts = children(der, *signed_data);
    if (!data_parts || data_parts->size() < 4 || data_parts->front().tag != kInteger ||
        !holds(der, (*data_parts)[2], kDetachedData) || data_parts->back().tag != kSet)
        return std::nullopt;
    const Element signer_set = data_parts->back();
    auto signers = children(der, signer_set);
    if (!signers || signers->size() != 1 || signers->front().tag != kSequence) return std::nullopt;
    // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature }
    const Element signer = signers->front();
    auto signer_parts = children(der, signer);
    if (!signer_parts || signer_parts->size() != 6) return std::nullopt;
    const auto& digest_algorithm = (*signer_parts)[2];
    const auto& attributes = (*signer_parts)[3];
    const auto& signature = (*signer_parts)[5];
    auto digest_oid = read_element(der, digest_algorithm.content, digest_algorithm.end);
    if ((*signer_parts)[0].tag != kInteger || digest_algorithm.tag != kSequence || !digest_oid ||
        !holds(der, *digest_oid, kSha256Oid) || attributes.tag != kContextZero ||
        !holds(der, (*signer_parts)[4], kEcdsaWithSha256) || signature.tag != kOctetString)
        return std::nullopt;

    SignedDataTemplate t;
    std::size_t time_at = 0, digest_at = 0;
    // Exactly the three attributes CMS_sign writes here. Any other would be copied from the
    // reference into every signature, which is wrong for one whose value changes.
    auto attribute_list = children(der, attributes);
    if (!attribute_list || attribute_list->size() != 3 || !holds(der, attribute_list->front(), kContentTypeAttribute))
        return std::nullopt;
    for (const auto& attribute : std::span(*attribute_list).subspan(1)) {
        auto parts = attribute.tag == kSequence ? children(der, attribute) : std::nullopt;
        if (!parts || parts->size() != 2 || (*parts)[0].tag != kOid || (*parts)[1].tag != kSet) return std::nullopt;
        auto values = children(der, (*parts)[1]);
        if (!values || values->size() != 1) return std::nullopt;
        const Element& value = values->front();
        if (holds(der, (*parts)[0], kSigningTimeOid)) {
            if (time_at || value.tag != kUtcTime || value.end - value.content != std::tuple_size_v<SigningTime>)
                return std::nullopt;
            time_at = value.content;
        } else if (holds(der, (*parts)[0], kMessageDigestOid)) {
            if (digest_at || value.tag != kOctetString || value.end - value.content != std::tuple_size_v<Digest>)
                return std::nullopt;
            digest_at = value.content;
        } else {
            return std::nullopt;
        }
    }
    if (!time_at || !digest_at) return std::nullopt;

    const std::size_t head = signer.content;
    t.content_type_.assign(der.begin() + (*info_parts)[0].begin, der.begin() + (*info_parts)[0].end);
    t.signed_head_.assign(der.begin() + signed_data->content, der.begin() + signer_set.begin);
    t.signer_head_.assign(der.begin() + head, der.begin() + signature.begin);
    t.time_at_ = time_at - head;
    t.digest_at_ = digest_at - head;
    t.attributes_at_ = attributes.begin - head;
    t.attributes_end_ = attributes.end - head;
    return t;
}

std::optional<SignedDataTemplate::SigningTime> SignedDataTemplate::utc_time(std::time_t when) {
    std::tm utc{};
    if (!gmtime_r(&when, &utc) || utc.tm_year < 50 || utc.tm_year >= 150) return std::nullopt;
    char text[16];
    if (std::snprintf(text, sizeof text, "%02d%02d%02d%02d%02d%02dZ", utc.tm_year % 100, utc.tm_mon + 1, utc.tm_mday,
                      utc.tm_hour, utc.tm_min, utc.tm_sec) != 13)
        return std::nullopt;
    SigningTime out;
    std::memcpy(out.data(), text, out.size());
    return out;
}

std::optional<crypto::Bytes> SignedDataTemplate::sign(const SigningTime& time, const Digest& digest,
                                                      EVP_PKEY* key) const {
    // ECDSA P-256 signatures in DER are at most 72 bytes; the output is sized for that, then cut.
    constexpr std::size_t kMaxSignature = 72;
    const std::size_t max_signer = signer_head_.size() + header_size(kMaxSignature) + kMaxSignature;
    const std::size_t max_set = header_size(max_signer) + max_signer;
    const std::size_t max_data = signed_head_.size() + header_size(max_set) + max_set;
    const std::size_t max_explicit = header_size(max_data) + max_data;
    const std::size_t max_info = content_type_.size() + header_size(max_explicit) + max_explicit;
    crypto::Bytes out(header_size(max_info) + max_info);

    // The signer's head is written at the end of the largest possible prefix and filled in place,
    // so that the signed attributes are signed where they lie; the headers in front of it are
    // written once the signature's length is known.
    std::uint8_t* signer_head =
        out.data() + (out.size() - kMaxSignature - header_size(kMaxSignature) - signer_head_.size());
    std::memcpy(signer_head, signer_head_.data(), signer_head_.size());
    std::memcpy(signer_head + time_at_, time.data(), time.size());
    std::memcpy(signer_head + digest_at_, digest.data(), digest.size());

    // The signature covers the signed attributes encoded as the SET OF they are (RFC 5652, 5.4).
    std::uint8_t* attributes = signer_head + attributes_at_;
    const std::uint8_t implicit_tag = attributes[0];
    attributes[0] = kSet;
    std::uint8_t signature[kMaxSignature];
    std::size_t signature_length = sizeof signature;
    MdCtxPtr ctx(EVP_MD_CTX_new());
    const bool signed_ok =
        ctx && EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) == 1 &&
        EVP_DigestSign(ctx.get(), signature, &signature_length, attributes, attributes_end_ - attributes_at_) == 1;
    attributes[0] = implicit_tag;
    if (!signed_ok || signature_length == 0 || signature_length > kMaxSignature) return std::nullopt;

    const std::size_t signer_length = signer_head_.size() + header_size(signature_length) + signature_length;
    const std::size_t set_length = header_size(signer_length) + signer_length;
    const std::size_t data_length = signed_head_.size() + header_size(set_length) + set_length;
    const std::size_t explicit_length = header_size(data_length) + data_length;
    const std::size_t info_length = content_type_.size() + header_size(explicit_length) + explicit_length;
    const std::size_t total = header_size(info_length) + info_length;

    // Everything before the signer's content, written just in front of it; then the signature after.
    // The signature is the last element of every enclosing one, so the signer's content ends the
    // whole encoding.
    const std::size_t prefix = total - signer_length;
    std::uint8_t* begin = signer_head - prefix;
    std::uint8_t* p = begin;
    p = put_header(p, kSequence, info_length);
    p = std::copy(content_type_.begin(), content_type_.end(), p);
    p = put_header(p, kContextZero, explicit_length);
    p = put_header(p, kSequence, data_length);
    p = std::copy(signed_head_.begin(), signed_head_.end(), p);
    p = put_header(p, kSet, set_length);
    p = put_header(p, kSequence, signer_length);
    if (p != signer_head) return std::nullopt;
    p += signer_head_.size();
    p = put_header(p, kOctetString, signature_length);
    p = std::copy(signature, signature + signature_length, p);

    const auto offset = static_cast<std::ptrdiff_t>(begin - out.data());
    const auto length = static_cast<std::ptrdiff_t>(p - begin);
    if (static_cast<std::size_t>(length) != total) return std::nullopt;
    out.erase(out.begin(), out.begin() + offset);
    out.resize(total);
    return out;
}

SignedDataTemplate::SigningTime SignedDataTemplate::reference_time() const {
    SigningTime out;
    std::memcpy(out.data(), signer_head_.data() + time_at_, out.size());
    return out;
}

SignedDataTemplate::Digest SignedDataTemplate::reference_digest() const {
    Digest out;
    std::memcpy(out.data(), signer_head_.data() + digest_at_, out.size());
    return out;
}

}  // namespace serambi::certs::detail
