// Bech32 as age spells keys: recipients (age1…, from the API, the CLI and the database),
// identities (AGE-SECRET-KEY-1…) and identity files as age-keygen writes them. What parses has
// exactly one spelling, so a stored recipient compares equal to what a client sends.
#include <algorithm>

#include "crypto/age.h"
#include "crypto/crypto.h"
#include "gateway/handler.h"

using namespace serambi::crypto;

namespace {
std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
    return s;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (!initialise()) __builtin_trap();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 3) {
        case 0:
            if (auto r = age::parse_recipient(text)) {
                if (age::encode_recipient(*r) != text) __builtin_trap();
                if (serambi::gateway::canonical_recipient(text).value() != text) __builtin_trap();
            }
            break;
        case 1:
            if (auto id = age::Identity::parse(text)) {
                if (id->encode() != upper(text)) __builtin_trap();
                if (!age::parse_recipient(age::encode_recipient(id->recipient()))) __builtin_trap();
            }
            break;
        case 2:
            (void)age::parse_identity_file(text);
            break;
    }
    return 0;
}
