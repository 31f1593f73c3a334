// Inclusion and consistency proofs as the CLI reads them from the gateway or a proof file: the
// JSON "hashes" list (storage::proof_hashes), then RFC 9162 verification with the index and tree
// sizes the input gives. A proof is checked against a real tree of the sizes it names, so that
// a verifier that accepts what it should not is caught, not only one that crashes.
#include <fuzzer/FuzzedDataProvider.h>

#include "crypto/crypto.h"
#include "crypto/tlog.h"
#include "storage/audit_export.h"

using namespace serambi;
using namespace serambi::crypto;

namespace {
// The root of leaves 0..n-1, each leaf the hash of its index: what an honest log would sign.
tlog::Hash root_of(std::uint64_t n) {
    tlog::TreeBuilder tree;
    for (std::uint64_t i = 0; i < n; ++i) tree.add(tlog::leaf_hash(as_bytes(std::to_string(i))));
    return tree.root();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const bool small = in.ConsumeBool();  // small trees are built for real; large ones test the bounds
    const auto a = small ? in.ConsumeIntegralInRange<std::uint64_t>(0, 64) : in.ConsumeIntegral<std::uint64_t>();
    const auto b = small ? in.ConsumeIntegralInRange<std::uint64_t>(0, 64) : in.ConsumeIntegral<std::uint64_t>();
    const bool inclusion = in.ConsumeBool();
    auto hashes = storage::proof_hashes(in.ConsumeRemainingBytesAsString());
    if (!hashes) return 0;
    tlog::Hash fake{};
    if (inclusion) {
        const auto leaf = tlog::leaf_hash(as_bytes(std::to_string(a)));
        const bool ok = tlog::verify_inclusion(a, b, leaf, *hashes, small ? root_of(b) : fake);
        // A leaf outside the tree is never proven in it, whatever the path.
        if (ok && a >= b) __builtin_trap();
    } else {
        const bool ok = tlog::verify_consistency(a, b, small ? root_of(a) : fake, small ? root_of(b) : fake, *hashes);
        if (ok && a > b) __builtin_trap();
    }
    return 0;
}
