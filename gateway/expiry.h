// Internal to gateway/: when the certificates in use end, read one way for the log's warnings and
// for /metrics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace serambi::storage {
class Store;
}

namespace serambi::gateway {

class RevokedSerials;

// A certificate is renewed while it still can be: warned of from 30 days before its end.
inline constexpr std::int64_t kEndsSoonSeconds = 30 * 86400;
inline bool ends_soon(std::int64_t not_after, std::int64_t now) { return not_after <= now + kEndsSoonSeconds; }

struct CertificateEnd {
    std::string kind;    // gateway, ca, principal
    std::string name;    // tls or signing for the gateway; the common name of a CA; a principal's id
    std::string serial;  // hex; tells apart two CAs of one name
    std::int64_t not_after = 0;
    std::string not_after_text;  // as the certificate or the registry says it
};

// Each certificate of a PEM bundle, named `name` (or, if empty, by its common name). False if none
// could be read.
bool bundle_ends(const std::string& kind, const std::string& name, const std::string& pem_bundle,
                 std::vector<CertificateEnd>& out);

// The principals' certificates that still count: a revoked one no longer matters, whenever it
// would have ended. `revoked_count` learns how many were left out for that. Returns how many
// principals there are.
Result<std::size_t> principal_ends(storage::Store& store, const RevokedSerials& revoked,
                                   std::vector<CertificateEnd>& out, std::size_t* revoked_count = nullptr);

}  // namespace serambi::gateway
