// Checkpoint bodies (C2SP tlog-checkpoint) as the CLI reads them: parse_checkpoint_body() on the
// input, and the CLI's whole check (storage::verified_checkpoint) on the input signed with the
// fixed log key, so that the parser is reached past the signature. Both must agree.
#include "crypto/crypto.h"
#include "crypto/tlog.h"
#include "log_key.h"
#include "storage/audit_export.h"

using namespace serambi;
using namespace serambi::crypto;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (!initialise()) __builtin_trap();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto signer = tlog::NoteSigner::from_private(fuzz::kLogSignerKey).value();
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto parsed = tlog::parse_checkpoint_body(body);
    if (parsed) {
        // The body written back from what parsed is the input up to its extension lines.
        if (!body.starts_with(tlog::checkpoint_body(*parsed))) __builtin_trap();
    }
    if (body.empty() || body.back() != '\n') return 0;
    const auto checked = storage::verified_checkpoint(signer.sign(body), fuzz::kLogVerifierKey, "fuzz");
    const bool ours = parsed && parsed->origin == signer.name();
    // A note the signer signed over a valid body of its own log is accepted, and only that.
    if (checked.ok() != ours && tlog::verify_note(signer.sign(body), fuzz::kLogVerifierKey)) __builtin_trap();
    if (checked && (checked->size != parsed->size || checked->root != parsed->root)) __builtin_trap();
    return 0;
}
