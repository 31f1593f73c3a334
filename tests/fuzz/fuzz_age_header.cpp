// age v1 files through the streaming Decryptor, as `serambi age decrypt` and `serambi pull
// --decrypt-to` read them: the header's lines, stanzas, base64 and MAC, then the payload chunks.
// The first byte sets how the file is cut into update() calls. The identity is fixed, so that
// seeds made for it (corpus/age_header) reach the payload.
#include "crypto/age.h"
#include "crypto/crypto.h"

using namespace serambi::crypto;

// A key made for the fuzz corpus only (its recipient: age1x0dx3lj9wuvlqc0cx0cr60wcag73s38ct5099ashkaukduhk999q9kar4v).
constexpr std::string_view kIdentity = "AGE-SECRET-KEY-1PFZRAF4Q8KNL33FGHUAQJRASS2SMT5TW6G6YEXWHKFGAGE5AYP2QHJHXMQ";

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (!initialise()) __builtin_trap();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto identity = age::Identity::parse(kIdentity).value();
    if (size < 1) return 0;
    const std::size_t step = 1 + std::size_t{data[0]} * 97;
    const age::Identity* ids[] = {&identity};
    age::Decryptor decryptor(ids);
    Bytes plain;
    for (std::size_t at = 1; at < size; at += step) {
        if (!decryptor.update(ByteView(data + at, std::min(step, size - at)), plain)) return 0;
        // Only authenticated chunks come out: never more than was put in.
        if (plain.size() > size) __builtin_trap();
    }
    (void)decryptor.finish(plain);
    return 0;
}
