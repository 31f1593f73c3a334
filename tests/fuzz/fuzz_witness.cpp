// What a witness reads from anyone on the network: add-checkpoint bodies (witness::Witness), and
// what a verifier reads from a proof file (tlog::parse_proof) or a cosigned note
// (tlog::verify_cosignature). The witness follows the fuzz log key, so inputs built from the
// corpus's signed checkpoints reach the consistency check; it must never cosign a checkpoint that
// does not extend the one it holds, and never answer a status the protocol does not name.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <filesystem>

#include "crypto/tlog.h"
#include "log_key.h"
#include "witness/witness.h"

using namespace serambi;
namespace tlog = crypto::tlog;

namespace {

// The witness's directory, removed when the run ends.
struct ScratchDir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("serambi-fuzz-witness-" + std::to_string(::getpid()));
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

witness::Witness& the_witness() {
    static ScratchDir scratch;
    static std::unique_ptr<witness::Witness> w = [] {
        if (!crypto::initialise()) __builtin_trap();
        const auto& dir = scratch.path;
        std::filesystem::remove_all(dir);
        if (!witness::init({dir, "fuzz.local/witness", "127.0.0.1:7380", {std::string(fuzz::kLogVerifierKey)}}))
            __builtin_trap();
        auto config = witness::load_config(dir / "witness.toml");
        if (!config) __builtin_trap();
        auto opened = witness::Witness::open(*config);
        if (!opened) __builtin_trap();
        return std::move(*opened);
    }();
    return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);

    // A proof file that parses re-formats to the very same bytes: one proof, one spelling.
    if (auto proof = tlog::parse_proof(text); proof && tlog::format_proof(*proof) != text) __builtin_trap();
    (void)tlog::verify_cosignature(text, "fuzz.local/witness+00000000+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

    auto& w = the_witness();
    const auto before = w.cosigned_size("fuzz.local/log");
    const auto answer = w.add_checkpoint(text);
    switch (answer.status) {
        case 200: {
            // Cosigned: the checkpoint it cosigned is at least as large as what it held, and the
            // cosignature verifies over the checkpoint's note.
            const auto blank = text.find("\n\n");
            const auto note = text.substr(blank + 2);
            if (w.cosigned_size("fuzz.local/log") < before) __builtin_trap();
            if (!tlog::verify_cosignature(note + answer.body, w.verifier_key())) __builtin_trap();
            break;
        }
        case 400:
        case 403:
        case 404:
        case 409:
        case 422:
            if (w.cosigned_size("fuzz.local/log") != before) __builtin_trap();  // a refusal changes nothing
            break;
        default:
            __builtin_trap();
    }
    return 0;
}
