// C2SP signed notes and note keys, as the CLI reads a checkpoint and the gateway its log key:
// verify_note() on a note from outside, with the fixed key or with a key from the input (its
// first line), and NoteSigner::from_private() on a signer key file.
#include <cctype>

#include "crypto/crypto.h"
#include "crypto/tlog.h"
#include "log_key.h"

using namespace serambi::crypto;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (!initialise()) __builtin_trap();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 3) {
        case 0:
            if (auto body = tlog::verify_note(text, serambi::fuzz::kLogVerifierKey)) {
                // What verifies is a prefix of the note, ending in a newline.
                if (body->empty() || body->back() != '\n' || !text.starts_with(*body)) __builtin_trap();
            }
            break;
        case 1: {
            const auto nl = text.find('\n');
            const auto key = text.substr(0, nl);
            (void)tlog::verify_note(nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1), key);
            break;
        }
        case 2:
            // One key, one spelling: a key that loads writes itself back the same, but for the
            // case of its hash's hex digits, which Go's note package accepts either way.
            if (auto signer = tlog::NoteSigner::from_private(text)) {
                const auto written = signer->private_text();
                const auto hash_at = std::string_view("PRIVATE+KEY+").size() + signer->name().size() + 1;
                if (written.size() != text.size()) __builtin_trap();
                for (std::size_t i = 0; i < written.size(); ++i)
                    if (written[i] != text[i] && (i < hash_at || i >= hash_at + 8 ||
                                                  std::tolower(static_cast<unsigned char>(text[i])) != written[i]))
                        __builtin_trap();
                if (!tlog::verify_note(signer->sign("x\n"), signer->verifier_key())) __builtin_trap();
            }
            break;
    }
    return 0;
}
